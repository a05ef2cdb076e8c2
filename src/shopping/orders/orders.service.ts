import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode, FieldProblem } from '../../common/errors';
import { isUuid } from '../../common/pagination';
import { JobQueue } from '../../queues/job-queue.service';
import { orderJobId } from '../../queues/queue-registry';
import type { CreateOrderDto, OrderDto } from './order.dto';
import type { BuyerRecord } from './buyer-record';
import { Order } from './order.entity';
import { PricedVariant, priceLineItems, toOrderDto } from './order.mapper';
import { OrderStatusService } from './order-status.service';

interface VariantRow {
  id: string;
  product_id: string;
  external_id: string;
  product_title: string;
  title: string;
  sku: string | null;
  price: string;
  inventory_quantity: number;
  inventory_tracked: boolean;
  inventory_policy: string;
  store_connection_id: string;
  connection_status: string;
  currency: string | null;
}

/**
 * POST /v1/orders and GET /v1/orders/:id. Creating an order writes one row (priced from the
 * catalog, idempotent on the partner's externalId; written by OrderStatusService) and, after
 * the commit, enqueues its placement; the sweeper (OrderPlacementService.sweep) enqueues it if that enqueue is lost.
 */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly jobs: JobQueue,
    private readonly orders: OrderStatusService,
  ) {}

  async get(partnerId: string, id: string): Promise<OrderDto> {
    const o = isUuid(id) ? await this.db.getRepository(Order).findOneBy({ id, partnerId }) : null;
    if (!o) throw AppError.notFound('order');
    return toOrderDto(o);
  }

  /** `created` false: an order with this externalId already existed (returned as it is). */
  async create(
    partnerId: string,
    dto: CreateOrderDto,
  ): Promise<{ order: OrderDto; created: boolean }> {
    const existing = await this.findByExternalId(partnerId, dto.externalId);
    if (existing) return { order: await this.afterCommit(existing), created: false };

    await this.assertOwned(partnerId, dto);
    const variants = await this.loadVariants(partnerId, dto);
    const first = variants.values().next().value as VariantRow;
    if (first.connection_status !== 'linked') {
      throw new AppError(
        ErrorCode.Conflict,
        `the brand's store connection is ${first.connection_status}, not linked`,
      );
    }
    this.assertStock(dto, variants);

    const priced = new Map<string, PricedVariant>(
      [...variants.values()].map((v) => [
        v.id,
        {
          id: v.id,
          productId: v.product_id,
          externalId: v.external_id,
          productTitle: v.product_title,
          title: v.title,
          sku: v.sku,
          price: v.price,
        },
      ]),
    );
    const { lineItems, totalPrice } = priceLineItems(dto.lineItems, priced);
    const c = dto.customer;
    const customer: BuyerRecord = {
      email: c.email,
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.phone !== undefined ? { phone: c.phone } : {}),
      ...(c.shippingAddress ? { shippingAddress: { ...c.shippingAddress } } : {}),
      ...(c.billingAddress ? { billingAddress: { ...c.billingAddress } } : {}),
    };
    const created = await this.orders.insertPending(this.db.manager, {
      partnerId,
      brandId: dto.brandId,
      storeConnectionId: first.store_connection_id,
      sessionId: dto.sessionId ?? null,
      externalId: dto.externalId,
      lineItems,
      totalPrice,
      currency: first.currency,
      customer,
    });
    const row = await this.findByExternalId(partnerId, dto.externalId);
    if (!row) throw new Error('order vanished right after its insert');
    return { order: await this.afterCommit(row), created };
  }

  /** Enqueues the placement of a pending order (a no-op when its job exists). */
  private async afterCommit(o: Order): Promise<OrderDto> {
    if (o.status === 'pending') {
      try {
        await this.jobs.add('orders.place', { orderId: o.id }, { jobId: orderJobId(o.id) });
      } catch (err) {
        // The sweeper enqueues it later; the order is safely recorded.
        this.logger.warn(`order ${o.id}: placement not queued yet: ${(err as Error).message}`);
      }
    }
    return toOrderDto(o);
  }

  private findByExternalId(partnerId: string, externalId: string): Promise<Order | null> {
    return this.db.getRepository(Order).findOneBy({ partnerId, externalId });
  }

  private async assertOwned(partnerId: string, dto: CreateOrderDto): Promise<void> {
    const [brand]: unknown[] = await this.db.query(
      `SELECT 1 FROM brands WHERE id = $1 AND partner_id = $2`,
      [dto.brandId, partnerId],
    );
    if (!brand) throw AppError.validation('brandId', 'brand does not exist');
    if (dto.sessionId) {
      const [session]: unknown[] = await this.db.query(
        `SELECT 1 FROM sessions WHERE id = $1 AND partner_id = $2`,
        [dto.sessionId, partnerId],
      );
      if (!session) throw AppError.validation('sessionId', 'session does not exist');
    }
  }

  /** Every variant of the order, which must belong to the brand (and one store connection). */
  private async loadVariants(
    partnerId: string,
    dto: CreateOrderDto,
  ): Promise<Map<string, VariantRow>> {
    const rows: VariantRow[] = await this.db.query(
      `SELECT v.id, v.product_id, v.external_id, p.title AS product_title, v.title, v.sku,
              v.price::text AS price, v.inventory_quantity, v.inventory_tracked, v.inventory_policy,
              v.store_connection_id, c.status AS connection_status, c.currency
         FROM variants v
         JOIN products p ON p.id = v.product_id
         JOIN store_connections c ON c.id = v.store_connection_id
        WHERE v.id = ANY($1::uuid[]) AND p.partner_id = $2 AND p.brand_id = $3
          AND p.deleted_at IS NULL`,
      [[...new Set(dto.lineItems.map((l) => l.variantId))], partnerId, dto.brandId],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const problems: FieldProblem[] = [];
    dto.lineItems.forEach((l, i) => {
      if (!byId.has(l.variantId)) {
        problems.push({
          field: `lineItems[${i}].variantId`,
          message: 'no such variant of the brand',
        });
      }
    });
    if (problems.length) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        problems,
      );
    }
    if (new Set(rows.map((r) => r.store_connection_id)).size > 1) {
      throw AppError.validation('lineItems', 'all variants must come from one store');
    }
    return byId;
  }

  /** 409 naming each line item whose variant has too little stock (tracked, policy deny). */
  private assertStock(dto: CreateOrderDto, variants: Map<string, VariantRow>): void {
    const wanted = new Map<string, number>();
    for (const l of dto.lineItems)
      wanted.set(l.variantId, (wanted.get(l.variantId) ?? 0) + l.quantity);
    const problems: FieldProblem[] = [];
    dto.lineItems.forEach((l, i) => {
      const v = variants.get(l.variantId)!;
      const need = wanted.get(l.variantId)!;
      if (v.inventory_tracked && v.inventory_policy === 'deny' && need > v.inventory_quantity) {
        problems.push({
          field: `lineItems[${i}].quantity`,
          message: `only ${Math.max(0, v.inventory_quantity)} in stock, ${need} ordered`,
        });
      }
    });
    if (problems.length) {
      throw new AppError(
        ErrorCode.Conflict,
        `not enough stock: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
        problems,
      );
    }
  }
}
