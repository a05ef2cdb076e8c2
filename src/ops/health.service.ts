import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { redisOptions } from '../queues/redis-options';
import { probeFfmpeg } from './ffmpeg-probe';

export interface CheckResult {
  status: 'up' | 'down';
  error?: string;
}
export interface Readiness {
  status: 'ok' | 'error';
  checks: Record<string, CheckResult>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref(),
    ),
  ]);
}

@Injectable()
export class HealthService implements OnModuleDestroy {
  private readonly redis: Redis;
  private ffmpegOkAt = 0;

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
      } catch (err) {
        checks[name] = { status: 'down', error: (err as Error).message };
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
