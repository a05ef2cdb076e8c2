import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig, loadConfig } from '../../config/env.schema';

/** Base URLs of the machine's services (CI starts them when they are down). */
export const PG_BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A unique suffix per test file, for its own database and queue prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Environment of a test process: its own database and queue prefix, loopback egress allowed. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const name = uniqueName('cbt');
  return {
    DATABASE_URL: `${PG_BASE}/${name}`,
    REDIS_URL,
    QUEUE_PREFIX: name,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    RTMP_PORT: '0',
    MEDIA_DIR: `/tmp/${name}/media`,
    // Every request of a test comes from 127.0.0.1: the rate-limit test sets its own limit.
    RATE_LIMIT_PER_MINUTE: '100000',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  return loadConfig(testEnv(overrides));
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const client = new Client({ connectionString: `${PG_BASE}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Removes every BullMQ key of a test's queue prefix. */
export async function flushQueuePrefix(prefix: string): Promise<void> {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
