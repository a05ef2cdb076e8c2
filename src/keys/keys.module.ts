import { Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { SecretBox } from '../common/secret-box';
import { MetricsService } from '../ops/metrics.service';
import { KeyRotationService } from './key-rotation.service';

/** The per-key counts of /metrics are read at most this often (they scan every sealed column). */
export const SEALED_COUNTS_CACHE_MS = 30_000;

/**
 * At start: every sealed value's key must be in ENCRYPTION_KEYS, else the process stops with
 * an error naming the missing key id (instead of failing later, row by row). Also feeds
 * the castbridge_sealed_values gauge.
 */
@Injectable()
export class SealedKeysCheck implements OnApplicationBootstrap {
  private readonly log = new Logger(SealedKeysCheck.name);

  constructor(
    private readonly rotation: KeyRotationService,
    private readonly metrics: MetricsService,
    private readonly box: SecretBox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const counts = await this.rotation.assertKeysPresent();
    const old = counts.filter((c) => c.keyId !== this.box.currentKeyId());
    if (old.length > 0) {
      this.log.warn(
        `${old.reduce((a, c) => a + c.rows, 0)} sealed value(s) still use older keys ` +
          `(${[...new Set(old.map((c) => c.keyId))].join(', ')}); the keys.rotate job re-seals them`,
      );
    }
    this.metrics.setSealedValuesSource(
      () => this.rotation.recentCounts(SEALED_COUNTS_CACHE_MS),
      this.box.currentKeyId(),
    );
  }
}

/** Key rotation over every sealed column (every role: the job runs in the worker). */
@Module({
  providers: [KeyRotationService, SealedKeysCheck],
  exports: [KeyRotationService],
})
export class KeysModule {}
