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

describe('store sync jobs are not doubled per connection (api role: nothing takes them)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('keeps one waiting import and one waiting reconciliation per connection', async () => {
    const jobs = t.app.get(JobQueue);
    const queue = t.app.get<Queue>(getQueueToken(QueueName.CatalogSync));
    const a = '6f0c2f4e-2a4b-4c3d-9e8f-0a1b2c3d4e5f';
    const b = '7a1d3e5f-3b5c-4d4e-8f9a-1b2c3d4e5f60';
    const firstImport = await jobs.add('catalog.import', { storeConnectionId: a });
    expect(await jobs.add('catalog.import', { storeConnectionId: a })).toBe(firstImport);
    const firstReconcile = await jobs.add('catalog.reconcile', { storeConnectionId: a });
    expect(await jobs.add('catalog.reconcile', { storeConnectionId: a })).toBe(firstReconcile);
    await jobs.add('catalog.import', { storeConnectionId: b });
    await jobs.add('catalog.reconcile', { storeConnectionId: b });
    const waiting = await queue.getWaiting();
    expect(waiting.map((j) => `${j.name} ${j.data.storeConnectionId}`).sort()).toEqual([
      `catalog.import ${a}`,
      `catalog.import ${b}`,
      `catalog.reconcile ${a}`,
      `catalog.reconcile ${b}`,
    ]);
  });
});
