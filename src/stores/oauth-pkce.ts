import { createHash, randomBytes } from 'node:crypto';

/**
 * PKCE (RFC 7636) for providers whose OAuth 2.0 flow uses it: a random verifier kept
 * sealed on the connection, and its S256 challenge sent with the authorize request.
 */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function newPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url'); // 43 unreserved characters
  return { verifier, challenge: pkceChallenge(verifier) };
}
