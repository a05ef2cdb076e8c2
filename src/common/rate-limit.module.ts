import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from './app-config';
import { bearerToken } from './bearer-token';
import { addressTracker, apiKeyTracker, RateLimitGuard } from './rate-limit.guard';
import { RateLimitStore } from './rate-limit.store';

const MINUTE_MS = 60_000;

@Module({ providers: [RateLimitStore], exports: [RateLimitStore] })
class RateLimitStoreModule {}

/**
 * RATE_LIMIT_PER_MINUTE per API key and, separately, per client address, on /v1/* and
 * /oauth/* (api role; not loaded when the variable is 0). Counted in Redis under
 * `<QUEUE_PREFIX>:rate-limit:…`, so api processes share the budget. A request counts
 * before it is authenticated, so wrong keys use up their address's budget.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStoreModule],
      inject: [APP_CONFIG, RateLimitStore],
      useFactory: (config: AppConfig, storage: RateLimitStore) => ({
        storage,
        setHeaders: false, // Retry-After only, on a 429 (RateLimitGuard)
        generateKey: (_ctx, tracker) => `${config.queuePrefix}:rate-limit:${tracker}`,
        throttlers: [
          {
            name: 'apiKey',
            ttl: MINUTE_MS,
            limit: config.rateLimitPerMinute,
            skipIf: (ctx) => bearerToken(ctx.switchToHttp().getRequest<Request>().headers) === null,
            getTracker: (req) => apiKeyTracker(req as Request),
          },
          {
            name: 'address',
            ttl: MINUTE_MS,
            limit: config.rateLimitPerMinute,
            getTracker: (req) => addressTracker(req as Request),
          },
        ],
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
