import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export interface BasicCredentials {
  user: string;
  password: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether an Authorization header carries these Basic credentials. Both parts are always
 * compared, as equal-length digests with timingSafeEqual, so the time taken says nothing
 * about which part or how much of it was right.
 */
export function basicAuthMatches(header: string | undefined, expected: BasicCredentials): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  const idx = decoded.indexOf(':');
  const user = idx >= 0 ? decoded.slice(0, idx) : '';
  const password = idx >= 0 ? decoded.slice(idx + 1) : '';
  const userOk = timingSafeEqual(digest(user), digest(expected.user));
  const passwordOk = timingSafeEqual(digest(password), digest(expected.password));
  return idx >= 0 && userOk && passwordOk;
}

/** Express middleware: 401 with a Basic challenge unless the request carries the credentials. */
export function basicAuthMiddleware(
  expected: BasicCredentials,
  realm = 'Castbridge ops',
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (basicAuthMatches(req.headers.authorization, expected)) {
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .set('cache-control', 'no-store')
      .json({
        statusCode: 401,
        error: 'UNAUTHORIZED',
        message: 'ops credentials required',
        details: [],
        requestId: (req as { id?: string }).id ?? '',
      });
  };
}
