import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../../../../config/env.schema';
import { APP_CONFIG } from '../../../common/app-config';
import {
  Headers,
  InboundEnvelope,
  ProductPage,
  StoreApiContext,
  StoreApiError,
  StoreChange,
  StoreExportKind,
  StoreExportStatus,
  StoreInventoryLevel,
  StoreLocation,
  StoreOrderInput,
  StoreProduct,
  StoreProvider,
  StoreTokenGrant,
  StoreVariant,
} from '../store-provider';
import {
  BULK_RUN_MUTATION,
  BULK_STATUS_QUERY,
  bulkInventoryQuery,
  bulkProductsQuery,
  exportStatusFromGraphql,
  gid,
  INVENTORY_LEVELS_QUERY,
  legacyId,
  levelFromGraphql,
  levelsFromJsonl,
  LOCATIONS_QUERY,
  locationFromGraphql,
  PRODUCT_IDS_QUERY,
  PRODUCT_VARIANTS_QUERY,
  productFromGraphql,
  PRODUCTS_COUNT_QUERY,
  PRODUCTS_PAGE,
  PRODUCTS_QUERY,
  productsFromJsonl,
  SHOP_QUERY,
  topicEnum,
  updatedSinceSearch,
  userErrorsSummary,
  variantFromGraphql,
  WEBHOOK_CREATE_MUTATION,
  WEBHOOK_DELETE_MUTATION,
  WEBHOOKS_QUERY,
} from './shopify-graphql';
import {
  createdOrderId,
  lookedUpOrderId,
  ORDER_CREATE_MUTATION,
  ORDER_LOOKUP_QUERY,
  orderSearchQuery,
  toOrderCreateVariables,
} from './shopify-orders';
import {
  SHOPIFY_COMPLIANCE_TOPICS,
  SHOPIFY_TOPICS,
  storeTime,
  toStoreChange,
} from './shopify-payloads';
import { normalizeShopDomain, verifyOAuthQuery, verifyWebhookBody } from './shopify-signatures';
import { ShopifyClient } from './shopify.client';

/** Shopify's OAuth redirect carries a timestamp; older redirects are refused. */
const CALLBACK_MAX_AGE_S = 10 * 60;
/** How far in the future X-Shopify-Triggered-At may be (clock skew); later is clamped. */
export const WEBHOOK_FUTURE_SKEW_MS = 60_000;
/**
 * Deliveries triggered longer ago than this are refused as replays. Shopify retries a
 * failed delivery for at most 4 hours (8 tries); applied events are remembered 7 days.
 */
export const WEBHOOK_MAX_AGE_MS = 24 * 3600_000;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

interface Page<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}

type GraphqlProduct = Record<string, unknown> & { id: string; variants: Page<unknown> };

interface TokenAnswer {
  access_token?: string;
  scope?: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
}

/**
 * Shopify through the GraphQL Admin API only (version SHOPIFY_API_VERSION): OAuth with
 * expiring offline tokens, bulk-operation exports, paged reconciliation queries,
 * orderCreate, webhookSubscriptionCreate/Delete. Ids are kept as Shopify's numeric legacy
 * ids (the webhooks' payloads use them); global ids are built where the API wants them.
 */
