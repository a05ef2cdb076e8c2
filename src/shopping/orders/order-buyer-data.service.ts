import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SecretBox } from '../../common/secret-box';
import { updateReturning } from '../../database/update-returning';
import {
  BuyerRecord,
  buyerEmailIndexes,
  openBuyer,
  sealBuyer,
  type SealedBuyer,
} from './buyer-record';
import type { Order } from './order.entity';

/** Order states after which a buyer's data is kept only for BUYER_DATA_RETENTION. */
export const FINAL_ORDER_STATUSES = ['fulfilled', 'cancelled', 'refunded', 'failed'] as const;

/** Rows erased per statement by the retention job (short transactions, no long locks). */
export const BUYER_ERASE_BATCH = 500;

/** Which orders a request looks at: one partner's, or every order placed in one store. */
export type BuyerScope = { partnerId: string } | { provider: string; shop: string };

/** An order that held the buyer, with its partner (who is told of the erasure). */
export interface BuyerOrder {
  orderId: string;
  partnerId: string;
  externalId: string;
  createdAt: Date;
}

interface SealedRow {
  id: string;
  partner_id: string;
  external_id: string;
  created_at: Date;
  customer_sealed: string | null;
  customer_key_id: string | null;
}

/**
 * The buyer's personal data of orders (orders.customer_sealed, customer_key_id,
 * customer_email_index, customer_erased_at): sealed with the SecretBox and bound to its
 * order, found by a keyed blind index of the email, opened only for the store and for an
 * export, erased on request and after retention. Part of the orders' one writer
 * (OrderStatusService writes the rest of the row).
 */
@Injectable()
export class OrderBuyerData {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly box: SecretBox,
  ) {}

  seal(orderId: string, record: BuyerRecord): SealedBuyer {
    return sealBuyer(this.box, orderId, record);
  }

  /** The buyer of an order in clear (to place it in the store), or null once erased. */
  open(order: Pick<Order, 'id' | 'customerSealed' | 'customerKeyId'>): BuyerRecord | null {
    if (!order.customerSealed || !order.customerKeyId) return null;
    return openBuyer(this.box, order.id, {
      keyId: order.customerKeyId,
      sealed: order.customerSealed,
    });
  }

  /** Seals a buyer into an existing order row (tests, and rows written outside the API). */
  async store(m: EntityManager, orderId: string, record: BuyerRecord): Promise<void> {
    const s = this.seal(orderId, record);
    await m.query(
      `UPDATE orders SET customer_sealed = $2, customer_key_id = $3, customer_email_index = $4,
              customer_erased_at = NULL
        WHERE id = $1`,
      [orderId, s.sealed, s.keyId, s.emailIndex],
    );
  }

  /** Orders in the scope whose buyer has this email (by blind index; nothing is decrypted). */
  async findByEmail(m: EntityManager, scope: BuyerScope, email: string): Promise<BuyerOrder[]> {
    const indexes = buyerEmailIndexes(this.box, email);
    const rows: SealedRow[] =
      'partnerId' in scope
        ? await m.query(
            `SELECT id, partner_id, external_id, created_at FROM orders
              WHERE partner_id = $1 AND customer_email_index = ANY($2::bytea[])
              ORDER BY created_at, id`,
            [scope.partnerId, indexes],
          )
        : await m.query(
            `SELECT o.id, o.partner_id, o.external_id, o.created_at FROM orders o
               JOIN store_connections c ON c.id = o.store_connection_id
              WHERE c.provider = $1 AND c.shop = $2 AND o.customer_email_index = ANY($3::bytea[])
              ORDER BY o.created_at, o.id`,
            [scope.provider, scope.shop, indexes],
          );
    return rows.map(toBuyerOrder);
  }

  /** Every order placed in one store that still holds a buyer's data (shop/redact). */
  async findInStore(m: EntityManager, provider: string, shop: string): Promise<BuyerOrder[]> {
    const rows: SealedRow[] = await m.query(
      `SELECT o.id, o.partner_id, o.external_id, o.created_at FROM orders o
         JOIN store_connections c ON c.id = o.store_connection_id
        WHERE c.provider = $1 AND c.shop = $2 AND o.customer_sealed IS NOT NULL
        ORDER BY o.created_at, o.id`,
      [provider, shop],
    );
    return rows.map(toBuyerOrder);
  }

  /** The buyers of these orders in clear (an export), order by order; erased ones are skipped. */
  async openAll(
    m: EntityManager,
    orderIds: string[],
  ): Promise<Array<{ orderId: string; externalId: string; buyer: BuyerRecord }>> {
    const rows: SealedRow[] = await m.query(
      `SELECT id, partner_id, external_id, created_at, customer_sealed, customer_key_id FROM orders
        WHERE id = ANY($1::uuid[]) AND customer_sealed IS NOT NULL
        ORDER BY created_at, id`,
      [orderIds],
    );
    return rows.map((r) => ({
      orderId: r.id,
      externalId: r.external_id,
      buyer: openBuyer(this.box, r.id, { keyId: r.customer_key_id!, sealed: r.customer_sealed! }),
    }));
  }

  /** Erases the buyer data of these orders (the orders stay). Returns the ids it erased. */
  async erase(m: EntityManager, orderIds: string[]): Promise<string[]> {
    if (orderIds.length === 0) return [];
    const rows = await updateReturning<{ id: string }>(
      m,
      `UPDATE orders SET customer_sealed = NULL, customer_key_id = NULL,
              customer_email_index = NULL, customer_erased_at = now()
        WHERE id = ANY($1::uuid[]) AND customer_sealed IS NOT NULL
        RETURNING id`,
      [orderIds],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The retention job: erases the buyer data of orders that reached a final state more than
   * `retentionMs` ago, `batch` rows per statement until none is left. Idempotent (an
   * erased row no longer matches); SKIP LOCKED lets two runs share the work.
   */
  async eraseExpired(
    retentionMs: number,
    batch = BUYER_ERASE_BATCH,
    signal?: AbortSignal,
  ): Promise<{ erased: number; batches: number }> {
    let erased = 0;
    let batches = 0;
    for (;;) {
      signal?.throwIfAborted();
      const res: [unknown[], number] = await this.db.query(
        `UPDATE orders SET customer_sealed = NULL, customer_key_id = NULL,
                customer_email_index = NULL, customer_erased_at = now()
          WHERE id IN (SELECT id FROM orders
                        WHERE customer_sealed IS NOT NULL AND final_at IS NOT NULL
                          AND final_at < now() - make_interval(secs => $1)
                        ORDER BY final_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [retentionMs / 1000, batch],
      );
      const n = res[1];
      if (n === 0) break;
      erased += n;
      batches++;
      if (n < batch) break;
    }
    return { erased, batches };
  }
}

function toBuyerOrder(r: SealedRow): BuyerOrder {
  return {
    orderId: r.id,
    partnerId: r.partner_id,
    externalId: r.external_id,
    createdAt: r.created_at,
  };
}
