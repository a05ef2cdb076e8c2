import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { SecretBox } from '../common/secret-box';
import { OutboxService } from '../notifications/outbox.service';
import { addressWithNulls, type BuyerRecord } from '../shopping/orders/buyer-record';
import { BuyerOrder, OrderBuyerData } from '../shopping/orders/order-buyer-data.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import type { PrivacyExportDto, PrivacyRequestDto } from './privacy.dto';
import {
  PrivacyKind,
  PrivacyRequest,
  PrivacySource,
  privacyResultAad,
} from './privacy-request.entity';

/** How long an export's result can be read (GET /v1/privacy/requests/:id) before it is dropped. */
export const EXPORT_RESULT_TTL_MS = 7 * 86_400_000;

interface NewRequest {
  partnerId: string;
  kind: PrivacyKind;
  source: PrivacySource;
  requestedBy: string;
  storeConnectionId: string | null;
}

/**
 * Buyers' privacy requests (API.md "Buyers' privacy"): export or erase the personal data a
 * buyer left on orders, found by the email's blind index. A request runs at once in one
 * transaction with its audit row (who, when, how many orders, which partners were told) and,
 * for an erasure, one `privacy.buyer_erased` event per partner whose orders held the buyer.
 *
 * Entry points: `requestFromApi` (POST /v1/privacy/requests, the partner's own orders),
 * `requestForStoreCustomer` (Shopify's customers/data_request and customers/redact) and
 * `redactStore` (Shopify's shop/redact) — these two cover every order placed in that store.
 */
@Injectable()
export class PrivacyRequestsService {
  private readonly logger = new Logger(PrivacyRequestsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly buyers: OrderBuyerData,
    private readonly outbox: OutboxService,
    private readonly box: SecretBox,
    private readonly connections: StoreConnectionsService,
  ) {}

  async get(partnerId: string, id: string): Promise<PrivacyRequestDto> {
    const r = isUuid(id)
      ? await this.db.getRepository(PrivacyRequest).findOneBy({ id, partnerId })
      : null;
    if (!r) throw AppError.notFound('privacy request');
    return this.toDto(r);
  }

  /** POST /v1/privacy/requests: the calling partner's orders of the buyer with this email. */
  requestFromApi(partnerId: string, kind: PrivacyKind, email: string): Promise<PrivacyRequestDto> {
    return this.run(
      { partnerId, kind, source: 'api', requestedBy: 'partner-api', storeConnectionId: null },
      (m) => this.buyers.findByEmail(m, { partnerId }, email),
    );
  }

  /**
   * Shopify's customers/data_request (`export`) or customers/redact (`erase`) for the store
   * of this connection: every order Castbridge placed in that store for the buyer with this
   * email (whichever partner's brand placed it; each of them is told of an erasure). The
   * request belongs to the connection's partner.
   */
  async requestForStoreCustomer(input: {
    storeConnectionId: string;
    kind: PrivacyKind;
    email: string;
  }): Promise<PrivacyRequestDto> {
    const conn = await this.connections.findById(input.storeConnectionId);
    if (!conn) throw AppError.notFound('store connection');
    return this.run(
      {
        partnerId: conn.partnerId,
        kind: input.kind,
        source: 'shopify',
        requestedBy: `${conn.provider}:${conn.shop}`,
        storeConnectionId: conn.id,
      },
      async (m) => {
        const found = await this.buyers.findByEmail(
          m,
          { provider: conn.provider, shop: conn.shop },
          input.email,
        );
        // An erasure follows the data to every partner; an export shows only the partner's own.
        return input.kind === 'erase' ? found : found.filter((o) => o.partnerId === conn.partnerId);
      },
    );
  }

  /** Shopify's shop/redact: erases the buyer data of every order placed in that store. */
  async redactStore(storeConnectionId: string): Promise<PrivacyRequestDto> {
    const conn = await this.connections.findById(storeConnectionId);
    if (!conn) throw AppError.notFound('store connection');
    return this.run(
      {
        partnerId: conn.partnerId,
        kind: 'erase',
        source: 'shopify',
        requestedBy: `${conn.provider}:${conn.shop}:shop_redact`,
        storeConnectionId: conn.id,
      },
      (m) => this.buyers.findInStore(m, conn.provider, conn.shop),
    );
  }

  /** Drops export results past EXPORT_RESULT_TTL_MS (the retention job). */
  async dropExpiredResults(): Promise<number> {
    const res: [unknown[], number] = await this.db.query(
      `UPDATE privacy_requests SET result_sealed = NULL, result_key_id = NULL
        WHERE result_sealed IS NOT NULL AND result_expires_at < now()`,
    );
    return res[1];
  }

