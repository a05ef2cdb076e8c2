import {
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const ORDER_STATUSES = [
  'pending',
  'placed',
  'failed',
  'paid',
  'fulfilled',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** One line as priced from the catalog at order time (kept: later price changes do not move it). */
export interface OrderLineItem {
  variantId: string;
  productId: string;
  /** The variant's id in the store. */
  externalVariantId: string;
  title: string;
  sku: string | null;
  quantity: number;
  /** Unit price, decimal string with two places. */
  price: string;
}

/**
 * An order a partner sent in, placed in the brand's store by the orders.place job.
 * Written only by OrderStatusService (its buyer columns by OrderBuyerData): created with INSERT … ON CONFLICT (partner_id,
 * external_id); status moves forward from the placement job and the store's order webhooks.
 */
@Entity({ name: 'orders' })
export class Order {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'brand_id', type: 'uuid' })
  brandId: string;

  @Column({ name: 'store_connection_id', type: 'uuid', nullable: true })
  storeConnectionId: string | null;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  /** The partner's order id (idempotency key, unique per partner). */
  @Column({ name: 'external_id', type: 'text' })
  externalId: string;

  @Column({ type: 'text' })
  status: OrderStatus;

  @Column({ name: 'store_order_id', type: 'text', nullable: true })
  storeOrderId: string | null;

  @Column({ name: 'store_updated_at', type: 'timestamptz', precision: 3, nullable: true })
  storeUpdatedAt: Date | null;

  @Column({ name: 'line_items', type: 'jsonb' })
  lineItems: OrderLineItem[];

  /** numeric(14,2): pg returns it as a string such as "25.00". */
  @Column({ name: 'total_price', type: 'numeric', precision: 14, scale: 2 })
  totalPrice: string;

  @Column({ type: 'text', nullable: true })
  currency: string | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  /**
   * The buyer's personal data (BuyerRecord), sealed with the SecretBox under
   * AAD `order:<id>:customer`; null once erased (on request or after retention).
   * Read and written by OrderBuyerData only.
   */
  @Column({ name: 'customer_sealed', type: 'text', nullable: true })
  customerSealed: string | null;

  @Column({ name: 'customer_key_id', type: 'text', nullable: true })
  customerKeyId: string | null;

  /** Keyed blind index of the buyer's normalized email (finds a buyer's orders). */
  @Column({ name: 'customer_email_index', type: 'bytea', nullable: true, select: false })
  customerEmailIndex: Buffer | null;

  /** When the buyer's data was erased. */
  @Column({ name: 'customer_erased_at', type: 'timestamptz', precision: 3, nullable: true })
  customerErasedAt: Date | null;

  /** When the order reached a final state (fulfilled, cancelled, refunded, failed). */
  @Column({ name: 'final_at', type: 'timestamptz', precision: 3, nullable: true })
  finalAt: Date | null;

  /** Placement attempts made so far. */
  @Column({ type: 'int' })
  attempts: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
