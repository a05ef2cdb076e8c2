import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue, QueueEvents } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobQueue } from '../../src/queues/job-queue.service';
import { QueueName } from '../../src/queues/queue-registry';
import { redisOptions } from '../../src/queues/redis-options';
import { startTestApp, TestApp } from '../support/test-app';

describe('typed job registry on real Redis (worker role)', () => {
  let t: TestApp;
  let events: QueueEvents;

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'worker' });
    events = new QueueEvents(QueueName.Maintenance, {
      connection: redisOptions(t.config.redisUrl),
      prefix: t.config.queuePrefix,
    });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events.close();
    await t.close();
  });

  it('runs a job end to end: enqueue → worker → Postgres', async () => {
    const db = t.app.get<DataSource>(getDataSourceToken());
    const [partner] = await db.query(`INSERT INTO partners (name) VALUES ('p') RETURNING id`);
    await db.query(
      `INSERT INTO outbox_events (partner_id, type, data, dispatched_at) VALUES
        ($1, 'session.started', '{}', now() - interval '40 days'),
        ($1, 'session.ended', '{}', now() - interval '1 day'),
        ($1, 'session.ended', '{}', NULL)`,
      [partner.id],
    );
    const jobs = t.app.get(JobQueue);
    const id = await jobs.add('maintenance.prune-outbox', { olderThanDays: 30 });
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const job = await queue.getJob(id);
    const result = await job!.waitUntilFinished(events, 15_000);
    expect(result).toEqual({ deleted: 1 });
    const [{ count }] = await db.query('SELECT count(*)::int AS count FROM outbox_events');
    expect(count).toBe(2);
  });

  it('refuses a malformed payload on the way in', async () => {
    const jobs = t.app.get(JobQueue);
    await expect(
      jobs.add('maintenance.prune-outbox', { olderThanDays: -1 } as { olderThanDays: number }),
    ).rejects.toThrow('olderThanDays');
  });

  it('fails a malformed job for good instead of retrying it', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const job = await queue.add(
      'maintenance.prune-outbox',
      { olderThanDays: 'soon' },
      { attempts: 5 },
    );
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow('olderThanDays');
    const failed = await queue.getJob(job.id!);
    expect(failed!.attemptsMade).toBe(1);
  });

  it('schedules the daily prune once, however many workers start', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toEqual(['prune-outbox-daily']);
  });
});
