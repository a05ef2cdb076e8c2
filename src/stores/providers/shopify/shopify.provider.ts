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
  StoreOrderInput,
  StoreProduct,
  StoreProvider,
} from '../store-provider';
import {
  createdOrderId,
  lookedUpOrderId,
  ORDER_LOOKUP_QUERY,
  orderSearchQuery,
  toShopifyOrder,
} from './shopify-orders';
import {
  nextPageInfo,
  SHOPIFY_TOPICS,
  storeTime,
  toStoreChange,
  toStoreProduct,
} from './shopify-payloads';
import { normalizeShopDomain, verifyOAuthQuery, verifyWebhookBody } from './shopify-signatures';
import { ShopifyClient } from './shopify.client';

/** REST Admin API's largest page. */
export const SHOPIFY_PAGE_SIZE = 250;
/** Shopify's OAuth redirect carries a timestamp; older redirects are refused. */
const CALLBACK_MAX_AGE_S = 10 * 60;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

interface WebhookResource {
  id: number | string;
  topic: string;
  address: string;
}

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

  async exchangeCode(
    shop: string,
    code: string,
  ): Promise<{ accessToken: string; scopes: string[] }> {
    const res = await this.client.request<{ access_token?: string; scope?: string }>(
      shop,
      'POST',
      '/admin/oauth/access_token',
      { data: { client_id: this.config.shopify.apiKey, client_secret: this.secret, code } },
    );
    const token = res.data?.access_token;
    if (typeof token !== 'string' || !token) {
      throw new StoreApiError('rejected', 'token exchange answered without an access token');
    }
    const scopes = (res.data.scope ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return { accessToken: token, scopes };
  }

  async shopInfo(ctx: StoreApiContext): Promise<{ currency: string }> {
    const res = await this.client.request<{ shop?: { currency?: string } }>(
      ctx.shop,
      'GET',
      this.client.adminPath('shop.json'),
      { token: ctx.accessToken, params: { fields: 'currency' } },
    );
    return { currency: res.data?.shop?.currency ?? 'USD' };
  }

  async registerWebhooks(ctx: StoreApiContext, address: string): Promise<string[]> {
    const ids: string[] = [];
    let existing: WebhookResource[] | null = null;
    for (const topic of SHOPIFY_TOPICS) {
      try {
        const res = await this.client.request<{ webhook: WebhookResource }>(
          ctx.shop,
          'POST',
          this.client.adminPath('webhooks.json'),
          { token: ctx.accessToken, data: { webhook: { topic, address, format: 'json' } } },
        );
        ids.push(String(res.data.webhook.id));
      } catch (err) {
        // 422 "address for this topic has already been taken": a relink keeps the old one.
        if (!(err instanceof StoreApiError) || err.status !== 422) throw err;
        existing ??= (
          await this.client.request<{ webhooks: WebhookResource[] }>(
            ctx.shop,
            'GET',
            this.client.adminPath('webhooks.json'),
            { token: ctx.accessToken, params: { limit: 250 } },
          )
        ).data.webhooks;
        const found = existing.find((w) => w.topic === topic && w.address === address);
        if (!found) throw err;
        ids.push(String(found.id));
      }
    }
    return ids;
  }

  async unregisterWebhooks(ctx: StoreApiContext, ids: string[]): Promise<void> {
    for (const id of ids) {
      if (!/^\d{1,20}$/.test(id)) continue;
      try {
        await this.client.request(
          ctx.shop,
          'DELETE',
          this.client.adminPath(`webhooks/${id}.json`),
          {
            token: ctx.accessToken,
          },
        );
      } catch (err) {
        // Already gone (404) is what we want; a revoked token (401) cannot do more.
        if (!(err instanceof StoreApiError) || (err.status !== 404 && err.status !== 401))
          throw err;
      }
    }
  }

  async countProducts(ctx: StoreApiContext, updatedSince?: Date | null): Promise<number> {
    const params: Record<string, string> = {};
    if (updatedSince) params.updated_at_min = updatedSince.toISOString();
    const res = await this.client.request<{ count?: number }>(
      ctx.shop,
      'GET',
      this.client.adminPath('products/count.json'),
      { token: ctx.accessToken, params },
    );
    return typeof res.data?.count === 'number' ? res.data.count : 0;
  }

  async listProducts(
    ctx: StoreApiContext,
    { cursor, updatedSince }: { cursor: string | null; updatedSince?: Date | null },
  ): Promise<ProductPage> {
    // With page_info, Shopify accepts only limit (and fields): the filters live in the cursor.
    const params: Record<string, string | number> = { limit: SHOPIFY_PAGE_SIZE };
    if (cursor) params.page_info = cursor;
    else if (updatedSince) params.updated_at_min = updatedSince.toISOString();
    const res = await this.client.request<{ products?: unknown[] }>(
      ctx.shop,
      'GET',
      this.client.adminPath('products.json'),
      { token: ctx.accessToken, params },
    );
    const products = (res.data?.products ?? [])
      .map(toStoreProduct)
      .filter((p): p is StoreProduct => p !== null);
    return { products, nextCursor: nextPageInfo(res.headers.link) };
  }

  async listProductIds(
    ctx: StoreApiContext,
    { cursor }: { cursor: string | null },
  ): Promise<{ ids: string[]; nextCursor: string | null }> {
    const params: Record<string, string | number> = { limit: SHOPIFY_PAGE_SIZE, fields: 'id' };
    if (cursor) params.page_info = cursor;
    const res = await this.client.request<{ products?: Array<{ id?: unknown }> }>(
      ctx.shop,
      'GET',
      this.client.adminPath('products.json'),
      { token: ctx.accessToken, params },
    );
    const ids = (res.data?.products ?? [])
      .map((p) => (typeof p.id === 'number' || typeof p.id === 'string' ? String(p.id) : ''))
      .filter(Boolean);
    return { ids, nextCursor: nextPageInfo(res.headers.link) };
  }

  async findOrderByReference(ctx: StoreApiContext, reference: string): Promise<string | null> {
    // A query (no side effect): the client's own transient retries are fine here.
    const res = await this.client.request<unknown>(
      ctx.shop,
      'POST',
      this.client.adminPath('graphql.json'),
      {
        token: ctx.accessToken,
        data: { query: ORDER_LOOKUP_QUERY, variables: { query: orderSearchQuery(reference) } },
      },
    );
    return lookedUpOrderId(res.data, reference);
  }

  async createOrder(
    ctx: StoreApiContext,
    input: StoreOrderInput,
  ): Promise<{ storeOrderId: string }> {
    const res = await this.client.request<unknown>(
      ctx.shop,
      'POST',
      this.client.adminPath('orders.json'),
      {
        token: ctx.accessToken,
        data: toShopifyOrder(input),
        retryTransient: false,
        errorDetail: true,
      },
    );
    return { storeOrderId: createdOrderId(res.data) };
  }

  verifyWebhook(rawBody: Buffer, headers: Headers): boolean {
    if (!this.configured) return false;
    return verifyWebhookBody(rawBody, header(headers, 'x-shopify-hmac-sha256'), this.secret);
  }

  webhookEnvelope(headers: Headers): InboundEnvelope | null {
    const eventKey =
      header(headers, 'x-shopify-event-id') || header(headers, 'x-shopify-webhook-id');
    const topic = header(headers, 'x-shopify-topic');
    const shop = normalizeShopDomain(header(headers, 'x-shopify-shop-domain') ?? '');
    if (!eventKey || eventKey.length > 200 || !topic || topic.length > 100 || !shop) return null;
    return {
      eventKey,
      topic,
      shop,
      triggeredAt: storeTime(header(headers, 'x-shopify-triggered-at')),
    };
  }

  toChange(topic: string, payload: unknown, triggeredAt: Date | null): StoreChange {
    return toStoreChange(topic, payload, triggeredAt);
  }
}
