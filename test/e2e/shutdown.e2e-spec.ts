import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { QueueName } from '../../src/queues/queue-registry';
import { redisOptions } from '../../src/queues/redis-options';
import { ROOT, spawnCastbridge, waitFor } from '../support/processes';
import { dropDatabase, flushQueuePrefix, testEnv } from '../support/test-env';

/**
 * SIGTERM while a job runs: the job's signal aborts, its Postgres statement is cancelled,
 * the job goes back to its queue (no attempt used), BullMQ workers close, exit 0 in < 30 s.
 */
describe('graceful shutdown of a worker process', () => {
  const env = testEnv({ ROLES: 'api,worker', LOG_LEVEL: 'info' });
  let queue: Queue;
  let pg: Client;

  beforeAll(() => {
    if (!existsSync(resolve(ROOT, 'dist/src/main.js'))) {
      throw new Error('dist/ is missing: the test command builds first (npm test)');
    }
    queue = new Queue(QueueName.Maintenance, {
      connection: redisOptions(env.REDIS_URL),
      prefix: env.QUEUE_PREFIX,
    });
  });
  afterAll(async () => {
    await pg?.end().catch(() => undefined);
    await queue.close();
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  });

  it('exits 0 within 30 s on SIGTERM while a job is running, and puts the job back', async () => {
    const p = await spawnCastbridge(env);
    try {
      await waitFor(async () => (await fetch(`${p.baseUrl}/health/ready`)).status === 200, {
        what: `ready (output: ${p.output().slice(-2000)})`,
      });
      // The Redis settings check: one warning line iff this Redis is not set up for durable
      // queues (the development Redis of .ci/run has AOF off).
      const redis = new Redis(redisOptions(env.REDIS_URL));
      const aof = (await redis.call('CONFIG', 'GET', 'appendonly')) as string[];
      const policy = (await redis.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
      redis.disconnect();
      const expected = aof[1] !== 'yes' || policy[1] !== 'noeviction' ? 1 : 0;
      expect(p.output().split('"check":"redis-settings"').length - 1).toBe(expected);

      // Hold a lock the prune job needs, so that it runs until it is stopped.
      pg = new Client({ connectionString: env.DATABASE_URL });
      await pg.connect();
      await pg.query('BEGIN');
      await pg.query('LOCK TABLE outbox_events IN ACCESS EXCLUSIVE MODE');

      const job = await queue.add(
        'maintenance.prune-outbox',
        { olderThanDays: 30 },
        { attempts: 3 },
      );
      await waitFor(async () => (await job.getState()) === 'active', { what: 'job active' });
      await new Promise((r) => setTimeout(r, 500)); // the DELETE is now waiting on the lock

      const t0 = Date.now();
      const code = await p.stop('SIGTERM');
      const took = Date.now() - t0;
      expect({ code, output: code === 0 ? '' : p.output().slice(-3000) }).toEqual({
        code: 0,
        output: '',
      });
      expect(took).toBeLessThan(30_000);

      const again = await queue.getJob(job.id!);
      expect(['wait', 'delayed', 'prioritized']).toContain(await again!.getState());
      expect(again!.attemptsMade).toBe(0);
      expect(p.output()).toContain('job interrupted by shutdown');
    } finally {
      await pg?.query('ROLLBACK').catch(() => undefined);
      if (p.child.exitCode === null) await p.stop('SIGKILL');
    }
  });
});
