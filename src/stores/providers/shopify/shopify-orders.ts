import { StoreApiError, StoreOrderInput } from '../store-provider';
import { legacyId, userErrorsSummary } from './shopify-graphql';

/**
 * Shopify order creation (GraphQL Admin API `orderCreate`) and lookup (`orders(query:
 * "tag:…")`). Pure functions: the provider sends what these build and reads what they parse.
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

/** The `orderCreate` mutation: no receipts, stock decremented obeying each variant's policy. */
export const ORDER_CREATE_MUTATION = `mutation CastbridgeOrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id legacyResourceId }
    userErrors { field message code }
  }
}`;

/** The variables of ORDER_CREATE_MUTATION for this order. */
export function toOrderCreateVariables(input: StoreOrderInput): {
  order: Record<string, unknown>;
  options: Record<string, unknown>;
} {
  const c = input.customer;
  const a = c.shippingAddress;
  const order: Record<string, unknown> = {
    email: c.email,
    lineItems: input.lineItems.map((l) => ({
      variantId: `gid://shopify/ProductVariant/${l.variantExternalId}`,
      quantity: l.quantity,
    })),
    tags: [CASTBRIDGE_TAG, orderTag(input.reference)],
    note: `Castbridge order ${input.reference} (partner order ${input.partnerOrderId})`,
    customAttributes: [
      { key: 'castbridge_order_id', value: input.reference },
      { key: 'partner_order_id', value: input.partnerOrderId },
    ],
    sourceIdentifier: input.reference,
    financialStatus: 'PENDING',
    customer: {
      toUpsert: {
        email: c.email,
        firstName: nonEmpty(c.firstName),
        lastName: nonEmpty(c.lastName),
      },
    },
  };
  if (input.currency) order.currency = input.currency;
  if (a) {
    order.shippingAddress = {
      firstName: nonEmpty(a.firstName ?? c.firstName),
      lastName: nonEmpty(a.lastName ?? c.lastName),
      address1: a.address1,
      address2: nonEmpty(a.address2),
      city: a.city,
      provinceCode: nonEmpty(a.province),
      zip: nonEmpty(a.zip),
      countryCode: a.country,
      phone: nonEmpty(a.phone),
    };
  }
  return {
    order,
    // The store refuses what it cannot sell instead of overselling; the buyer gets no mail.
    options: {
      inventoryBehaviour: 'DECREMENT_OBEYING_POLICY',
      sendReceipt: false,
      sendFulfillmentReceipt: false,
    },
  };
}

/**
 * The id of the order orderCreate answered with; userErrors (e.g. out of stock) become a
 * `rejected` StoreApiError carrying their short summary.
 */
export function createdOrderId(data: unknown): string {
  const r = (
    data as {
      orderCreate?: {
        order?: { id?: unknown; legacyResourceId?: unknown } | null;
        userErrors?: unknown[];
      };
    } | null
  )?.orderCreate;
  if (r?.userErrors?.length) {
    throw new StoreApiError('rejected', `orderCreate: ${userErrorsSummary(r.userErrors)}`, 422);
  }
  const id = legacyId(r?.order?.legacyResourceId) ?? legacyId(r?.order?.id);
  if (id) return id;
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
