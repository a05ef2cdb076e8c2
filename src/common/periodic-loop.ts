import type { Logger } from '@nestjs/common';

/**
 * Runs `tick` again and again, `everyMs` after each run ends (never two at once), until
 * `stop()`; a failing tick is logged and the loop goes on. `tick` may return the delay
 * before the next run (0: more work is waiting). What runs periodically, where and how
 * often is listed in src/ops/periodic-work.ts.
 */
export class PeriodicLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private wokenWhileRunning = false;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly tick: () => Promise<number | void>,
    private readonly log: Logger,
  ) {}

  start(firstDelayMs = this.everyMs): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  /** Runs now (or right after the run in progress) instead of waiting for the period. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wokenWhileRunning = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Stops the loop; resolves once a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick()
        .then(
          (next) => (typeof next === 'number' ? next : this.everyMs),
          (err: Error) => {
            if (!this.stopped) this.log.warn(`${this.name}: ${err.message}`);
            return this.everyMs;
          },
        )
        .then((next) => {
          this.running = null;
          const again = this.wokenWhileRunning;
          this.wokenWhileRunning = false;
          this.schedule(again ? 0 : next);
        });
    }, ms);
  }
}
