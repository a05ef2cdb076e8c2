import { ExecutionContext, Injectable } from '@nestjs/common';
import { normalizeIp, ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { bearerToken } from './bearer-token';
import { AppError, ErrorCode } from './errors';

/**
 * The routes that count: the partner and admin API and the OAuth callbacks. Probes and
 * /metrics are polled by machines, /hls and /embed by viewers; store webhooks
 * (POST /webhooks/*) never reach Nest (they come in bursts, and are signed).
 */
export const RATE_LIMITED_PATHS = /^\/(v1|oauth)(\/|$)/;

/**
 * `apiKey:<sha256 of the presented token>` (a wrong key counts too): what Redis keys carry for a key (never the key itself,
 * nor its lookup prefix).
 */
export function apiKeyTracker(req: { headers: IncomingHttpHeaders }): string {
  const token = bearerToken(req.headers) ?? '';
  return `apiKey:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** `address:<ip>` (an IPv6 address counts by its /64, as @nestjs/throttler does). */
export function addressTracker(req: { ip?: string; socket?: { remoteAddress?: string } }): string {
  return `address:${normalizeIp(req.ip ?? req.socket?.remoteAddress ?? 'unknown')}`;
}

/**
 * @nestjs/throttler's guard, global in the api role, with two throttlers (per API key and
 * per address, see RateLimitModule). Over a limit: 429 RATE_LIMITED with `Retry-After`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return Promise.resolve(true);
    const req = ctx.switchToHttp().getRequest<Request>();
    return Promise.resolve(!RATE_LIMITED_PATHS.test(req.path));
  }

  protected override throwThrottlingException(
    ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    ctx.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    const per = detail.tracker.startsWith('apiKey:') ? 'apiKey' : 'address';
    throw AppError.field(
      ErrorCode.RateLimited,
      per,
      `more than ${detail.limit} requests a minute for this ${per === 'apiKey' ? 'API key' : 'address'}; retry after ${retryAfter} s`,
    );
  }
}
