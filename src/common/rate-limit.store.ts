import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import type { AppConfig } from '../../config/env.schema';
import { redisOptions } from '../queues/redis-options';
import { APP_CONFIG } from './app-config';
import { redactText } from './redact';

type Hits = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A failed Redis call may take this long before the request goes on unlimited. */
const REDIS_COMMAND_TIMEOUT_MS = 500;
/** While Redis fails, one warning per this period. */
const WARN_EVERY_MS = 60_000;

/**
 * Where the rate limits count: Redis, so that every api process shares one budget per key
 * and per address (@nest-lab/throttler-storage-redis: one Lua script per hit, a fixed
 * window, and a block that lasts `blockDuration` once the limit is passed).
 *
 * It fails open: while Redis does not answer (within 500 ms, no offline queue) requests go
 * on without a limit and a warning is logged once a minute. A limiter is protection; the
 * API stays up for what does not need Redis.
 */
@Injectable()
export class RateLimitStore implements ThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis;
  private readonly counter: ThrottlerStorageRedisService;
  private warnedAt = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined); // reported by increment(), once a minute
    this.counter = new ThrottlerStorageRedisService(this.redis);
  }

  async onModuleInit(): Promise<void> {
    await this.redis.connect().catch(() => undefined); // retried by ioredis; fails open meanwhile
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<Hits> {
    try {
      return await this.counter.increment(key, ttl, limit, blockDuration, name);
    } catch (err) {
      if (Date.now() - this.warnedAt > WARN_EVERY_MS) {
        this.warnedAt = Date.now();
        this.logger.warn(
          `rate limits not counted (Redis: ${redactText((err as Error).message)}); requests go on`,
        );
      }
      return {
        totalHits: 0,
        timeToExpire: Math.ceil(ttl / 1000),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
