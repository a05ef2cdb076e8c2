import type { Queue } from 'bullmq';
import { InboundKicker } from './inbound-kicker.service';

function fakeQueue(status = 'ready') {
  const adds: Array<() => void> = [];
  const queue = {
    client: Promise.resolve({ status }),
    add: jest.fn(() => new Promise<void>((resolve) => adds.push(resolve))),
  };
  return { queue: queue as unknown as Queue & { add: jest.Mock }, adds };
}

const tick = () => new Promise((r) => setTimeout(r, 30));

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
    adds[0]();
    await a;
    await tick();
    // b and c were promised an enqueue that starts after theirs was asked for.
    expect(queue.add).toHaveBeenCalledTimes(2);
    adds[1]();
    await Promise.all([b, c]);
  });

  it('fails at once when Redis is known to be down', async () => {
    const { queue } = fakeQueue('reconnecting');
    await expect(new InboundKicker(queue).kick()).rejects.toThrow('queue unavailable');
    expect(queue.add).not.toHaveBeenCalled();
  });
});
