/**
 * What Castbridge needs from a shop platform. Shopify is the first implementation
 * (providers/shopify/); another platform is one new folder implementing this interface,
 * added to STORE_PROVIDER_CLASSES in stores.module.ts. Everything the rest of the code
 * sees is provider-neutral: StoreProduct, StoreChange, StoreApiError.
 */

/** What a call to a store's API needs. Built from a connection row; never queued or logged. */
export interface StoreApiContext {
  connectionId: string;
  shop: string;
  accessToken: string;
}

export interface StoreVariant {
  externalId: string;
  inventoryItemId: string | null;
  sku: string | null;
  title: string;
  /** Decimal string, two places: "12.50". */
  price: string;
  position: number;
  inventoryQuantity: number;
  inventoryTracked: boolean;
  /** "deny" (no overselling) or "continue". */
  inventoryPolicy: string;
}

/** A place a store keeps stock (Shopify: a Location). */
export interface StoreLocation {
  externalId: string;
  name: string;
  active: boolean;
  /** Its stock counts toward what the store sells online (Shopify: fulfillsOnlineOrders). */
  sellsOnline: boolean;
}

/** Stock of one inventory item at one location. */
export interface StoreInventoryLevel {
  inventoryItemId: string;
  locationId: string;
  available: number;
  at: Date;
}

/** What a token exchange or refresh gives: an access token, and for expiring tokens their refresh token. */
export interface StoreTokenGrant {
  accessToken: string;
  scopes: string[];
  /** When the access token expires (null: it does not). */
  expiresAt: Date | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: Date | null;
}

/** A catalog export the store runs on its side (Shopify: a bulk operation). */
export type StoreExportKind = 'products' | 'inventory';
export interface StoreExportStatus {
  id: string;
  status: 'running' | 'completed' | 'failed' | 'canceled' | 'expired';
  /** Where the result is read (completed only; null when the export found nothing). */
  url: string | null;
  errorCode: string | null;
  rootObjectCount: number;
}

export interface StoreProduct {
  externalId: string;
  title: string;
  handle: string;
  status: string;
  imageUrl: string | null;
  /** The store's updated_at: the freshness of this version. */
  updatedAt: Date;
  variants: StoreVariant[];
}

export type StoreOrderStatus = 'placed' | 'paid' | 'fulfilled' | 'cancelled' | 'refunded';

/** An order to create in a store, provider-neutral. */
export interface StoreOrderInput {
  /**
   * Castbridge's order id. The provider attaches it to the store order (Shopify: a tag)
   * so that findOrderByReference finds an order whose creation answer was lost.
   */
  reference: string;
  /** The partner's order id (shown to the merchant in the order's note). */
  partnerOrderId: string;
  currency: string | null;
  lineItems: Array<{ variantExternalId: string; quantity: number; title: string; price: string }>;
  customer: {
    email: string;
    firstName: string | null;
    lastName: string | null;
    shippingAddress: {
      firstName: string | null;
      lastName: string | null;
      address1: string;
      address2: string | null;
      city: string;
      province: string | null;
      zip: string | null;
      country: string;
      phone: string | null;
    } | null;
  };
}

/** One inbound store event, translated. `at` is the store time of the change (freshness). */
export type StoreChange =
  | { kind: 'product.upsert'; product: StoreProduct }
  | { kind: 'product.delete'; externalId: string; at: Date }
  | {
      kind: 'inventory.level';
      inventoryItemId: string;
      /** The location the level is at (null: a store without locations; the item's one level). */
      locationId: string | null;
      available: number;
      at: Date;
    }
  | { kind: 'export.finished'; exportId: string }
  | { kind: 'order.status'; storeOrderId: string; status: StoreOrderStatus; at: Date }
  | { kind: 'app.uninstalled'; shop: string | null }
  | { kind: 'ignored'; reason: string };

/** The headers of an inbound webhook that identify it. */
export interface InboundEnvelope {
  /** Dedupe key: the provider's event id (Shopify: X-Shopify-Event-Id, else X-Shopify-Webhook-Id). */
  eventKey: string;
  topic: string;
  shop: string;
  triggeredAt: Date | null;
}

export interface ProductPage {
  products: StoreProduct[];
  nextCursor: string | null;
}

export type Headers = Record<string, string | string[] | undefined>;

export interface StoreProvider {
  /** The `provider` value of the API and the path segment of /oauth/<name>/callback and /webhooks/<name>. */
  readonly name: string;
  /** False when the app credentials are not configured: the provider refuses new links. */
  readonly configured: boolean;
  /**
   * OAuth 2.0 with PKCE (RFC 7636, S256): Castbridge then makes a verifier per install,
   * keeps it sealed, passes its challenge to authorizeUrl and the verifier to exchangeCode.
   * Shopify's authorization-code grant does not use it.
   */
  readonly usesPkce: boolean;

