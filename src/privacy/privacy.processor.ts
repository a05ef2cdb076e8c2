import { Inject } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { KeyRotationService } from '../keys/key-rotation.service';
import { QueueName } from '../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { workerOptions } from '../queues/worker-options';
import { OrderBuyerData } from '../shopping/orders/order-buyer-data.service';
import { ComplianceBridge } from './compliance-bridge.service';
import { PrivacyRequestsService } from './privacy-requests.service';

/** How often the retention job looks for buyer data past BUYER_DATA_RETENTION. */
export function buyerRetentionEveryMs(config: Pick<AppConfig, 'buyerDataRetentionMs'>): number {
  // Every 15 minutes, or as often as the retention itself when it is shorter (tests).
  return Math.max(1000, Math.min(15 * 60_000, config.buyerDataRetentionMs));
}

/** How often Shopify's recorded compliance requests are turned into privacy requests. */
export const COMPLIANCE_EVERY_MS = 15_000;

/** How often the rotation job looks for values sealed under an older key. */
export const KEY_ROTATION_EVERY_MS = 60 * 60_000;

/**
 * The privacy queue: the retention job (buyers' data of orders final for longer than
 * BUYER_DATA_RETENTION, and export results past their time) and key rotation.
 */
@Processor(QueueName.Privacy, workerOptions())
export class PrivacyProcessor extends TypedProcessor<QueueName.Privacy> {
  protected readonly queueName = QueueName.Privacy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly buyers: OrderBuyerData,
    private readonly requests: PrivacyRequestsService,
    private readonly rotation: KeyRotationService,
    private readonly compliance: ComplianceBridge,
  ) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Privacy> = {
    'privacy.erase-expired': async (_data, _job, signal) => {
      const { erased, batches } = await this.buyers.eraseExpired(
        this.config.buyerDataRetentionMs,
        undefined,
        signal,
      );
      const exportsDropped = await this.requests.dropExpiredResults();
      return { erased, batches, exportsDropped };
    },
    'privacy.compliance': async () => this.compliance.runPending(),
    'keys.rotate': async (_data, _job, signal) => {
      const report = await this.rotation.rotate({ signal });
      return {
        currentKeyId: report.currentKeyId,
        resealed: report.resealed,
        skipped: report.skipped,
        remaining: report.remaining,
      };
    },
  };
}
