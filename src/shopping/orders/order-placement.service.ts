import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobQueue } from '../../queues/job-queue.service';
import { JOBS, orderJobId } from '../../queues/queue-registry';
import { StoreApiError } from '../../stores/providers/store-provider';
import { StoreConnectionSyncState } from '../../stores/store-connection-sync-state.service';
import { StoreConnectionsService } from '../../stores/store-connections.service';
import { StoreTokens } from '../../stores/store-tokens.service';
import { StoreProviders } from '../../stores/store-providers';
import { scrubBuyer, type BuyerRecord } from './buyer-record';
import { OrderBuyerData } from './order-buyer-data.service';
import { Order } from './order.entity';
import { toStoreOrderInput } from './order.mapper';
import { OrderStatusService } from './order-status.service';
import { OrderRetryError, orderRetryDelayMs } from './order-retry';

/** Pending orders older than this without a job are enqueued again by the sweep. */
export const ORDER_SWEEP_MIN_AGE_MS = 10_000;

export type PlacementResult =
  | { outcome: 'placed'; storeOrderId: string; found: boolean }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'skipped'; reason: string };

/**
 * The orders.place job: creates one pending order in its brand's store through the
 * store provider. Before every creation it looks the order up by its reference (our order
 * id, attached to the store order), so an attempt whose answer was lost (crash, timeout,
 * dropped connection) never creates a second order. The status change and its event
 * (order.placed / order.failed) commit together (OrderStatusService writes both).
 */
@Injectable()
export class OrderPlacementService {
  private readonly logger = new Logger(OrderPlacementService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly connections: StoreConnectionsService,
    private readonly tokens: StoreTokens,
    private readonly syncState: StoreConnectionSyncState,
    private readonly providers: StoreProviders,
    private readonly orders: OrderStatusService,
    private readonly jobs: JobQueue,
    private readonly buyers: OrderBuyerData,
  ) {}

  async place(orderId: string, job: Pick<Job, 'attemptsMade' | 'opts'>): Promise<PlacementResult> {
    const order = await this.db.getRepository(Order).findOneBy({ id: orderId });
    if (!order) return { outcome: 'skipped', reason: 'no such order' };
    if (order.status !== 'pending')
      return { outcome: 'skipped', reason: `order is ${order.status}` };
    await this.orders.countAttempt(this.db.manager, order.id);

    const conn = order.storeConnectionId
      ? await this.connections.findById(order.storeConnectionId)
      : null;
    if (!conn) return this.fail(order, 'the store connection was removed');
    if (conn.status !== 'linked') {
      return this.fail(order, `the store connection is ${conn.status}`);
    }
    const provider = this.providers.find(conn.provider);
    if (!provider) return this.fail(order, `unknown store provider ${conn.provider}`);

    // The buyer in clear lives only in this call: any text the store sends back is
    // scrubbed of it before it is stored as the failure reason or logged.
    let buyer: BuyerRecord | null = null;
    try {
      buyer = this.buyers.open(order);
    } catch (err) {
      // A key missing from ENCRYPTION_KEYS (or a damaged row): ours, retried.
      this.logger.error(
        `order ${order.id}: its buyer data does not open: ${(err as Error).message}`,
      );
      return this.retryOrFail(order, job, 'internal error while placing the order', null);
    }
    const input = toStoreOrderInput(order, buyer);
    const scrub = (text: string) => scrubBuyer(text, buyer);
    try {
      // A 401 means the store did nothing: after the token's refresh the lookup runs again.
      const { found, storeOrderId } = await this.tokens.withToken(conn, async (ctx) => {
        const known = await provider.findOrderByReference(ctx, input.reference);
        return {
          found: known !== null,
          storeOrderId: known ?? (await provider.createOrder(ctx, input)).storeOrderId,
        };
      });
      return await this.markPlaced(order, storeOrderId, found);
    } catch (err) {
      if (!(err instanceof StoreApiError)) {
        // Ours (database, bug): retried with backoff; the message may be anything, so it
        // goes to the log, not to the order.
        this.logger.error(`placing order ${order.id} failed: ${scrub((err as Error).message)}`);
        return this.retryOrFail(order, job, 'internal error while placing the order', null);
      }
      if (err.kind === 'unauthorized') {
        await this.syncState.markNeedsRelink(conn, scrub(err.message));
        return this.fail(
          order,
          'the store refused our access token and its refresh; the store connection needs a relink',
        );
      }
      if (err.kind === 'rejected')
        return this.fail(order, `the store refused the order: ${scrub(err.message)}`);
      // unavailable (network, 5xx) or rate_limited (429): wait and try again.
      return this.retryOrFail(
        order,
        job,
        `store unavailable: ${scrub(err.message)}`,
        err.retryAfterMs,
      );
    }
  }

  /** Periodic: enqueues pending orders whose placement job is missing (lost enqueue). */
  async sweep(minAgeMs = ORDER_SWEEP_MIN_AGE_MS): Promise<{ requeued: number }> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM orders
        WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1)
        ORDER BY created_at LIMIT 1000`,
      [minAgeMs / 1000],
    );
    let requeued = 0;
    const queue = this.jobs.queue(JOBS['orders.place'].queue);
    for (const r of rows) {
      const existing = await queue.getJob(orderJobId(r.id));
      // A job that ran out of attempts without settling the order (e.g. the database was
      // down on its last attempt) is replaced by a fresh one.
      if (existing && !(await existing.isFailed())) continue;
      if (existing) await existing.remove();
      await this.jobs.add('orders.place', { orderId: r.id }, { jobId: orderJobId(r.id) });
      requeued++;
    }
    if (requeued) this.logger.warn(`re-enqueued ${requeued} pending order(s) without a job`);
    return { requeued };
  }

  private async markPlaced(
    order: Order,
    storeOrderId: string,
    found: boolean,
  ): Promise<PlacementResult> {
    await this.db.transaction((m) => this.orders.markPlaced(m, order, storeOrderId));
    return { outcome: 'placed', storeOrderId, found };
  }

  private async fail(order: Order, reason: string): Promise<PlacementResult> {
    await this.db.transaction((m) => this.orders.markFailed(m, order, reason));
    this.logger.warn(`order ${order.id} failed: ${reason}`);
    return { outcome: 'failed', reason };
  }

  /**
   * A transient failure: throws the error that makes BullMQ retry after the chosen delay,
   * or, on the last attempt, marks the order failed.
   */
  private async retryOrFail(
    order: Order,
    job: Pick<Job, 'attemptsMade' | 'opts'>,
    reason: string,
    retryAfterMs: number | null,
  ): Promise<PlacementResult> {
    const attempt = job.attemptsMade + 1;
    if (attempt >= (job.opts.attempts ?? 1)) {
      return this.fail(order, `gave up after ${attempt} attempts: ${reason}`);
    }
    throw new OrderRetryError(reason, orderRetryDelayMs(attempt, retryAfterMs));
  }
}
