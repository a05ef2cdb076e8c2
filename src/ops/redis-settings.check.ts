import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { redisOptions } from '../queues/redis-options';

export interface RedisSettings {
  appendonly: string | null;
  maxmemoryPolicy: string | null;
}

/**
 * What is wrong for BullMQ in production: without AOF a Redis restart loses queued jobs;
 * with any eviction policy but `noeviction` Redis may silently drop job keys under memory
 * pressure. Unknown values (CONFIG disabled) are not reported.
 */
export function redisSettingsProblems(s: RedisSettings): string[] {
  const problems: string[] = [];
  if (s.appendonly !== null && s.appendonly !== 'yes') {
    problems.push('appendonly is "no": a Redis restart loses queued jobs (set appendonly yes)');
  }
  if (s.maxmemoryPolicy !== null && s.maxmemoryPolicy !== 'noeviction') {
    problems.push(
      `maxmemory-policy is "${s.maxmemoryPolicy}": Redis may evict job keys (set noeviction)`,
    );
  }
  return problems;
}

/** `CONFIG GET name` as a string, or null when CONFIG is disabled or renamed (managed Redis). */
async function configGet(redis: Redis, name: string): Promise<string | null> {
  try {
    const reply = (await redis.call('CONFIG', 'GET', name)) as unknown;
    if (Array.isArray(reply) && reply.length >= 2) return String(reply[1]);
    return null;
  } catch {
    return null;
  }
}

export async function readRedisSettings(redis: Redis): Promise<RedisSettings> {
  return {
    appendonly: await configGet(redis, 'appendonly'),
    maxmemoryPolicy: await configGet(redis, 'maxmemory-policy'),
  };
}

/**
 * At start, warns (one structured line, never a failure) when Redis is not set up for
 * durable queues. README "Operations" explains the settings.
 */
@Injectable()
export class RedisSettingsCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('RedisSettings');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const redis = new Redis({
      ...redisOptions(this.config.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const settings = await readRedisSettings(redis);
      const problems = redisSettingsProblems(settings);
      if (problems.length) {
        this.logger.warn({
          msg: 'Redis is not configured for durable queues',
          check: 'redis-settings',
          appendonly: settings.appendonly,
          maxmemoryPolicy: settings.maxmemoryPolicy,
          problems,
        });
      }
    } catch {
      // Redis unreachable: readiness reports it; this check only advises.
    } finally {
      redis.disconnect();
    }
  }
}