@Injectable()
export class ShopifyProvider implements StoreProvider, OnModuleDestroy {
  readonly name = 'shopify';
  readonly usesPkce = false;
  private readonly client: ShopifyClient;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.client = new ShopifyClient(config);
  }

  onModuleDestroy(): void {
    this.client.close();
  }

  get configured(): boolean {
    return Boolean(this.config.shopify.apiKey && this.config.shopify.apiSecret);
  }

  private get secret(): string {
    const s = this.config.shopify.apiSecret;
    if (!s) throw new StoreApiError('rejected', 'the Shopify provider is not configured');
    return s;
  }

  private gql<T>(
    ctx: StoreApiContext,
    query: string,
    variables: Record<string, unknown> = {},
    opts: { retryTransient?: boolean } = {},
  ): Promise<T> {
    return this.client
      .graphql<T>(ctx.shop, ctx.accessToken, query, variables, opts)
      .then((r) => r.data);
  }

  normalizeShop(input: string): string | null {
    return normalizeShopDomain(input);
  }

  authorizeUrl({
    shop,
    state,
    redirectUri,
  }: {
    shop: string;
    state: string;
    redirectUri: string;
  }): string {
    const q = new URLSearchParams({
      client_id: this.config.shopify.apiKey ?? '',
      scope: this.config.shopify.scopes.join(','),
      redirect_uri: redirectUri,
      state,
    });
    return `${this.client.origin(shop)}/admin/oauth/authorize?${q.toString()}`;
  }

  verifyCallback(
    query: Record<string, unknown>,
  ): { shop: string; code: string; state: string } | null {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (typeof v !== 'string') return null; // repeated or nested parameters: not Shopify's form
      params.append(k, v);
    }
    if (!this.configured || !verifyOAuthQuery(params, this.secret)) return null;
    const ts = Number(params.get('timestamp'));
    if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > CALLBACK_MAX_AGE_S) return null;
    const shop = normalizeShopDomain(params.get('shop') ?? '');
    const code = params.get('code');
    const state = params.get('state');
    if (!shop || !code || !state) return null;
    return { shop, code, state };
  }

  private grant(data: TokenAnswer | undefined, what: string): StoreTokenGrant {
    const token = data?.access_token;
    if (typeof token !== 'string' || !token) {
      throw new StoreApiError('rejected', `${what} answered without an access token`);
    }
    const now = Date.now();
    const seconds = (v: unknown) =>
      typeof v === 'number' && Number.isFinite(v) && v > 0 ? new Date(now + v * 1000) : null;
    return {
      accessToken: token,
      scopes: (data.scope ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      expiresAt: seconds(data.expires_in),
      refreshToken:
        typeof data.refresh_token === 'string' && data.refresh_token ? data.refresh_token : null,
      refreshTokenExpiresAt: seconds(data.refresh_token_expires_in),
    };
  }

  /** The authorization-code grant, asking for an expiring offline token (`expiring=1`). */
  async exchangeCode(shop: string, code: string): Promise<StoreTokenGrant> {
    const res = await this.client.request<TokenAnswer>(shop, 'POST', '/admin/oauth/access_token', {
      data: {
        client_id: this.config.shopify.apiKey,
        client_secret: this.secret,
        code,
        expiring: 1,
      },
    });
    return this.grant(res.data, 'token exchange');
  }

  /** The refresh-token grant. 400/401 from the store: the refresh token is refused. */
  async refreshToken(shop: string, refreshToken: string): Promise<StoreTokenGrant> {
    try {
      const res = await this.client.request<TokenAnswer>(
        shop,
        'POST',
        '/admin/oauth/access_token',
        {
          data: {
            client_id: this.config.shopify.apiKey,
            client_secret: this.secret,
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
          },
          retryTransient: true,
        },
      );
      return this.grant(res.data, 'token refresh');
    } catch (err) {
      if (err instanceof StoreApiError && (err.status === 400 || err.status === 401)) {
        throw new StoreApiError(
          'unauthorized',
          `token refresh refused (HTTP ${err.status})`,
          err.status,
        );
      }
      throw err;
    }
  }

  async shopInfo(ctx: StoreApiContext): Promise<{ currency: string }> {
    const data = await this.gql<{ shop?: { currencyCode?: string } }>(ctx, SHOP_QUERY);
    return { currency: data.shop?.currencyCode ?? 'USD' };
  }

  async registerWebhooks(ctx: StoreApiContext, address: string): Promise<string[]> {
    const ids: string[] = [];
    let existing: Array<{ id: string; topic: string; uri: string }> | null = null;
    for (const topic of SHOPIFY_TOPICS) {
      const data = await this.gql<{
        webhookSubscriptionCreate: {
          webhookSubscription: { id: string } | null;
          userErrors: Array<{ message: string }>;
        };
      }>(ctx, WEBHOOK_CREATE_MUTATION, {
        topic: topicEnum(topic),
        webhookSubscription: { uri: address, format: 'JSON' },
      });
      const r = data.webhookSubscriptionCreate;
      if (r.webhookSubscription) {
        ids.push(r.webhookSubscription.id);
        continue;
      }
      // "Address for this topic has already been taken": a relink keeps the old one.
      existing ??= await this.listWebhooks(ctx);
      const found = existing.find((w) => w.topic === topicEnum(topic) && w.uri === address);
      if (!found) {
        throw new StoreApiError(
          'rejected',
          `webhookSubscriptionCreate ${topic}: ${userErrorsSummary(r.userErrors)}`,
          422,
        );
      }
      ids.push(found.id);
    }
    return ids;
  }

  private async listWebhooks(
    ctx: StoreApiContext,
  ): Promise<Array<{ id: string; topic: string; uri: string }>> {
    const all: Array<{ id: string; topic: string; uri: string }> = [];
    let after: string | null = null;
    do {
      const data: { webhookSubscriptions: Page<{ id: string; topic: string; uri: string }> } =
        await this.gql(ctx, WEBHOOKS_QUERY, { after });
      all.push(...data.webhookSubscriptions.nodes);
      after = data.webhookSubscriptions.pageInfo.hasNextPage
        ? data.webhookSubscriptions.pageInfo.endCursor
        : null;
    } while (after);
    return all;
  }

  async unregisterWebhooks(ctx: StoreApiContext, ids: string[]): Promise<void> {
    for (const raw of ids) {
      const id = legacyId(raw);
      if (!id) continue;
      try {
        // Already gone answers a userError: that is what we want.
        await this.gql(ctx, WEBHOOK_DELETE_MUTATION, { id: gid('WebhookSubscription', id) });
      } catch (err) {
        // A revoked token (401) cannot do more.
        if (!(err instanceof StoreApiError) || err.kind !== 'unauthorized') throw err;
      }
    }
  }

  async countProducts(ctx: StoreApiContext, updatedSince?: Date | null): Promise<number> {
    const data = await this.gql<{ productsCount?: { count?: number } }>(ctx, PRODUCTS_COUNT_QUERY, {
      query: updatedSince ? updatedSinceSearch(updatedSince) : null,
    });
    return typeof data.productsCount?.count === 'number' ? data.productsCount.count : 0;
  }

  async listProducts(
    ctx: StoreApiContext,
    { cursor, updatedSince }: { cursor: string | null; updatedSince?: Date | null },
  ): Promise<ProductPage> {
    const data = await this.gql<{ products: Page<GraphqlProduct> }>(ctx, PRODUCTS_QUERY, {
      first: PRODUCTS_PAGE,
      after: cursor,
      query: updatedSince ? updatedSinceSearch(updatedSince) : null,
    });
    const products: StoreProduct[] = [];
    for (const node of data.products.nodes) {
      const variants = node.variants.nodes
        .map((v, i) => variantFromGraphql(v, i))
        .filter((v): v is StoreVariant => v !== null);
      let after = node.variants.pageInfo.hasNextPage ? node.variants.pageInfo.endCursor : null;
      // A product with more variants than a page holds (up to 2,048): the rest by product.
      while (after) {
        const more: { product: { variants: Page<unknown> } | null } = await this.gql(
          ctx,
          PRODUCT_VARIANTS_QUERY,
          { id: node.id, after },
        );
        const page = more.product?.variants;
        if (!page) break;
        for (const v of page.nodes) {
          const parsed = variantFromGraphql(v, variants.length);
          if (parsed) variants.push(parsed);
        }
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      }
      const p = productFromGraphql(node, variants);
      if (p) products.push(p);
    }
    const info = data.products.pageInfo;
    return { products, nextCursor: info.hasNextPage ? info.endCursor : null };
  }

  async listProductIds(
    ctx: StoreApiContext,
    { cursor }: { cursor: string | null },
  ): Promise<{ ids: string[]; nextCursor: string | null }> {
    const data = await this.gql<{ products: Page<{ legacyResourceId: string }> }>(
      ctx,
      PRODUCT_IDS_QUERY,
      { after: cursor },
    );
    const ids = data.products.nodes
      .map((p) => legacyId(p.legacyResourceId))
      .filter((id): id is string => id !== null);
    const info = data.products.pageInfo;
    return { ids, nextCursor: info.hasNextPage ? info.endCursor : null };
  }

  async listLocations(ctx: StoreApiContext): Promise<StoreLocation[]> {
    const all: StoreLocation[] = [];
    let after: string | null = null;
    do {
      const data: { locations: Page<unknown> } = await this.gql(ctx, LOCATIONS_QUERY, { after });
      for (const l of data.locations.nodes) {
        const loc = locationFromGraphql(l);
        if (loc) all.push(loc);
      }
      after = data.locations.pageInfo.hasNextPage ? data.locations.pageInfo.endCursor : null;
    } while (after);
    return all;
  }

  async startExport(
    ctx: StoreApiContext,
    kind: StoreExportKind,
    updatedSince?: Date | null,
  ): Promise<string> {
    const search = updatedSince ? updatedSinceSearch(updatedSince) : null;
    const query = kind === 'products' ? bulkProductsQuery(search) : bulkInventoryQuery(search);
    const data = await this.gql<{
      bulkOperationRunQuery: {
        bulkOperation: { id: string } | null;
        userErrors: Array<{ message: string; code?: string }>;
      };
    }>(ctx, BULK_RUN_MUTATION, { query }, { retryTransient: false });
    // Not repeated blindly on a timeout (each would start another operation): the job retries.
    const r = data.bulkOperationRunQuery;
    if (!r.bulkOperation) {
      // OPERATION_IN_PROGRESS and the like: worth trying again later.
      throw new StoreApiError(
        'unavailable',
        `bulkOperationRunQuery: ${userErrorsSummary(r.userErrors)}`,
      );
    }
    return r.bulkOperation.id;
  }

  async exportStatus(ctx: StoreApiContext, id: string): Promise<StoreExportStatus> {
    const data = await this.gql<{ node: unknown }>(ctx, BULK_STATUS_QUERY, { id });
    const status = exportStatusFromGraphql(data.node);
    return (
      status ?? { id, status: 'expired', url: null, errorCode: 'NOT_FOUND', rootObjectCount: 0 }
    );
  }

  readProductExport(url: string): AsyncIterable<StoreProduct> {
    return productsFromJsonl(this.client.lines(url));
  }

  readInventoryExport(url: string): AsyncIterable<StoreInventoryLevel> {
    return levelsFromJsonl(this.client.lines(url));
  }

  async listInventoryLevels(
    ctx: StoreApiContext,
    { cursor, updatedSince }: { cursor: string | null; updatedSince: Date },
  ): Promise<{ levels: StoreInventoryLevel[]; nextCursor: string | null }> {
    const data = await this.gql<{
      inventoryItems: Page<{ id: string; inventoryLevels: { nodes: unknown[] } }>;
    }>(ctx, INVENTORY_LEVELS_QUERY, { after: cursor, query: updatedSinceSearch(updatedSince) });
    const levels: StoreInventoryLevel[] = [];
    for (const item of data.inventoryItems.nodes) {
      for (const l of item.inventoryLevels.nodes) {
        const level = levelFromGraphql(l, item.id);
        if (level) levels.push(level);
      }
    }
    const info = data.inventoryItems.pageInfo;
    return { levels, nextCursor: info.hasNextPage ? info.endCursor : null };
  }

  async findOrderByReference(ctx: StoreApiContext, reference: string): Promise<string | null> {
    // A query (no side effect): the client's own transient retries are fine here.
    const data = await this.gql<unknown>(ctx, ORDER_LOOKUP_QUERY, {
      query: orderSearchQuery(reference),
    });
    return lookedUpOrderId({ data }, reference);
  }

  async createOrder(
    ctx: StoreApiContext,
    input: StoreOrderInput,
  ): Promise<{ storeOrderId: string }> {
    const data = await this.gql<unknown>(
      ctx,
      ORDER_CREATE_MUTATION,
      toOrderCreateVariables(input),
      {
        retryTransient: false,
      },
    );
    return { storeOrderId: createdOrderId(data) };
  }

  verifyWebhook(rawBody: Buffer, headers: Headers): boolean {
    if (!this.configured) return false;
    return verifyWebhookBody(rawBody, header(headers, 'x-shopify-hmac-sha256'), this.secret);
  }

  webhookEnvelope(headers: Headers): (InboundEnvelope & { stale: boolean }) | null {
    const eventKey =
      header(headers, 'x-shopify-event-id') || header(headers, 'x-shopify-webhook-id');
    const topic = header(headers, 'x-shopify-topic');
    const shop = normalizeShopDomain(header(headers, 'x-shopify-shop-domain') ?? '');
    // Shopify always sends it; without it a replay could not be told from a fresh delivery.
    const triggered = storeTime(header(headers, 'x-shopify-triggered-at'));
    if (!eventKey || eventKey.length > 200 || !topic || topic.length > 100 || !shop || !triggered)
      return null;
    const now = Date.now();
    const latest = now + WEBHOOK_FUTURE_SKEW_MS;
    return {
      eventKey,
      topic,
      shop,
      // Not signed: never later than now (+ skew), so it cannot outrank later changes forever.
      triggeredAt: triggered.getTime() > latest ? new Date(latest) : triggered,
      stale: triggered.getTime() < now - WEBHOOK_MAX_AGE_MS,
    };
  }

  isComplianceTopic(topic: string): boolean {
    return (SHOPIFY_COMPLIANCE_TOPICS as readonly string[]).includes(topic);
  }

  toChange(topic: string, payload: unknown, triggeredAt: Date | null): StoreChange {
    return toStoreChange(topic, payload, triggeredAt);
  }
}
