import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { AxiosInstance, AxiosResponse, Method } from 'axios';
import type { AppConfig } from '../../../../config/env.schema';
import { guardedLookup } from '../../../common/egress-guard';
import { redactText } from '../../../common/redact';
import { StoreApiError } from '../store-provider';

/** Timeout of one HTTP call to a store. */
export const SHOPIFY_TIMEOUT_MS = 15_000;
/** How many 429s in a row a call waits out before giving up (the job then retries). */
const MAX_RATE_LIMIT_WAITS = 10;
/** Network errors and these statuses are retried a few times with backoff. */
const RETRYABLE_STATUSES = new Set([500, 502, 503, 504]);
const MAX_TRANSIENT_RETRIES = 3;

export interface ShopifyResponse<T> {
  data: T;
  headers: Record<string, string>;
}

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seconds (Shopify sends e.g. "2.0") → ms; a missing or odd value waits 2 s. */
export function retryAfterMs(value: string | undefined): number {
  const s = Number(value);
  return Number.isFinite(s) && s >= 0 ? Math.min(Math.ceil(s * 1000), 60_000) : 2000;
}

/**
 * A short, single-line summary of Shopify's `errors` member (a string, a list, or an object
 * of field → messages), e.g. "line_items: Variant 1 is out of stock". Redacted and bounded.
 */
export function summarizeErrors(body: unknown): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const flat = (v: unknown): string[] =>
    typeof v === 'string'
      ? [v]
      : Array.isArray(v)
        ? v.flatMap(flat)
        : v && typeof v === 'object'
          ? Object.entries(v as Record<string, unknown>).map(
              ([k, x]) => `${k}: ${flat(x).join(', ')}`,
            )
          : [];
  const text = flat(errors).join('; ').replace(/\s+/g, ' ').trim();
  return redactText(text).slice(0, 300);
}

/**
 * How long to pause before the next call, from `X-Shopify-Shop-Api-Call-Limit: used/size`:
 * nothing while the bucket is less than 80 % full, then the time it takes to leak back
 * under that mark at the standard 2 requests/s.
 */
export function callLimitPauseMs(header: string | undefined): number {
  const m = /^(\d+)\/(\d+)$/.exec(header ?? '');
  if (!m) return 0;
  const used = Number(m[1]);
  const size = Number(m[2]);
  const mark = Math.floor(size * 0.8);
  return used < mark ? 0 : Math.ceil(((used - mark + 1) / 2) * 1000);
}

/**
 * The one adapter for Shopify's HTTP API (OAuth token exchange, REST Admin API). It owns
 * timeouts, the egress guard, 429/Retry-After, the call-limit header and bounded retries,
 * and turns every failure into a StoreApiError without headers or bodies (the access
 * token and the app secret travel in them).
 */
export class ShopifyClient {
  private readonly http: AxiosInstance;
  private readonly agents: Array<HttpAgent | HttpsAgent>;

  constructor(
    private readonly config: AppConfig,
    private readonly sleep: Sleep = realSleep,
  ) {
    const policy = { allowPrivateNetworks: config.egressAllowPrivateNetworks };
    const lookup = guardedLookup(policy);
    const httpAgent = new HttpAgent({ keepAlive: true, lookup });
    const httpsAgent = new HttpsAgent({ keepAlive: true, lookup });
    this.agents = [httpAgent, httpsAgent];
    this.http = axios.create({
      timeout: SHOPIFY_TIMEOUT_MS,
      maxRedirects: 0,
      validateStatus: () => true,
      httpAgent,
      httpsAgent,
      headers: { 'user-agent': 'Castbridge', accept: 'application/json' },
    });
  }

  /** Closes kept-alive connections (shutdown). */
  close(): void {
    for (const a of this.agents) a.destroy();
  }

  /** https://<shop>, or SHOPIFY_API_ORIGIN when set (a local store in tests). */
  origin(shop: string): string {
    return this.config.shopify.apiOrigin ?? `https://${shop}`;
  }

  adminPath(path: string): string {
    return `/admin/api/${this.config.shopify.apiVersion}/${path}`;
  }

  async request<T>(
    shop: string,
    method: Method,
    path: string,
    opts: {
      token?: string;
      params?: Record<string, string | number>;
      data?: unknown;
      /**
       * False for calls that must not be repeated blindly (creating an order): a network
       * error or a 5xx is thrown at once, because the store may have done it already.
       */
      retryTransient?: boolean;
      /** Adds a short summary of a 4xx answer's `errors` (never headers) to the error. */
      errorDetail?: boolean;
    } = {},
  ): Promise<ShopifyResponse<T>> {
    const maxTransient = opts.retryTransient === false ? 0 : MAX_TRANSIENT_RETRIES;
    const url = `${this.origin(shop)}${path}`;
    let rateLimited = 0;
    let transient = 0;
    for (;;) {
      let res: AxiosResponse;
      try {
        res = await this.http.request({
          method,
          url,
          params: opts.params,
          data: opts.data,
          headers: opts.token ? { 'x-shopify-access-token': opts.token } : {},
        });
      } catch (err) {
        // Never rethrow the axios error: its config carries the headers (the token).
        const code = (err as { code?: string }).code ?? 'network error';
        if (transient++ < maxTransient) {
          await this.sleep(500 * 2 ** transient);
          continue;
        }
        throw new StoreApiError('unavailable', `${method} ${path}: ${code}`);
      }
      const headers = Object.fromEntries(
        Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      if (res.status === 429) {
        if (rateLimited++ >= MAX_RATE_LIMIT_WAITS) {
          throw new StoreApiError(
            'rate_limited',
            `${method} ${path}: still rate limited`,
            429,
            retryAfterMs(headers['retry-after']),
          );
        }
        await this.sleep(retryAfterMs(headers['retry-after']));
        continue;
      }
      if (res.status === 401) {
        throw new StoreApiError('unauthorized', `${method} ${path}: 401 (token revoked?)`, 401);
      }
      if (RETRYABLE_STATUSES.has(res.status) && transient++ < maxTransient) {
        await this.sleep(500 * 2 ** transient);
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        const detail =
          opts.errorDetail && res.status < 500 ? summarizeErrors(res.data as unknown) : '';
        throw new StoreApiError(
          res.status >= 500 ? 'unavailable' : 'rejected',
          `${method} ${path}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`,
          res.status,
          headers['retry-after'] !== undefined ? retryAfterMs(headers['retry-after']) : null,
        );
      }
      const pause = callLimitPauseMs(headers['x-shopify-shop-api-call-limit']);
      if (pause > 0) await this.sleep(pause);
      return { data: res.data as T, headers };
    }
  }
}
