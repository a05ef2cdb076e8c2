import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../common/errors';
import { decodeCursor, encodeCursor, isUuid, Page } from '../common/pagination';
import { JobQueue } from '../queues/job-queue.service';
import { deliveryJobId, JOBS } from '../queues/queue-registry';
import { WebhookDeliveryAttempt } from './webhook-delivery-attempt.entity';
import { DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpointsService } from './webhook-endpoints.service';

/** Deliveries as partners see them (log, manual retry) and their BullMQ jobs. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectRepository(WebhookDeliveryAttempt)
    private readonly attempts: Repository<WebhookDeliveryAttempt>,
    private readonly endpoints: WebhookEndpointsService,
    private readonly jobs: JobQueue,
  ) {}

  async list(
    partnerId: string,
    endpointId: string,
    q: { status?: DeliveryStatus; limit?: number; cursor?: string },
  ): Promise<Page<WebhookDelivery>> {
    const endpoint = await this.endpoints.get(partnerId, endpointId);
    const limit = q.limit ?? 50;
    const qb = this.deliveries
      .createQueryBuilder('d')
      .where('d.endpoint_id = :endpointId', { endpointId: endpoint.id })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .take(limit + 1);
    if (q.status) qb.andWhere('d.status = :status', { status: q.status });
    if (q.cursor) qb.andWhere('(d.created_at, d.id) < (:createdAt, :id)', decodeCursor(q.cursor));
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { data: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async get(
    partnerId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<{ delivery: WebhookDelivery; attempts: WebhookDeliveryAttempt[] }> {
    const endpoint = await this.endpoints.get(partnerId, endpointId);
    const delivery = isUuid(deliveryId)
      ? await this.deliveries.findOneBy({ id: deliveryId, endpointId: endpoint.id })
      : null;
    if (!delivery) throw AppError.notFound('delivery');
    const attempts = await this.attempts.find({
      where: { deliveryId: delivery.id },
      order: { attempt: 'ASC', createdAt: 'ASC' },
    });
    return { delivery, attempts };
  }

  /**
   * Manual retry: a pending delivery waiting for its next attempt is attempted now; a
   * delivered or failed one is sent again (same webhook-id) as a new run.
   */
  async retry(partnerId: string, endpointId: string, deliveryId: string): Promise<void> {
    const { delivery } = await this.get(partnerId, endpointId, deliveryId);
    const endpoint = await this.endpoints.get(partnerId, endpointId);
    if (!endpoint.enabled) {
      throw new AppError(ErrorCode.Conflict, 'webhook endpoint is disabled; enable it first');
    }
    if (delivery.status === 'pending') {
      const job = await this.jobs
        .queue(JOBS['webhooks.deliver'].queue)
        .getJob(deliveryJobId(delivery.id, delivery.generation));
      if (job && (await job.isDelayed())) await job.promote();
      return;
    }
    const rows: Array<{ generation: number }> = await this.db
      .query(
        `UPDATE webhook_deliveries
          SET status = 'pending', generation = generation + 1, next_attempt_at = now(),
              lease_until = NULL, enqueued_at = NULL, updated_at = now()
        WHERE id = $1 AND status <> 'pending'
        RETURNING generation`,
        [delivery.id],
      )
      .then((r: [Array<{ generation: number }>, number]) => r[0]);
    if (rows.length) await this.enqueue(delivery.id, rows[0].generation);
  }

  /**
   * Adds the delivery's job (its id derives from the delivery id, so a second add is a
   * no-op) and notes that it exists. A crash in between leaves `enqueued_at` null and the
   * relay's sweeper adds it again, which is safe for the same reason.
   */
  async enqueue(deliveryId: string, generation: number): Promise<void> {
    await this.jobs.add(
      'webhooks.deliver',
      { deliveryId },
      { jobId: deliveryJobId(deliveryId, generation) },
    );
    await this.db.query(
      `UPDATE webhook_deliveries SET enqueued_at = now()
        WHERE id = $1 AND generation = $2 AND enqueued_at IS NULL`,
      [deliveryId, generation],
    );
  }

  /** Pending deliveries whose job may never have been added (a crash after commit). */
  async sweepUnenqueued(olderThanMs = 5000, limit = 100): Promise<number> {
    const rows: Array<{ id: string; generation: number }> = await this.db.query(
      `SELECT id, generation FROM webhook_deliveries
        WHERE status = 'pending' AND enqueued_at IS NULL
          AND updated_at < now() - make_interval(secs => $1)
        ORDER BY updated_at LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    for (const r of rows) await this.enqueue(r.id, r.generation);
    return rows.length;
  }
}