  private async run(
    req: NewRequest,
    find: (m: EntityManager) => Promise<BuyerOrder[]>,
  ): Promise<PrivacyRequestDto> {
    const repo = this.db.getRepository(PrivacyRequest);
    const row = await repo.save(
      repo.create({
        ...req,
        status: 'pending',
        ordersFound: 0,
        orderIds: [],
        partnersNotified: [],
      }),
    );
    try {
      await this.db.transaction(async (m) => {
        const orders = await find(m);
        if (req.kind === 'export') await this.completeExport(m, row, orders);
        else await this.completeErase(m, row, orders);
      });
    } catch (err) {
      // The message is ours or the database's (ids, never the buyer's data).
      this.logger.error(`privacy request ${row.id} failed: ${(err as Error).message}`);
      await repo.update(
        { id: row.id },
        { status: 'failed', failureReason: 'internal error', completedAt: new Date() },
      );
    }
    return this.toDto((await repo.findOneBy({ id: row.id }))!);
  }

  private async completeExport(
    m: EntityManager,
    row: PrivacyRequest,
    orders: BuyerOrder[],
  ): Promise<void> {
    const opened = await this.buyers.openAll(
      m,
      orders.map((o) => o.orderId),
    );
    const data: PrivacyExportDto = {
      orders: opened.map((o) => ({
        orderId: o.orderId,
        externalId: o.externalId,
        customer: exportedCustomer(o.buyer),
      })),
    };
    const sealed = this.box.seal(JSON.stringify(data), privacyResultAad(row.id));
    await m.query(
      `UPDATE privacy_requests
          SET status = 'completed', completed_at = now(), orders_found = $2, order_ids = $3::uuid[],
              result_sealed = $4, result_key_id = $5,
              result_expires_at = now() + make_interval(secs => $6)
        WHERE id = $1`,
      [
        row.id,
        opened.length,
        opened.map((o) => o.orderId),
        sealed.sealed,
        sealed.keyId,
        EXPORT_RESULT_TTL_MS / 1000,
      ],
    );
  }

  private async completeErase(
    m: EntityManager,
    row: PrivacyRequest,
    orders: BuyerOrder[],
  ): Promise<void> {
    const erased = new Set(
      await this.buyers.erase(
        m,
        orders.map((o) => o.orderId),
      ),
    );
    const byPartner = new Map<string, string[]>();
    for (const o of orders) {
      if (!erased.has(o.orderId)) continue;
      byPartner.set(o.partnerId, [...(byPartner.get(o.partnerId) ?? []), o.orderId]);
    }
    for (const [partnerId, orderIds] of byPartner) {
      await this.outbox.record(m, partnerId, 'privacy.buyer_erased', {
        requestId: row.id,
        orderIds,
      });
    }
    const orderIds = [...erased];
    // Earlier exports of these orders held the same data: dropped with it.
    if (orderIds.length > 0) {
      await m.query(
        `UPDATE privacy_requests SET result_sealed = NULL, result_key_id = NULL
          WHERE result_sealed IS NOT NULL AND order_ids && $1::uuid[]`,
        [orderIds],
      );
    }
    await m.query(
      `UPDATE privacy_requests
          SET status = 'completed', completed_at = now(), orders_found = $2, order_ids = $3::uuid[],
              partners_notified = $4::uuid[]
        WHERE id = $1`,
      [row.id, orderIds.length, orderIds, [...byPartner.keys()]],
    );
  }

  private toDto(r: PrivacyRequest): PrivacyRequestDto {
    const dto: PrivacyRequestDto = {
      id: r.id,
      kind: r.kind,
      source: r.source,
      status: r.status,
      ordersFound: r.ordersFound,
      partnersNotified: r.partnersNotified,
      createdAt: r.createdAt.toISOString(),
      completedAt: r.completedAt ? r.completedAt.toISOString() : null,
    };
    if (r.kind === 'export' && r.status === 'completed' && r.resultSealed && r.resultKeyId) {
      dto.data = JSON.parse(
        this.box.open({ keyId: r.resultKeyId, sealed: r.resultSealed }, privacyResultAad(r.id)),
      ) as PrivacyExportDto;
    }
    return dto;
  }
}

/** Every personal field held for the buyer of one order (API.md's export `customer`). */
export function exportedCustomer(b: BuyerRecord): PrivacyExportDto['orders'][number]['customer'] {
  return {
    email: b.email,
    name: b.name ?? null,
    phone: b.phone ?? null,
    shippingAddress: b.shippingAddress ? addressWithNulls(b.shippingAddress) : null,
    billingAddress: b.billingAddress ? addressWithNulls(b.billingAddress) : null,
  };
}
