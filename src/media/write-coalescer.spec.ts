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

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WriteCoalescer', () => {
  it('hands a window of writes to a socket on as one writev, in order, when the window ends', async () => {
    const c = new WriteCoalescer(20);
    const { out, calls } = recorder();
    for (const s of ['a', 'b', 'c']) c.write(out, () => out.write(s));
    expect(calls).toEqual([]);
    expect(c.pending).toBe(1);
    await tick(60);
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(c.pending).toBe(0);
    c.write(out, () => out.write('d'));
    await tick(60);
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('shares one window among sockets and flushes one at once on request', async () => {
    const c = new WriteCoalescer(1000);
    const one = recorder();
    const two = recorder();
    c.write(one.out, () => one.out.write('1'));
    c.write(two.out, () => two.out.write('2'));
    c.write(one.out, () => one.out.write('3'));
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
    c.write(out, () => out.write('x'));
    expect(calls).toEqual([['x']]);
    expect(c.pending).toBe(0);
  });

  it('keeps nested corks of the writer (a message written as several pieces) intact', async () => {
    const c = new WriteCoalescer(20);
    const { out, calls } = recorder();
    c.write(out, () => {
      out.cork();
      out.write('h');
      out.write('p');
      out.uncork();
    });
    expect(calls).toEqual([]);
    await tick(60);
    expect(calls).toEqual([['h', 'p']]);
  });
});
