import { StoreApiError, StoreOrderInput } from '../store-provider';

/**
 * Shopify order creation (REST Admin API `POST orders.json`) and lookup (GraphQL Admin API
 * `orders(query: "tag:…")`; REST cannot filter orders by tag). Pure functions: the
 * provider sends what these build and reads what they parse.
 */

/** Every order Castbridge creates carries this tag (merchants can filter on it). */
export const CASTBRIDGE_TAG = 'castbridge';

/** The tag that identifies one of our orders (Shopify tags: at most 40 characters). */
export function orderTag(reference: string): string {
  return `cb-${reference}`;
}

/** Search query of the lookup: the exact tag, quoted. */
export function orderSearchQuery(reference: string): string {
  return `tag:'${orderTag(reference).replace(/['\\]/g, '')}'`;
}

export const ORDER_LOOKUP_QUERY = `query CastbridgeOrderByTag($query: String!) {
  orders(first: 5, query: $query) {
    edges { node { id legacyResourceId tags } }
  }
}`;

function nonEmpty(v: string | null | undefined): string | undefined {
  return v ? v : undefined;
}

/** The `{order: …}` body of POST orders.json. */
export function toShopifyOrder(input: StoreOrderInput): { order: Record<string, unknown> } {
  const c = input.customer;
  const a = c.shippingAddress;
  const order: Record<string, unknown> = {
    email: c.email,
    line_items: input.lineItems.map((l) => ({
      variant_id: Number(l.variantExternalId),
      quantity: l.quantity,
    })),
    tags: `${CASTBRIDGE_TAG}, ${orderTag(input.reference)}`,
    note: `Castbridge order ${input.reference} (partner order ${input.partnerOrderId})`,
    note_attributes: [
      { name: 'castbridge_order_id', value: input.reference },
      { name: 'partner_order_id', value: input.partnerOrderId },
    ],
    source_identifier: input.reference,
    // The store refuses (422) what it cannot sell instead of overselling.
    inventory_behaviour: 'decrement_obeying_policy',
    financial_status: 'pending',
    send_receipt: false,
    send_fulfillment_receipt: false,
    customer: {
      email: c.email,
      first_name: nonEmpty(c.firstName),
      last_name: nonEmpty(c.lastName),
    },
  };
  if (input.currency) order.currency = input.currency;
  if (a) {
    order.shipping_address = {
      first_name: nonEmpty(a.firstName ?? c.firstName),
      last_name: nonEmpty(a.lastName ?? c.lastName),
      address1: a.address1,
      address2: nonEmpty(a.address2),
      city: a.city,
      province: nonEmpty(a.province),
      zip: nonEmpty(a.zip),
      country_code: a.country,
      phone: nonEmpty(a.phone),
    };
  }
  return { order };
}

/** The id of the order POST orders.json answered with. */
export function createdOrderId(body: unknown): string {
  const id = (body as { order?: { id?: unknown } } | null)?.order?.id;
  if (
    (typeof id === 'number' && Number.isInteger(id)) ||
    (typeof id === 'string' && /^\d+$/.test(id))
  ) {
    return String(id);
  }
  throw new StoreApiError('unavailable', 'order creation answered without an order id');
}

interface LookupBody {
  data?: {
    orders?: {
      edges?: Array<{ node?: { id?: string; legacyResourceId?: string; tags?: string[] } }>;
    };
  };
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

/** The store order id of the lookup's answer, or null when none carries the tag. */
export function lookedUpOrderId(body: unknown, reference: string): string | null {
  const b = (body ?? {}) as LookupBody;
  if (b.errors?.length) {
    const throttled = b.errors.some((e) => e.extensions?.code === 'THROTTLED');
    const codes = b.errors.map((e) => e.extensions?.code ?? 'error').join(', ');
    throw new StoreApiError(
      throttled ? 'rate_limited' : 'rejected',
      `order lookup answered with GraphQL errors (${codes})`,
      throttled ? 429 : 400,
    );
  }
  const tag = orderTag(reference);
  for (const e of b.data?.orders?.edges ?? []) {
    const n = e.node;
    // The search is by token; keep only an exact tag match.
    if (!n || !(n.tags ?? []).includes(tag)) continue;
    const legacy = n.legacyResourceId ?? /\/(\d+)$/.exec(n.id ?? '')?.[1];
    if (legacy && /^\d+$/.test(legacy)) return legacy;
  }
  return null;
}
