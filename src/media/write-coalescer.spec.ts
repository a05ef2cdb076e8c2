import { Writable } from 'node:stream';
import { WriteCoalescer } from './write-coalescer';

/** A Writable that records each call that reached it: one entry per write/writev. */
function recorder(): { out: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { out, calls };
}

/** What a relay does per message: enter the socket's window, then write. */
function put(c: WriteCoalescer, out: Writable, chunk: string | Buffer): void {
  c.enter(out);
  out.write(chunk);
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WriteCoalescer', () => {
  it('hands a window of writes to a socket on as one writev, in order, when the window ends', async () => {
    const c = new WriteCoalescer(20);
    const { out, calls } = recorder();
    for (const s of ['a', 'b', 'c']) put(c, out, s);
    expect(calls).toEqual([]);
    expect(c.pending).toBe(1);
    await tick(60);
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(c.pending).toBe(0);
    put(c, out, 'd');
    await tick(60);
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('shares one window among sockets and flushes one at once on request', async () => {
    const c = new WriteCoalescer(1000);
    const one = recorder();
    const two = recorder();
    put(c, one.out, '1');
    put(c, two.out, '2');
    put(c, one.out, '3');
    expect(c.pending).toBe(2);
    c.flush(one.out);
    await tick(0);
    expect(one.calls).toEqual([['1', '3']]);
    expect(two.calls).toEqual([]);
    c.flush(two.out);
    await tick(0);
    expect(two.calls).toEqual([['2']]);
    expect(c.pending).toBe(0);
  });

  it('writes at once when the window is 0', () => {
    const c = new WriteCoalescer(0);
    const { out, calls } = recorder();
    put(c, out, 'x');
    expect(calls).toEqual([['x']]);
    expect(c.pending).toBe(0);
  });

  it('keeps nested corks of the writer (a message written as several pieces) intact', async () => {
    const c = new WriteCoalescer(20);
    const { out, calls } = recorder();
    c.enter(out);
    out.cork();
    out.write('h');
    out.write('p');
    out.uncork();
    expect(calls).toEqual([]);
    await tick(60);
    expect(calls).toEqual([['h', 'p']]);
  });

  it('calls afterFlush once a window was uncorked, when what a loopback socket was given is written', async () => {
    const net = await import('node:net');
    const server = net.createServer((s) => s.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const seen: number[] = [];
    const c = new WriteCoalescer(20, () => seen.push(socket.writableLength));
    put(c, socket, Buffer.alloc(4096));
    expect(socket.writableLength).toBe(4096); // corked
    await tick(60);
    expect(seen).toEqual([0]);
    socket.destroy();
    await new Promise((r) => server.close(r));
  });
});
