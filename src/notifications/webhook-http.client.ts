import type { FactoryProvider } from '@nestjs/common';
import axios, { AxiosInstance, isAxiosError } from 'axios';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import {
  assertHostAllowed,
  EgressDeniedError,
  EgressPolicy,
  guardedLookup,
} from '../common/egress-guard';
import { parseRetryAfter } from './webhook-retry-policy';

/** Standard Webhooks recommends 15–30 s. */
export const WEBHOOK_TIMEOUT_MS = 15_000;

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface WebhookResponse {
  /** HTTP status, or null when no response came. */
  status: number | null;
  retryAfterMs: number | null;
  durationMs: number;
  /** Why the attempt failed, for the delivery log: never a header value or a secret. */
  error: string | null;
}

/**
 * The one place that sends webhooks over HTTP (the only importer of axios in this
 * feature): no redirects, a timeout, no proxy from the environment, and the egress guard
 * both before connecting (IP literals never reach a DNS lookup) and at connect time.
 */
export class WebhookHttpClient {
  private readonly client: AxiosInstance;

  constructor(
    private readonly policy: EgressPolicy,
    timeoutMs = WEBHOOK_TIMEOUT_MS,
  ) {
    const lookup = guardedLookup(policy);
    this.client = axios.create({
      timeout: timeoutMs,
      maxRedirects: 0,
      proxy: false,
      decompress: false,
      responseType: 'stream',
      validateStatus: () => true,
      httpAgent: new http.Agent({ lookup }),
      httpsAgent: new https.Agent({ lookup }),
    });
  }

  /** The Nest provider: the egress policy of the configuration, the default timeout. */
  static provider(): FactoryProvider<WebhookHttpClient> {
    return {
      provide: WebhookHttpClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new WebhookHttpClient({ allowPrivateNetworks: config.egressAllowPrivateNetworks }),
    };
  }

  async post(req: WebhookRequest): Promise<WebhookResponse> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    try {
      const url = new URL(req.url);
      // Plain http only where private networks are allowed (as on endpoint create/update).
      if (
        url.protocol !== 'https:' &&
        !(url.protocol === 'http:' && this.policy.allowPrivateNetworks)
      ) {
        throw new EgressDeniedError(`scheme ${url.protocol.replace(/:$/, '')} is not allowed`);
      }
      await assertHostAllowed(url.hostname, this.policy);
      const res = await this.client.post<Readable>(req.url, req.body, {
        headers: {
          ...req.headers,
          'content-type': 'application/json',
          'user-agent': 'Castbridge-Webhooks/1',
        },
        signal: AbortSignal.timeout(this.client.defaults.timeout ?? WEBHOOK_TIMEOUT_MS),
      });
      // The body is not needed: drop it rather than buffer whatever the receiver sends.
      res.data?.destroy?.();
      const ok = res.status >= 200 && res.status < 300;
      const retryAfter = res.headers['retry-after'] as string | undefined;
      return {
        status: res.status,
        retryAfterMs: ok ? null : parseRetryAfter(retryAfter, new Date()),
        durationMs: elapsed(),
        error: ok ? null : `HTTP ${res.status}`,
      };
    } catch (err) {
      return { status: null, retryAfterMs: null, durationMs: elapsed(), error: describe(err) };
    }
  }
}

/** A short, secret-free description of a failed request. */
export function describe(err: unknown): string {
  if (err instanceof EgressDeniedError) return `egress refused: ${err.message}`;
  const cause = isAxiosError(err) ? ((err.cause as Error | undefined) ?? err) : err;
  if (cause instanceof EgressDeniedError) return `egress refused: ${cause.message}`;
  if (isAxiosError(err)) {
    if (err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || err.code === 'ERR_CANCELED') {
      return 'timed out';
    }
    return `request failed${err.code ? ` (${err.code})` : ''}`;
  }
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  if (err instanceof TypeError) return 'invalid URL';
  return 'request failed';
}
