import type { IncomingMessage, ServerResponse } from 'node:http';

type RawRequest = IncomingMessage & { body?: unknown; _body?: boolean };

/**
 * Keeps an inbound webhook's body as the exact bytes received (signatures are over the raw
 * body), up to `limit` bytes: larger is refused with body-parser's own 413 error shape, so
 * the usual error translation answers it. Mounted before the JSON parser, which then skips
 * the request (`_body` is body-parser's "already parsed" mark).
 */
export function rawBodyCapture(limit: number) {
  return (req: RawRequest, _res: ServerResponse, next: (err?: unknown) => void): void => {
    if (req.method !== 'POST' || req._body) return next();
    const tooLarge = () =>
      Object.assign(new Error('request entity too large'), {
        type: 'entity.too.large',
        status: 413,
        expose: true,
      });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume(); // drain, so the 413 can be written on a healthy connection
      return next(tooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) return next(err);
      req.body = Buffer.concat(chunks, size);
      req._body = true;
      next();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.resume();
        return finish(tooLarge());
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(err);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  };
}
