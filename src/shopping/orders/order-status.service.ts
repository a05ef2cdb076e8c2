import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { updateReturning } from '../../database/update-returning';
import { orderEventData, type OrderEventSource } from '../../notifications/event-payloads';
import { OutboxService } from '../../notifications/outbox.service';
import type { StoreOrderStatus } from '../../stores/providers/store-provider';
import type { StoreConnection } from '../../stores/store-connection.entity';
import { randomUUID } from 'node:crypto';
import type { BuyerRecord } from './buyer-record';
import { FINAL_ORDER_STATUSES, OrderBuyerData } from './order-buyer-data.service';
import type { Order, OrderLineItem } from './order.entity';

/** What a new order row is made of (priced from the catalog by OrdersService). */
export interface NewOrder {
  partnerId: string;
  brandId: string;
  storeConnectionId: string;
  sessionId: string | null;
  externalId: string;
  lineItems: OrderLineItem[];
  totalPrice: string;
  currency: string | null;
  /** Sealed before it is written (never stored in clear). */
  customer: BuyerRecord;
}

type Conn = Pick<StoreConnection, 'id' | 'partnerId'>;

/**
 * The one writer of `orders`: the row a partner's order starts as, and every status change
 * after it — the placement job's result (placed / failed, from `pending` only) and the
 * store's order webhooks (paid, fulfilled, cancelled, refunded; newer store time only).
 * Each change records its event (order.placed / order.failed / order.updated) through the
 * caller's EntityManager, so the row and the event commit together.
 */
@Injectable()
export class OrderStatusService {
  constructor(
    private readonly outbox: OutboxService,
    private readonly buyers: OrderBuyerData,
  ) {}

  /**
   * A new `pending` order; false when the partner already sent this externalId. One
   * statement (its own transaction with a plain manager): concurrent duplicates insert one row.
   */
  async insertPending(m: EntityManager, o: NewOrder): Promise<boolean> {
    // The id is chosen here: the sealed buyer is bound to it (AAD) before the row exists.
    const id = randomUUID();
    const buyer = this.buyers.seal(id, o.customer);
    const inserted: Array<{ id: string }> = await m.query(
      `INSERT INTO orders (id, partner_id, brand_id, store_connection_id, session_id, external_id, status,
                           line_items, total_price, currency,
                           customer_sealed, customer_key_id, customer_email_index)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7::jsonb, $8::numeric, $9, $10, $11, $12)
       ON CONFLICT (partner_id, external_id) DO NOTHING
       RETURNING id`,
      [
        id,
        o.partnerId,
        o.brandId,
        o.storeConnectionId,
        o.sessionId,
        o.externalId,
        JSON.stringify(o.lineItems),
        o.totalPrice,
        o.currency,
        buyer.sealed,
        buyer.keyId,
        buyer.emailIndex,
      ],
    );
    return inserted.length > 0;
  }

  /** One more placement attempt (counted before the store is asked). */
  async countAttempt(m: EntityManager, orderId: string): Promise<void> {
    await m.query(`UPDATE orders SET attempts = attempts + 1 WHERE id = $1`, [orderId]);
  }

  /** The store created (or already had) the order: `placed`, with order.placed. */
  async markPlaced(m: EntityManager, order: Order, storeOrderId: string): Promise<boolean> {
    const res: [unknown[], number] = await m.query(
      `UPDATE orders SET status = 'placed', store_order_id = $2, failure_reason = NULL, updated_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [order.id, storeOrderId],
    );
    if (res[1] === 0) return false;
    await this.outbox.record(
      m,
      order.partnerId,
      'order.placed',
      orderEventData({ ...order, storeOrderId, status: 'placed', failureReason: null }, 'pending'),
    );
    return true;
  }

  /** Placement gave up or was refused: `failed` with the reason, and order.failed. */
  async markFailed(m: EntityManager, order: Order, reason: string): Promise<boolean> {
    const res: [unknown[], number] = await m.query(
      `UPDATE orders SET status = 'failed', failure_reason = $2, updated_at = now(),
              final_at = COALESCE(final_at, now())
        WHERE id = $1 AND status = 'pending'`,
      [order.id, reason],
    );
    if (res[1] === 0) return false;
    await this.outbox.record(
      m,
      order.partnerId,
      'order.failed',
      orderEventData({ ...order, status: 'failed', failureReason: reason }, 'pending'),
    );
    return true;
  }

  /**
   * An order webhook of the store. An order Castbridge placed is found by its store order
   * id; other orders of the store are not ours and are ignored (`unknown`). The status
   * changes only when the event's store time is newer than the last one applied (`stale`
   * otherwise), so an older webhook never undoes a newer one.
   */
  async applyStoreStatus(
    m: EntityManager,
    conn: Conn,
    storeOrderId: string,
    status: StoreOrderStatus,
    at: Date,
  ): Promise<'updated' | 'stale' | 'unknown'> {
    const rows = await updateReturning<{
      id: string;
      external_id: string;
      brand_id: string;
      session_id: string | null;
      total_price: string;
      currency: string | null;
      failure_reason: string | null;
      previous: string;
      status: string;
    }>(
      m,
      `WITH old AS (
           SELECT id, status, store_updated_at FROM orders
            WHERE store_connection_id = $1 AND store_order_id = $2 FOR UPDATE)
         UPDATE orders o SET status = $3, store_updated_at = $4, updated_at = now(),
                final_at = CASE WHEN $3 = ANY($5::text[]) THEN COALESCE(o.final_at, now())
                                ELSE o.final_at END
           FROM old
          WHERE o.id = old.id AND (old.store_updated_at IS NULL OR old.store_updated_at < $4)
         RETURNING o.id, o.external_id, o.brand_id, o.session_id, o.total_price, o.currency,
                   o.failure_reason, old.status AS previous, o.status`,
      [conn.id, storeOrderId, status, at.toISOString(), FINAL_ORDER_STATUSES],
    );
    if (rows.length === 0) {
      const [known]: Array<{ n: number }> = await m.query(
        `SELECT count(*)::int AS n FROM orders WHERE store_connection_id = $1 AND store_order_id = $2`,
        [conn.id, storeOrderId],
      );
      return known.n > 0 ? 'stale' : 'unknown';
    }
    const r = rows[0];
    if (r.previous !== r.status) {
      // The store confirming an order still pending on our side is its placement.
      const type =
        r.previous === 'pending' && r.status === 'placed' ? 'order.placed' : 'order.updated';
      const order: OrderEventSource = {
        id: r.id,
        externalId: r.external_id,
        brandId: r.brand_id,
        sessionId: r.session_id,
        storeOrderId,
        status: r.status,
        totalPrice: r.total_price,
        currency: r.currency,
        failureReason: r.failure_reason,
      };
      await this.outbox.record(m, conn.partnerId, type, orderEventData(order, r.previous));
    }
    return 'updated';
  }
}
