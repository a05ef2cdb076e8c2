import { Processor } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobMetrics } from './job-metrics';
import { QueueName } from './queue-registry';
import { JobHandlers, TypedProcessor } from './typed-processor';
import { workerOptions } from './worker-options';

const seen: Array<{ data: unknown; signal: AbortSignal }> = [];

@Processor(QueueName.Maintenance, workerOptions())
class GoodProcessor extends TypedProcessor<QueueName.Maintenance> {
  protected readonly queueName = QueueName.Maintenance;
  protected readonly handlers: JobHandlers<QueueName.Maintenance> = {
    'maintenance.prune-outbox': async (data, _job, signal) => {
      seen.push({ data, signal });
      if (data.olderThanDays === 13) throw new Error('boom rtmp://h/app/live_SECRET');
      return 'ok';
    },
  };
}

@Processor(QueueName.Maintenance)
class NoOptionsProcessor extends TypedProcessor<QueueName.Maintenance> {
  protected readonly queueName = QueueName.Maintenance;
  protected readonly handlers: JobHandlers<QueueName.Maintenance> = {
    'maintenance.prune-outbox': async () => 'ok',
  };
}

const job = (data: unknown) =>
  ({
    name: 'maintenance.prune-outbox',
    data,
    opts: { attempts: 3 },
    attemptsMade: 0,
    log: jest.fn(async () => 1),
  }) as unknown as Job;

describe('TypedProcessor', () => {
  it('refuses a processor declared without workerOptions()', () => {
    expect(() => new GoodProcessor().onModuleInit()).not.toThrow();
    expect(() => new NoOptionsProcessor().onModuleInit()).toThrow('workerOptions()');
  });

  it('passes the checked payload and the job signal, and records the duration', async () => {
    const p = new GoodProcessor();
    const metrics: JobMetrics = { jobFinished: jest.fn() };
    Object.assign(p, { jobMetrics: metrics });
    const signal = new AbortController().signal;
    await expect(p.process(job({ olderThanDays: 3 }), 'token', signal)).resolves.toBe('ok');
    expect(seen.at(-1)).toEqual({ data: { olderThanDays: 3 }, signal });
    expect(metrics.jobFinished).toHaveBeenCalledWith(
      'maintenance',
      'maintenance.prune-outbox',
      'completed',
      expect.any(Number),
    );
    expect(GoodProcessor.prototype.process.length).toBe(3); // BullMQ gives a signal only then
  });

  it('logs a failure once, with secrets redacted', async () => {
    const p = new GoodProcessor();
    const warn = jest.spyOn(p['logger'], 'warn').mockImplementation(() => undefined);
    const failing = job({ olderThanDays: 13 });
    const err = (await p.process(failing, 't').catch((e) => e)) as Error;
    // The job's own log (the dashboard shows it) gets the redacted message.
    expect(failing.log).toHaveBeenCalledWith('attempt 1/3 failed: boom rtmp://h/app/[redacted]');
    // What BullMQ stores on the job (and the dashboard shows) is redacted too.
    expect(err.message).toBe('boom rtmp://h/app/[redacted]');
    expect(err.stack).not.toContain('live_SECRET');
    expect(warn).toHaveBeenCalledTimes(1);
    const line = JSON.stringify(warn.mock.calls[0][0]);
    expect(line).toContain('"msg":"job failed"');
    expect(line).toContain('"willRetry":true');
    expect(line).not.toContain('live_SECRET');
  });
});
