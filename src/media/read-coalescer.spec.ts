import * as net from 'node:net';
import { PausableSocket, ReadCoalescer } from './read-coalescer';

function fake(): PausableSocket & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    destroyed: false,
    readableLength: 0,
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReadCoalescer', () => {
  it('pauses a socket after a read and resumes every held socket together when the window ends', async () => {
    const c = new ReadCoalescer(30);
    const a = fake();
    const b = fake();
    c.hold(a);
    c.hold(a); // read again in the same window (what was buffered): still one pause
    c.hold(b);
    expect(a.calls).toEqual(['pause']);
    expect(c.holding).toBe(2);
    await tick(80);
    expect(a.calls).toEqual(['pause', 'resume']);
    expect(b.calls).toEqual(['pause', 'resume']);
    expect(c.holding).toBe(0);
  });

  it('does not resume a socket it was told to forget, or one destroyed meanwhile', async () => {
    const c = new ReadCoalescer(30);
    const gone = fake();
    const destroyed = fake();
    c.hold(gone);
    c.hold(destroyed);
    c.forget(gone);
    (destroyed as { destroyed: boolean }).destroyed = true;
    await tick(80);
    expect(gone.calls).toEqual(['pause']);
    expect(destroyed.calls).toEqual(['pause']);
  });

  it('with a window of 0, never pauses', () => {
    const c = new ReadCoalescer(0);
    const a = fake();
    c.hold(a);
    expect(a.calls).toEqual([]);
  });

  it('batches what a socket receives meanwhile, and lets all that was buffered through at once', async () => {
    const c = new ReadCoalescer(100);
    const reads: Buffer[] = [];
    const at: number[] = [];
    const server = net.createServer((s) => {
      s.on('data', (d: Buffer) => {
        reads.push(d);
        at.push(Date.now());
        c.hold(s);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    client.write('first');
    while (reads.length === 0) await tick(5);
    for (let i = 0; i < 20; i++) {
      client.write(`-${i}`);
      await tick(2);
    }
    await tick(200);
    const text = Buffer.concat(reads).toString();
    expect(text).toBe('first' + Array.from({ length: 20 }, (_, i) => `-${i}`).join(''));
    // Delivered in bursts a window apart (a stream emits buffered chunks one by one, all
    // of them in the same turn), not as 21 wake-ups.
    const bursts = at.filter((t, i) => i === 0 || t - at[i - 1]! > 20).length;
    expect(bursts).toBeLessThanOrEqual(3);
    client.destroy();
    await new Promise((r) => server.close(r));
  });
});
