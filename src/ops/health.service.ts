import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { redactText } from '../common/redact';
import { redisOptions } from '../queues/redis-options';
import { probeFfmpeg } from './ffmpeg-probe';

/**
 * A check as `/health/ready` shows it. The probe is unauthenticated, so a failure says
 * only `timeout` or `unavailable`: driver messages name hosts, ports and users. The cause
 * goes to the log when a check goes down.
 */
export interface CheckResult {
  status: 'up' | 'down';
  error?: 'timeout' | 'unavailable';
}

class CheckTimeout extends Error {}
export interface Readiness {
  status: 'ok' | 'error';
  checks: Record<string, CheckResult>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new CheckTimeout(`${what} timed out`)), ms).unref(),
    ),
  ]);
}

@Injectable()
export class HealthService implements OnModuleDestroy {
  private readonly logger = new Logger('Health');
  private readonly redis: Redis;
  private ffmpegOkAt = 0;
  /** Checks last seen down: their cause is logged once per outage, not once per probe. */
  private readonly down = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    this.redis = new Redis({
      ...redisOptions(config.redisUrl),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.on('error', () => undefined); // reported through readiness, not crashes
  }

  async readiness(): Promise<Readiness> {
    const checks: Record<string, CheckResult> = {};
    const run = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await withTimeout(fn(), 2000, name);
        checks[name] = { status: 'up' };
        if (this.down.delete(name)) this.logger.log(`readiness check ${name} is up again`);
      } catch (err) {
        const timedOut = err instanceof CheckTimeout;
        checks[name] = { status: 'down', error: timedOut ? 'timeout' : 'unavailable' };
        if (!this.down.has(name)) {
          this.down.add(name);
          this.logger.warn(
            `readiness check ${name} is down: ${redactText(String((err as Error)?.message))}`,
          );
        }
      }
    };
    const tasks = [
      run('postgres', () => this.db.query('SELECT 1')),
      run('redis', async () => {
        if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
        await this.redis.ping();
      }),
    ];
    if (this.config.roles.has('worker') || this.config.roles.has('ingest')) {
      tasks.push(run('ffmpeg', () => this.checkFfmpeg()));
    }
    await Promise.all(tasks);
    const ok = Object.values(checks).every((c) => c.status === 'up');
    return { status: ok ? 'ok' : 'error', checks };
  }

  private async checkFfmpeg(): Promise<void> {
    // The binary does not change under a running process: re-probe at most once a minute.
    if (Date.now() - this.ffmpegOkAt < 60_000) return;
    await probeFfmpeg(this.config.ffmpegPath);
    this.ffmpegOkAt = Date.now();
  }

  async onModuleDestroy(): Promise<void> {
    this.redis.disconnect();
  }
}
