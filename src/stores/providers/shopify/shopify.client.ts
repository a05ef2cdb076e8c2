import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createInterface } from 'node:readline';
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

/** Shopify's GraphQL cost report (`extensions.cost`). */
export interface GraphqlCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
  extensions?: { cost?: GraphqlCost };
}

/** THROTTLED answers a call waits out before it gives up (the job then retries later). */
const MAX_THROTTLE_WAITS = 50;

/**
 * How long to wait before a query of `cost` points can run, from the last throttle status
 * seen `elapsedMs` ago: nothing when the bucket (refilled at restoreRate per second since)
 * holds it, else the time the bucket needs to refill that far.
 */
export function throttleWaitMs(
  status: GraphqlCost['throttleStatus'],
  cost: number,
  elapsedMs = 0,
): number {
  const rate = status.restoreRate > 0 ? status.restoreRate : 50;
  const now = Math.min(
    status.maximumAvailable,
    status.currentlyAvailable + (rate * Math.max(0, elapsedMs)) / 1000,
  );
  const need = Math.min(cost, status.maximumAvailable) - now;
  return need <= 0 ? 0 : Math.ceil((need / rate) * 1000);
}

/**
 * The one adapter for Shopify's HTTP API (OAuth token exchange and refresh, the GraphQL
 * Admin API, bulk results). It owns timeouts, the egress guard, 429/Retry-After, GraphQL's
 * cost-based throttling (paced by the bucket's restore rate, THROTTLED waited out) and
 * bounded retries, and turns every failure into a StoreApiError without headers or bodies
 * (the access token and the app secret travel in them).
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

  /** The last throttle status per shop, and when it was seen (the bucket is per app and shop). */
  private readonly buckets = new Map<
    string,
    { status: GraphqlCost['throttleStatus']; at: number; lastCost: number }
  >();

  /**
   * One GraphQL Admin API call. Before it, waits until the shop's bucket (as last seen,
   * refilled by its restore rate since) holds what the previous call cost; a THROTTLED
   * answer is waited out for exactly the points missing at the restore rate, and the call
   * repeated. GraphQL errors other than throttling are thrown as `rejected`.
   */
  async graphql<T>(
    shop: string,
    token: string,
    query: string,
    variables: Record<string, unknown> = {},
    opts: { retryTransient?: boolean; expectedCost?: number } = {},
  ): Promise<{ data: T; cost: GraphqlCost | null }> {
    const path = this.adminPath('graphql.json');
    for (let waits = 0; ; waits++) {
      const seen = this.buckets.get(shop);
      if (seen) {
        const wait = throttleWaitMs(
          seen.status,
          opts.expectedCost ?? seen.lastCost,
          Date.now() - seen.at,
        );
        if (wait > 0) await this.sleep(wait);
      }
      const res = await this.request<GraphqlBody<T>>(shop, 'POST', path, {
        token,
        data: { query, variables },
        retryTransient: opts.retryTransient,
      });
      const body = res.data ?? {};
      const cost = body.extensions?.cost ?? null;
      if (cost?.throttleStatus) {
        this.buckets.set(shop, {
          status: cost.throttleStatus,
          at: Date.now(),
          lastCost: cost.actualQueryCost ?? cost.requestedQueryCost,
        });
      }
      const errors = body.errors ?? [];
      if (errors.some((e) => e.extensions?.code === 'THROTTLED')) {
        if (waits >= MAX_THROTTLE_WAITS) {
          throw new StoreApiError('rate_limited', 'GraphQL: still throttled', 429);
        }
        const wait = cost ? throttleWaitMs(cost.throttleStatus, cost.requestedQueryCost) : 1000;
        this.buckets.delete(shop);
        await this.sleep(Math.max(wait, 50));
        continue;
      }
      if (errors.length > 0) {
        const codes = errors
          .map((e) => e.extensions?.code ?? redactText(e.message ?? 'error').slice(0, 80))
          .join(', ');
        throw new StoreApiError('rejected', `GraphQL errors (${codes})`, 400);
      }
      if (!body.data) throw new StoreApiError('unavailable', 'GraphQL answered without data');
      return { data: body.data, cost };
    }
  }

  /**
   * A bulk operation's result file (a signed URL: no token), as a stream of lines. Through
   * the egress guard like every call; the body is never read whole.
   */
  async *lines(url: string): AsyncIterable<string> {
    let res: AxiosResponse<NodeJS.ReadableStream>;
    try {
      res = await this.http.request<NodeJS.ReadableStream>({
        method: 'GET',
        url,
        responseType: 'stream',
        timeout: SHOPIFY_TIMEOUT_MS,
        headers: { accept: 'application/jsonl, */*' },
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'network error';
      throw new StoreApiError('unavailable', `bulk result: ${code}`);
    }
    if (res.status !== 200) {
      (res.data as unknown as { destroy?: () => void }).destroy?.();
      throw new StoreApiError(
        res.status >= 500 ? 'unavailable' : 'rejected',
        `bulk result: HTTP ${res.status}`,
        res.status,
      );
    }
    const rl = createInterface({ input: res.data, crlfDelay: Infinity });
    try {
      for await (const line of rl) if (line.trim() !== '') yield line;
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'stream error';
      throw new StoreApiError('unavailable', `bulk result: ${code}`);
    } finally {
      rl.close();
      (res.data as unknown as { destroy?: () => void }).destroy?.();
    }
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
          headers: {
            ...(opts.token ? { 'x-shopify-access-token': opts.token } : {}),
            // A local store (SHOPIFY_API_ORIGIN) is told the shop as Shopify is: by the Host.
            ...(this.config.shopify.apiOrigin ? { host: shop } : {}),
          },
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
      return { data: res.data as T, headers };
    }
  }
}
