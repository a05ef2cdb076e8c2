import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppError, ErrorCode } from '../../common/errors';
import { JOBS, QueueName } from '../../queues/queue-registry';

/** A webhook waits at most this long for Redis before answering 503. */
export const KICK_TIMEOUT_MS = 1000;

/** At most one wake-up job per this interval per process (each job drains everything). */
export const KICK_MIN_INTERVAL_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Wakes the appliers after inbound events are committed. One `catalog.apply-inbound` job
 * drains every pending event, so webhooks share jobs: a caller joins the next enqueue that
 * has not started yet (it starts after the caller's row was committed, so it covers it).
 * Enqueues run one at a time, at least KICK_MIN_INTERVAL_MS apart: however many webhooks
 * arrive, the workers see at most ~100 jobs/s per api process, each applying a batch.
 */
@Injectable()
export class InboundKicker {
  /** Resolves when the next enqueue may start. */
  private gate: Promise<void> = Promise.resolve();
  /** The next enqueue, not started yet, shared by every caller until it starts. */
  private pending: Promise<void> | null = null;

  constructor(@InjectQueue(QueueName.InboundEvents) private readonly queue: Queue) {}

  kick(): Promise<void> {
    if (this.pending) return this.pending;
    const next = this.gate.then(() => {
      this.pending = null;
      return this.enqueue();
    });
    this.pending = next;
    this.gate = next.catch(() => undefined).then(() => sleep(KICK_MIN_INTERVAL_MS));
    return next;
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
