import { WorkerHost } from '@nestjs/bullmq';
import {
  BeforeApplicationShutdown,
  Inject,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { redactText } from '../common/redact';
import { JOB_METRICS, type JobMetrics, type JobOutcome } from './job-metrics';
import { isJobName, JOBS, JobName, JobPayloads, jobsOf, JobsIn, QueueName } from './queue-registry';

/**
 * A job handler gets its checked payload, the job, and a signal that aborts when the
 * worker closes (shutdown). A long-running handler must watch the signal and stop by
 * throwing (e.g. `signal.throwIfAborted()`): the job is then put back on its queue,
 * without using up an attempt, for another worker to resume. Jobs are idempotent.
 */
export type JobHandlers<Q extends QueueName> = {
  [N in JobsIn<Q>]: (data: JobPayloads[N], job: Job, signal: AbortSignal) => Promise<unknown>;
};

/** Where @nestjs/bullmq's @Processor keeps its worker options (bull.constants). */
const WORKER_METADATA = 'bullmq:worker_metadata';

/** Queues that have a processor in this process (checked at worker start). */
export const PROCESSED_QUEUES = new Set<QueueName>();

/**
 * How long a handler may take to stop after its signal aborted, before the job is put
 * back anyway and the handler left behind (well inside main.ts's 30 s shutdown deadline).
 */
export const ABORT_GRACE_MS = 10_000;

/** Thrown into a job whose handler was stopped by shutdown. */
export class WorkerClosingError extends Error {
  constructor() {
    super('worker is closing');
    this.name = 'WorkerClosingError';
  }
}

/**
 * Base class of every BullMQ processor: routes a job to the handler of its name, checks
 * its payload as it comes off the queue, passes an AbortSignal that fires on shutdown,
 * records job durations, and logs failures with secrets redacted.
 *
 * Declare subclasses with `@Processor(QueueName.X, workerOptions())` (worker-options.ts).
 */
export abstract class TypedProcessor<Q extends QueueName>
  extends WorkerHost
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly queueName: Q;
  protected abstract readonly handlers: JobHandlers<Q>;
  protected readonly logger = new Logger(this.constructor.name);

  @Optional()
  @Inject(JOB_METRICS)
  private readonly jobMetrics?: JobMetrics;

  private closing = false;

  onModuleInit(): void {
    const missing = jobsOf(this.queueName).filter(
      (n) => typeof (this.handlers as Record<string, unknown>)[n] !== 'function',
    );
    if (missing.length) {
      throw new Error(
        `processor of queue "${this.queueName}" has no handler for: ${missing.join(', ')}`,
      );
    }
    const options = Reflect.getMetadata(WORKER_METADATA, this.constructor) as
      { metrics?: unknown } | undefined;
    if (!options?.metrics) {
      throw new Error(
        `processor of queue "${this.queueName}" must be declared with ` +
          `@Processor(QueueName.X, workerOptions()) (src/queues/worker-options.ts)`,
      );
    }
    PROCESSED_QUEUES.add(this.queueName);
  }

  onApplicationBootstrap(): void {
    // The worker exists once @nestjs/bullmq's explorer has run (module init).
    this.worker.on('closing', () => this.abortAll());
  }

  /**
   * Shutdown, first step: stop running jobs and close the worker while Postgres and Redis
   * are still open (they close in onApplicationShutdown, after this hook).
   */
  async beforeApplicationShutdown(): Promise<void> {
    let worker: Worker;
    try {
      worker = this.worker;
    } catch {
      return; // never started (start-up failed before the explorer ran)
    }
    this.abortAll();
    this.logger.debug(`closing worker of queue "${this.queueName}"`);
    await worker.close();
    this.logger.debug(`worker of queue "${this.queueName}" closed`);
  }

  /** Aborts the signal of every job this worker is running. */
  protected abortAll(): void {
    if (this.closing) return;
    this.closing = true;
    this.worker.cancelAllJobs('worker closing');
  }

  /**
   * Called by BullMQ. The third parameter must stay declared: BullMQ creates a signal per
   * job only for processors that take three arguments.
   */
  async process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    const started = process.hrtime.bigint();
    const jobName = isJobName(job.name) ? job.name : 'unknown';
    const observe = (outcome: JobOutcome) =>
      this.jobMetrics?.jobFinished(
        this.queueName,
        jobName,
        outcome,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    const jobSignal = signal ?? new AbortController().signal;
    if (this.closing && token) {
      // A closing worker can still be handed a job (e.g. one just put back by this very
      // worker): give it straight back instead of starting work nobody will stop.
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    try {
      const result = await this.run(job, jobSignal);
      observe('completed');
      return result;
    } catch (err) {
      if (this.closing && jobSignal.aborted && token && !(err instanceof UnrecoverableError)) {
        // Stopped by shutdown: back to the queue at once, without using up an attempt.
        observe('interrupted');
        this.logger.warn({
          msg: 'job interrupted by shutdown; put back on its queue',
          queue: this.queueName,
          job: jobName,
          jobId: job.id,
        });
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      observe('failed');
      this.logFailure(job, jobName, err);
      // BullMQ stores the message and stack on the job (and the dashboard shows them).
      throw redactError(err);
    }
  }

  private async run(job: Job, signal: AbortSignal): Promise<unknown> {
    if (!isJobName(job.name) || JOBS[job.name].queue !== this.queueName) {
      throw new UnrecoverableError(`unknown job "${job.name}" on queue "${this.queueName}"`);
    }
    const name = job.name as JobName & JobsIn<Q>;
    const data = JOBS[name].parse(job.data);
    const handler = this.handlers[name] as (d: unknown, j: Job, s: AbortSignal) => Promise<unknown>;
    const running = handler(data, job, signal);
    // A handler that ignores its signal is left behind after a grace period, so that
    // shutdown is never held up by it.
    return Promise.race([running, abandonAfterAbort(signal, ABORT_GRACE_MS)]);
  }

  private logFailure(job: Job, jobName: string, err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const attempts = job.opts.attempts ?? 1;
    const willRetry = !(e instanceof UnrecoverableError) && job.attemptsMade + 1 < attempts;
    this.logger.warn({
      msg: 'job failed',
      queue: this.queueName,
      job: jobName,
      jobId: job.id,
      attempt: job.attemptsMade + 1,
      attempts,
      willRetry,
      error: { name: e.name, message: redactText(e.message) },
    });
    // The job's own log (shown by the dashboard), redacted like the process log.
    void job
      .log(`attempt ${job.attemptsMade + 1}/${attempts} failed: ${redactText(e.message)}`)
      .catch(() => undefined);
  }
}

/** Never resolves; rejects `graceMs` after the signal aborts. */
function abandonAfterAbort(signal: AbortSignal, graceMs: number): Promise<never> {
  return new Promise((_, reject) => {
    const arm = () => setTimeout(() => reject(new WorkerClosingError()), graceMs).unref();
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
  });
}

/** The same error (class kept, so BullMQ still sees an UnrecoverableError) with secrets redacted. */
function redactError(err: unknown): unknown {
  if (!(err instanceof Error)) return new Error(redactText(String(err)));
  err.message = redactText(err.message);
  if (err.stack) err.stack = redactText(err.stack);
  return err;
}