  /** The canonical shop identifier, or null when the input is not a valid shop. */
  normalizeShop(input: string): string | null;
  authorizeUrl(params: {
    shop: string;
    state: string;
    redirectUri: string;
    codeChallenge?: string;
  }): string;
  /** Checks the callback's signature; null when it is missing or wrong. */
  verifyCallback(
    query: Record<string, unknown>,
  ): { shop: string; code: string; state: string } | null;
  exchangeCode(shop: string, code: string, codeVerifier?: string): Promise<StoreTokenGrant>;
  /**
   * A new access token (and the refresh token that replaces this one). Throws a
   * StoreApiError of kind `unauthorized` when the store refuses the refresh token (the
   * merchant must link again); any other failure is worth retrying. Absent: tokens do not expire.
   */
  refreshToken?(shop: string, refreshToken: string): Promise<StoreTokenGrant>;

  shopInfo(ctx: StoreApiContext): Promise<{ currency: string }>;
  /** Registers every webhook topic Castbridge handles; returns the store's webhook ids. */
  registerWebhooks(ctx: StoreApiContext, address: string): Promise<string[]>;
  unregisterWebhooks(ctx: StoreApiContext, ids: string[]): Promise<void>;
  countProducts(ctx: StoreApiContext, updatedSince?: Date | null): Promise<number>;
  /** One page of products (largest page size); `cursor` null starts from the beginning. */
  listProducts(
    ctx: StoreApiContext,
    params: { cursor: string | null; updatedSince?: Date | null },
  ): Promise<ProductPage>;

  /** Every location of the store. */
  listLocations(ctx: StoreApiContext): Promise<StoreLocation[]>;

  /**
   * Starts an export of the whole catalog (`products`: products and variants; `inventory`:
   * stock per location), or of what changed since `updatedSince`. Its end is announced by
   * an `export.finished` change (webhook) or seen by exportStatus (polling).
   */
  startExport(
    ctx: StoreApiContext,
    kind: StoreExportKind,
    updatedSince?: Date | null,
  ): Promise<string>;
  exportStatus(ctx: StoreApiContext, id: string): Promise<StoreExportStatus>;
  /** The export's result, streamed: one product (with all its variants) at a time. */
  readProductExport(url: string): AsyncIterable<StoreProduct>;
  /** The export's result, streamed: one inventory level at a time. */
  readInventoryExport(url: string): AsyncIterable<StoreInventoryLevel>;
  /** One page of stock levels changed since `updatedSince` (reconciliation). */
  listInventoryLevels(
    ctx: StoreApiContext,
    params: { cursor: string | null; updatedSince: Date },
  ): Promise<{ levels: StoreInventoryLevel[]; nextCursor: string | null }>;

  /** One page of product ids only (to find products deleted without a webhook). */
  listProductIds(
    ctx: StoreApiContext,
    params: { cursor: string | null },
  ): Promise<{ ids: string[]; nextCursor: string | null }>;

  /**
   * The store order carrying this reference (see StoreOrderInput.reference), or null.
   * Asked before every creation attempt, so a retry never creates an order twice.
   */
  findOrderByReference(ctx: StoreApiContext, reference: string): Promise<string | null>;
  /**
   * Creates the order. Must not retry by itself on a network error or a 5xx (the order may
   * exist): the caller looks it up by reference and tries again.
   */
  createOrder(ctx: StoreApiContext, input: StoreOrderInput): Promise<{ storeOrderId: string }>;

  /** Constant-time check of an inbound webhook's signature over its raw body. */
  verifyWebhook(rawBody: Buffer, headers: Headers): boolean;
  /**
   * The headers that identify an inbound webhook, or null when they are missing or
   * malformed. `triggeredAt` is clamped to now + a small skew; `stale` is set when it is
   * older than the freshness window (a replay of an old delivery).
   */
  webhookEnvelope(headers: Headers): (InboundEnvelope & { stale: boolean }) | null;
  /** Topics whose payloads are compliance requests (recorded sealed, not as catalog events). */
  isComplianceTopic(topic: string): boolean;
  toChange(topic: string, payload: unknown, triggeredAt: Date | null): StoreChange;
}

export type StoreApiErrorKind = 'unauthorized' | 'rate_limited' | 'unavailable' | 'rejected';

/**
 * A failed store call, already stripped of everything secret (no headers, no request
 * config, no body): safe to log, to keep as lastError, and to fail a job with.
 */
export class StoreApiError extends Error {
  constructor(
    public readonly kind: StoreApiErrorKind,
    message: string,
    public readonly status: number | null = null,
    /** How long the store asked us to wait (Retry-After), when it said. */
    public readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'StoreApiError';
  }
}

export const STORE_PROVIDERS = Symbol('STORE_PROVIDERS');
