import type { StoreOrderInput } from '../../stores/providers/store-provider';
import type { OrderDto } from './order.dto';
import { addressWithNulls, type BuyerRecord } from './buyer-record';
import type { Order, OrderLineItem } from './order.entity';

/** A catalog variant as read for pricing an order. */
export interface PricedVariant {
  id: string;
  productId: string;
  externalId: string;
  productTitle: string;
  title: string;
  sku: string | null;
  /** numeric(14,2) as pg returns it: "12.50". */
  price: string;
}

/** "12.5" / "12.50" → 1250 (cents); decimal strings only, never floats. */
export function toCents(price: string): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(price.trim());
  if (!m) throw new Error(`not a price: "${price}"`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function fromCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Line items priced from the catalog, in the order asked, and their total. */
export function priceLineItems(
  requested: Array<{ variantId: string; quantity: number }>,
  variants: Map<string, PricedVariant>,
): { lineItems: OrderLineItem[]; totalPrice: string } {
  let total = 0;
  const lineItems = requested.map((r) => {
    const v = variants.get(r.variantId);
    if (!v) throw new Error(`variant ${r.variantId} was not loaded`);
    const price = fromCents(toCents(v.price));
    total += toCents(price) * r.quantity;
    return {
      variantId: v.id,
      productId: v.productId,
      externalVariantId: v.externalId,
      title:
        v.title && v.title !== 'Default Title' ? `${v.productTitle} - ${v.title}` : v.productTitle,
      sku: v.sku,
      quantity: r.quantity,
      price,
    };
  });
  return { lineItems, totalPrice: fromCents(total) };
}

/** "Ada King Lovelace" → first "Ada", last "King Lovelace"; one word is a last name. */
export function splitName(name: string | undefined): {
  firstName: string | null;
  lastName: string | null;
} {
  const parts = (name ?? '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { firstName: null, lastName: null };
  if (parts.length === 1) return { firstName: null, lastName: parts[0] };
  return { firstName: parts[0], lastName: parts.slice(1).join(' ') };
}

/**
 * What the store provider needs to create the order (no secrets, no partner data beyond
 * it); `buyer` is the order's buyer opened from its sealed column (null once erased).
 */
export function toStoreOrderInput(
  order: Pick<Order, 'id' | 'externalId' | 'currency' | 'lineItems'>,
  buyer: BuyerRecord | null,
): StoreOrderInput {
  const customer: BuyerRecord = buyer ?? { email: '' };
  const { firstName, lastName } = splitName(customer.name);
  const a = customer.shippingAddress;
  return {
    reference: order.id,
    partnerOrderId: order.externalId,
    currency: order.currency,
    lineItems: order.lineItems.map((l) => ({
      variantExternalId: l.externalVariantId,
      quantity: l.quantity,
      title: l.title,
      price: l.price,
    })),
    customer: {
      email: customer.email,
      firstName,
      lastName,
      shippingAddress: a ? addressWithNulls(a) : null,
    },
  };
}

/** The Order of API.md. */
export function toOrderDto(o: Order): OrderDto {
  return {
    id: o.id,
    externalId: o.externalId,
    brandId: o.brandId,
    sessionId: o.sessionId,
    status: o.status,
    storeOrderId: o.storeOrderId,
    lineItems: o.lineItems.map((l) => ({
      variantId: l.variantId,
      productId: l.productId,
      title: l.title,
      sku: l.sku,
      quantity: l.quantity,
      price: l.price,
    })),
    totalPrice: fromCents(toCents(String(o.totalPrice))),
    currency: o.currency,
    failureReason: o.failureReason,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}
