import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookHttpClient } from './webhook-http.client';

describe('WebhookHttpClient (a real loopback server)', () => {
  let server: Server;
  let base: string;
  const hits: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/ok': (res) => res.writeHead(204).end(),
    '/redirect': (res) => res.writeHead(302, { location: '/ok' }).end(),
    '/busy': (res) => res.writeHead(503, { 'retry-after': '7' }).end('busy'),
    '/slow': () => undefined, // never answers
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push({ path: req.url ?? '', headers: req.headers, body });
        (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (hits.length = 0));

  const allowed = () => new WebhookHttpClient({ allowPrivateNetworks: true }, 300);
  const req = (path: string) => ({
    url: `${base}${path}`,
    body: '{"a":1}',
    headers: { 'webhook-id': 'msg_1' },
  });

  it('posts the exact body with the given headers as JSON', async () => {
    const res = await allowed().post(req('/ok'));
    expect(res).toMatchObject({ status: 204, error: null, retryAfterMs: null });
    expect(hits).toHaveLength(1);
    expect(hits[0].body).toBe('{"a":1}');
    expect(hits[0].headers['webhook-id']).toBe('msg_1');
    expect(hits[0].headers['content-type']).toBe('application/json');
  });

  it('does not follow redirects', async () => {
    const res = await allowed().post(req('/redirect'));
    expect(res).toMatchObject({ status: 302, error: 'HTTP 302' });
    expect(hits.map((h) => h.path)).toEqual(['/redirect']);
  });

  it('reads Retry-After', async () => {
    const res = await allowed().post(req('/busy'));
    expect(res).toMatchObject({ status: 503, retryAfterMs: 7000 });
  });

  it('times out', async () => {
    const res = await allowed().post(req('/slow'));
    expect(res.status).toBeNull();
    expect(res.error).toBe('timed out');
    expect(res.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('refuses loopback and private addresses unless allowed, before connecting', async () => {
    const guarded = new WebhookHttpClient({ allowPrivateNetworks: false }, 300);
    const port = new URL(base).port;
    for (const url of [`https://127.0.0.1:${port}/ok`, `https://localhost:${port}/ok`]) {
      const res = await guarded.post({ ...req('/ok'), url });
      expect(res.status).toBeNull();
      expect(res.error).toMatch(/^egress refused: .*loopback/);
    }
    expect(hits).toHaveLength(0);
  });

  it('refuses plain http unless private networks are allowed', async () => {
    const guarded = new WebhookHttpClient({ allowPrivateNetworks: false }, 300);
    const res = await guarded.post({ ...req('/ok'), url: 'http://203.0.113.9/hook' });
    expect(res).toMatchObject({
      status: null,
      error: 'egress refused: scheme http is not allowed',
    });
  });
});
