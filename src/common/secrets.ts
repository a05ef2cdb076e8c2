import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random token of `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Hash of a high-entropy secret (API key, stream key). These are random 256-bit
 * values, so a fast hash is appropriate; a password KDF would only add latency.
 */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretMatches(secret: string, expectedHash: Buffer): boolean {
  const actual = hashSecret(secret);
  return actual.length === expectedHash.length && timingSafeEqual(actual, expectedHash);
}

/** `****abcd`: the only form in which a stored secret is ever shown again. */
export function secretHint(secret: string): string {
  return `****${secret.slice(-4)}`;
}
