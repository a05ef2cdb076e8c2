import type { Queue } from 'bullmq';
import { InboundKicker, KICK_TIMEOUT_MS } from './inbound-kicker.service';

function fakeQueue(status = 'ready') {
  const adds: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const client = { status };
  const queue = {
    client: Promise.resolve(client),
    add: jest.fn(() => new Promise<void>((resolve, reject) => adds.push({ resolve, reject }))),
  };
  return { queue: queue as unknown as Queue & { add: jest.Mock }, adds, client };
}

const tick = () => new Promise((r) => setTimeout(r, 30));
/** Whether `p` has settled by now. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('InboundKicker', () => {
  it('coalesces concurrent kicks; a kick during an enqueue gets the next one', async () => {
    const { queue, adds } = fakeQueue();
    const k = new InboundKicker(queue);
    const a = k.kick();
    await tick();
    const b = k.kick();
    const c = k.kick();
    await tick();
    expect(queue.add).toHaveBeenCalledTimes(1);
    adds[0].resolve();
    await a;
    await tick();
    // b and c were promised an enqueue that starts after theirs was asked for.
    expect(queue.add).toHaveBeenCalledTimes(2);
    adds[1].resolve();
    await Promise.all([b, c]);
  });

  it('waits for the first wake-up; once Redis is known to answer, callers do not wait', async () => {
    const { queue, adds } = fakeQueue();
    const k = new InboundKicker(queue);
    const first = k.kick();
    await tick();
    expect(await settled(first)).toBe(false); // not known yet: waits for its wake-up
    adds[0].resolve();
    await first;
    await tick();
    const later = k.kick();
    expect(await settled(later)).toBe(true); // known good: answered at once…
    await tick();
    expect(queue.add).toHaveBeenCalledTimes(2); // …and its wake-up still goes out
    adds[1].resolve();
  });

  it('fails at once when Redis is known to be down', async () => {
    const { queue } = fakeQueue('reconnecting');
    await expect(new InboundKicker(queue).kick()).rejects.toThrow('queue unavailable');
    expect(queue.add).not.toHaveBeenCalled();
  });

  it('after a wake-up times out, callers wait again (503) until one goes through', async () => {
    const { queue, adds } = fakeQueue();
    const k = new InboundKicker(queue);
    const first = k.kick();
    await tick();
    adds[0].resolve();
    await first;
    await tick();
    // Redis stops answering without closing the connection: this caller is not held…
    await k.kick();
    // …but its wake-up times out, and from then on callers wait for theirs.
    await new Promise((r) => setTimeout(r, KICK_TIMEOUT_MS + 100));
    const held = k.kick();
    await expect(held).rejects.toThrow('queue unavailable');
    expect(adds).toHaveLength(3);
    const recovering = k.kick();
    await tick();
    expect(await settled(recovering)).toBe(false);
    adds[3].resolve();
    await recovering;
    await tick();
    expect(await settled(k.kick())).toBe(true);
    await tick();
    adds[4].resolve();
  }, 10_000);
});
