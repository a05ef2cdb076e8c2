import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../../config/env.schema';

/** What an encrypted column holds: the key id travels with the ciphertext. */
export interface SealedSecret {
  keyId: string;
  /** base64(iv | tag | ciphertext) */
  sealed: string;
}

/**
 * AES-256-GCM for secrets kept at rest (destination stream keys, OAuth tokens,
 * webhook secrets). The first key encrypts; any configured key decrypts, so keys
 * can rotate. `aad` binds a ciphertext to its row (e.g. `destination:<id>`).
 */
export class SecretBox {
  /** Derived blind-index keys, by key id and purpose. */
  private readonly derived = new Map<string, Buffer>();

  constructor(private readonly keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: id, sealed: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64') };
  }

  open(secret: SealedSecret, aad: string): string {
    const entry = this.keys.find((k) => k.id === secret.keyId);
    if (!entry) throw new Error(`no encryption key with id "${secret.keyId}" is configured`);
    const raw = Buffer.from(secret.sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', entry.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Ids of the configured keys, the encrypting one first. */
  keyIds(): string[] {
    return this.keys.map((k) => k.id);
  }

  /** The id of the key that seals now (the first of ENCRYPTION_KEYS). */
  currentKeyId(): string {
    return this.keys[0].id;
  }

  hasKey(keyId: string): boolean {
    return this.keys.some((k) => k.id === keyId);
  }

  /**
   * A keyed hash of `value` (HMAC-SHA256) under a key derived (HKDF-SHA256) from one
   * encryption key for one `purpose`, never the encryption key itself: a blind index
   * that finds rows by a value without storing or decrypting it. The first key by
   * default; `keyId` for the value under an older key (lookups during a rotation).
   */
  blindIndex(purpose: string, value: string, keyId = this.keys[0].id): Buffer {
    const cacheKey = `${keyId}\u0000${purpose}`;
    let derived = this.derived.get(cacheKey);
    if (!derived) {
      const entry = this.keys.find((k) => k.id === keyId);
      if (!entry) throw new Error(`no encryption key with id "${keyId}" is configured`);
      derived = Buffer.from(hkdfSync('sha256', entry.key, Buffer.alloc(0), purpose, 32));
      this.derived.set(cacheKey, derived);
    }
    return createHmac('sha256', derived).update(value, 'utf8').digest();
  }

  /** The blind index of `value` under every configured key (a lookup finds rows of any). */
  blindIndexes(purpose: string, value: string): Buffer[] {
    return this.keys.map((k) => this.blindIndex(purpose, value, k.id));
  }

  /** True when the row was sealed with an older key and should be re-sealed. */
  needsRotation(secret: SealedSecret): boolean {
    return secret.keyId !== this.keys[0].id;
  }
}
