import * as net from 'node:net';
import { isSharedReadBuffer, readIntoSharedBuffer } from './shared-read';

/** A server whose sockets read into the shared buffer; what each one received, in order. */
async function serve(): Promise<{
  port: number;
  got: Map<number, Buffer[]>;
  sockets: net.Socket[];
  shared: boolean[];
  close: () => Promise<void>;
}> {
  const got = new Map<number, Buffer[]>();
  const sockets: net.Socket[] = [];
  const shared: boolean[] = [];
  const server = net.createServer((s) => {
    const id = sockets.push(s) - 1;
    got.set(id, []);
    s.on('data', (d: Buffer) => {
      shared.push(isSharedReadBuffer(d));
      got.get(id)!.push(Buffer.from(d)); // a copy: the view is valid only now
    });
    expect(readIntoSharedBuffer(s)).toBe(true);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    got,
    sockets,
    shared,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c));
  });
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('readIntoSharedBuffer', () => {
  it("delivers each connection's bytes, in order and whole, from one buffer shared by all", async () => {
    const srv = await serve();
    const a = await connect(srv.port);
    const b = await connect(srv.port);
    const bodyA = Buffer.alloc(300_000, 0xa1);
    const bodyB = Buffer.alloc(200_000, 0xb2);
    for (let i = 0; i < bodyA.length; i += 7919) bodyA[i] = i & 0xff;
    a.write(bodyA);
    b.write(bodyB);
    const total = (id: number) => (srv.got.get(id) ?? []).reduce((n, d) => n + d.length, 0);
    await until(() => total(0) === bodyA.length && total(1) === bodyB.length);
    expect(Buffer.concat(srv.got.get(0)!)).toEqual(bodyA);
    expect(Buffer.concat(srv.got.get(1)!)).toEqual(bodyB);
    expect(srv.shared.every(Boolean)).toBe(true);
    a.destroy();
    b.destroy();
    await srv.close();
  });

  it('pauses and resumes, and still reports the end and the close of the connection', async () => {
    const srv = await serve();
    const client = await connect(srv.port);
    await until(() => srv.sockets.length === 1);
    const s = srv.sockets[0]!;
    s.pause();
    client.write('held');
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.got.get(0)).toEqual([]);
    s.resume();
    await until(() => srv.got.get(0)!.length > 0);
    expect(Buffer.concat(srv.got.get(0)!).toString()).toBe('held');
    const ended = new Promise((r) => s.once('end', r));
    const closed = new Promise((r) => s.once('close', r));
    client.end();
    await ended;
    s.end();
    await closed;
    await srv.close();
  });
});
