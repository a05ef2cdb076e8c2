import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../common/secret-box';
import {
  buyerEmailIndexes,
  normalizeEmail,
  openBuyer,
  scrubBuyer,
  sealBuyer,
  type BuyerRecord,
} from './buyer-record';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const ORDER = '7d4cbb5e-0d65-4b55-9d3c-2f8e6f2f1a10';
const OTHER = '0a4cbb5e-0d65-4b55-9d3c-2f8e6f2f1a11';
const BUYER: BuyerRecord = {
  email: 'Grace.Hopper@Example.com',
  name: 'Grace Hopper',
  phone: '+1 555 0100',
  shippingAddress: { address1: '1 Navy Yard', city: 'Arlington', zip: '22202', country: 'US' },
  billingAddress: { address1: '2 Bill St', city: 'Boston', country: 'US' },
};

describe('buyer record sealing', () => {
  it('seals every field (none in clear) and opens it again for its own order only', () => {
    const box = new SecretBox([k1]);
    const s = sealBuyer(box, ORDER, BUYER);
    for (const v of ['Grace', 'Hopper', '555', 'Navy', 'Arlington', 'Boston', 'example']) {
      expect(s.sealed).not.toContain(v);
      expect(Buffer.from(s.sealed, 'base64').toString('latin1')).not.toContain(v);
    }
    expect(openBuyer(box, ORDER, s)).toEqual(BUYER);
    // Bound to its order: a ciphertext copied to another row does not open.
    expect(() => openBuyer(box, OTHER, s)).toThrow();
  });

  it('indexes the normalized email under a key derived from the sealing key', () => {
    const box = new SecretBox([k1]);
    const s = sealBuyer(box, ORDER, BUYER);
    expect(s.emailIndex).toHaveLength(32);
    expect(normalizeEmail('  Grace.Hopper@EXAMPLE.com ')).toBe('grace.hopper@example.com');
    expect(buyerEmailIndexes(box, ' grace.hopper@example.COM')[0].equals(s.emailIndex)).toBe(true);
    expect(buyerEmailIndexes(box, 'grace@example.com')[0].equals(s.emailIndex)).toBe(false);
    // Not a plain hash of the email, nor the HMAC under the encryption key itself.
    expect(s.emailIndex.toString('hex')).not.toContain(
      Buffer.from('grace.hopper@example.com').toString('hex').slice(0, 16),
    );
  });

  it('during a rotation a lookup finds rows indexed under the old key and the new one', () => {
    const old = sealBuyer(new SecretBox([k1]), ORDER, BUYER);
    const rotated = new SecretBox([k2, k1]);
    const fresh = sealBuyer(rotated, OTHER, BUYER);
    expect(fresh.keyId).toBe('k2');
    expect(fresh.emailIndex.equals(old.emailIndex)).toBe(false);
    const indexes = buyerEmailIndexes(rotated, BUYER.email);
    expect(indexes.some((i) => i.equals(old.emailIndex))).toBe(true);
    expect(indexes.some((i) => i.equals(fresh.emailIndex))).toBe(true);
    expect(openBuyer(rotated, ORDER, old)).toEqual(BUYER);
  });

  it('scrubs every personal value from a text, whatever its case', () => {
    const text =
      'refused: grace.hopper@example.com / GRACE HOPPER / +1 555 0100 / 1 navy yard, Arlington 22202 (US)';
    const out = scrubBuyer(text, BUYER);
    for (const v of ['grace', 'hopper', '555', 'navy', 'arlington', '22202']) {
      expect(out.toLowerCase()).not.toContain(v);
    }
    expect(out).toContain('refused:');
    expect(scrubBuyer('x', null)).toBe('x');
  });
});
