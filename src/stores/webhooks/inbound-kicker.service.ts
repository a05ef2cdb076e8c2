import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppError, ErrorCode } from '../../common/errors';
import { JOBS, QueueName } from '../../queues/queue-registry';

/** A webhook waits at most this long for Redis before answering 503. */
export const KICK_TIMEOUT_MS = 1000;

/**
 * Wakes the appliers after inbound events are committed. One `catalog.apply-inbound` job
 * drains every pending event, so concurrent webhooks share jobs: while one enqueue is in
 * flight, callers wait for the next one, which starts after it (so it is enqueued after
 * their rows were committed). A few jobs per Redis round trip, however many webhooks.
 */
@Injectable()
export class InboundKicker {
  private inFlight: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(@InjectQueue(QueueName.InboundEvents) private readonly queue: Queue) {}

  kick(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.enqueue().finally(() => (this.inFlight = null));
      return this.inFlight;
    }
    if (!this.next) {
      const after = this.inFlight.catch(() => undefined);
      this.next = after.then(() => {
        this.next = null;
        return this.kick();
      });
    }
    return this.next;
  }

  private async enqueue(): Promise<void> {
    const client = await this.queue.client;
    // Known to be down: answer at once instead of waiting for the timeout.
    if (['reconnecting', 'close', 'end'].includes(client.status)) {
      throw new AppError(ErrorCode.ServiceUnavailable, 'queue unavailable; retry later');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError(ErrorCode.ServiceUnavailable, 'queue unavailable; retry later')),
        KICK_TIMEOUT_MS,
      );
    });
    try {
      const def = JOBS['catalog.apply-inbound'];
      await Promise.race([
        this.queue.add('catalog.apply-inbound', { trigger: 'webhook' }, def.options),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
