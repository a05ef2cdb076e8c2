import type { IncomingHttpHeaders } from 'node:http';

/** The token of `Authorization: Bearer <token>`, or null (the auth guards and the rate limit). */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return m ? m[1] : null;
}
