import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue, RedisClient } from 'bullmq';
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
 *
 * The caller's row is already committed, and the applier's sweep (every 15 s) applies
 * whatever no wake-up covered; the wake-up only makes it prompt. So while Redis is known
 * to answer (connected, and the last wake-up went through) a caller does not wait for its
 * wake-up. When that is in doubt, it waits, and gets a 503 if the wake-up fails: while
 * Redis is unavailable the store is told to retry.
 */
@Injectable()
export class InboundKicker {
  private readonly logger = new Logger('InboundKicker');
  /** Resolves when the next enqueue may start. */
  private gate: Promise<void> = Promise.resolve();
  /** The next enqueue, not started yet, shared by every caller until it starts. */
  private pending: Promise<void> | null = null;
  private client: RedisClient | null = null;
  /** The last wake-up failed and none has gone through since. */
  private failing = false;

  constructor(@InjectQueue(QueueName.InboundEvents) private readonly queue: Queue) {}

  /**
   * Asks for a wake-up. Resolves at once while Redis is known to answer, else once the
   * wake-up went through; rejects (503) when it did not.
   */
  async kick(): Promise<void> {
    const wake = this.wake();
    if (this.client?.status === 'ready' && !this.failing) {
      wake.catch(() => undefined); // a failure is logged, and the next caller waits
      return;
    }
    await wake;
  }

  private wake(): Promise<void> {
    if (this.pending) return this.pending;
    const next = this.gate.then(() => {
      this.pending = null;
      return this.enqueue();
    });
    this.pending = next;
    this.gate = next
      .then(
        () => {
          if (this.failing) this.logger.log('inbound applier wake-ups go through again');
          this.failing = false;
        },
        (err: unknown) => {
          if (!this.failing) {
            const why = err instanceof AppError ? err.message : 'enqueue failed';
            this.logger.warn(`inbound applier wake-up failed (${why}); webhooks wait for Redis`);
          }
          this.failing = true;
        },
      )
      .then(() => sleep(KICK_MIN_INTERVAL_MS));
    return next;
  }

  private async enqueue(): Promise<void> {
    const unavailable = () =>
      new AppError(ErrorCode.ServiceUnavailable, 'queue unavailable; retry later');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable()), KICK_TIMEOUT_MS);
    });
    const add = async () => {
      const client = (this.client ??= await this.queue.client);
      // Known to be down: answer at once instead of waiting for the timeout.
      if (['reconnecting', 'close', 'end'].includes(client.status)) throw unavailable();
      const def = JOBS['catalog.apply-inbound'];
      await this.queue.add('catalog.apply-inbound', { trigger: 'webhook' }, def.options);
    };
    try {
      await Promise.race([add(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
