import { SecretBox } from './secret-box';
import { hashSecret, secretHint, secretMatches } from './secrets';

const k1 = { id: 'k1', key: Buffer.alloc(32, 7) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 9) };

describe('SecretBox (AES-256-GCM)', () => {
  it('round-trips and never stores the plaintext', () => {
    const box = new SecretBox([k1]);
    const sealed = box.seal('sk_live_abcdef', 'destination:1');
    expect(sealed.keyId).toBe('k1');
    expect(Buffer.from(sealed.sealed, 'base64').toString('latin1')).not.toContain('sk_live');
    expect(box.open(sealed, 'destination:1')).toBe('sk_live_abcdef');
  });

  it('uses a fresh IV each time', () => {
    const box = new SecretBox([k1]);
    expect(box.seal('x', 'a').sealed).not.toBe(box.seal('x', 'a').sealed);
  });

  it('refuses a ciphertext moved to another row (AAD) or tampered with', () => {
    const box = new SecretBox([k1]);
    const sealed = box.seal('secret', 'destination:1');
    expect(() => box.open(sealed, 'destination:2')).toThrow();
    const raw = Buffer.from(sealed.sealed, 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() =>
      box.open({ keyId: 'k1', sealed: raw.toString('base64') }, 'destination:1'),
    ).toThrow();
  });

  it('decrypts with an older key after rotation and says the row needs re-sealing', () => {
    const old = new SecretBox([k1]).seal('secret', 'row');
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(old, 'row')).toBe('secret');
    expect(rotated.needsRotation(old)).toBe(true);
    expect(rotated.seal('x', 'row').keyId).toBe('k2');
  });

  it('names a missing key id without the key material', () => {
    const sealed = new SecretBox([k1]).seal('secret', 'row');
    expect(() => new SecretBox([k2]).open(sealed, 'row')).toThrow('no encryption key with id "k1"');
  });
});

describe('secret hashing', () => {
  it('matches only the same secret', () => {
    const h = hashSecret('live_abc');
    expect(secretMatches('live_abc', h)).toBe(true);
    expect(secretMatches('live_abd', h)).toBe(false);
  });
  it('hints with the last four characters only', () =>
    expect(secretHint('abcdefgh')).toBe('****efgh'));
});
