import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { requestId } from './logging';

function pair(header?: string) {
  const req = new IncomingMessage(new Socket());
  if (header !== undefined) req.headers['x-request-id'] = header;
  const res = new ServerResponse(req);
  return { req, res };
}

describe('requestId', () => {
  it('keeps a well-formed incoming id and echoes it', () => {
    const { req, res } = pair('abc-123');
    expect(requestId(req, res)).toBe('abc-123');
    expect(res.getHeader('x-request-id')).toBe('abc-123');
  });
  it('replaces a malformed one (log injection) with a fresh uuid', () => {
    const { req, res } = pair('evil\nline');
    const id = requestId(req, res);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.getHeader('x-request-id')).toBe(id);
  });
  it('is stable for one request', () => {
    const { req, res } = pair();
    expect(requestId(req, res)).toBe(requestId(req, res));
  });
});
