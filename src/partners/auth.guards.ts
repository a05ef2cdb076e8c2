import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError, ErrorCode } from '../common/errors';
import { bearerToken } from '../common/bearer-token';
import { hashSecret } from '../common/secrets';
import { PartnersService } from './partners.service';

type AuthedRequest = Request & { partnerId?: string };

function bearer(req: Request): string | null {
  return bearerToken(req.headers);
}

/** Requires a partner API key; every /v1 route except /v1/admin uses it. */
@Injectable()
export class PartnerAuthGuard implements CanActivate {
  constructor(private readonly partners: PartnersService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearer(req);
    if (!token) throw new AppError(ErrorCode.Unauthorized, 'missing bearer API key');
    const partnerId = await this.partners.authenticate(token);
    if (!partnerId) throw new AppError(ErrorCode.Unauthorized, 'invalid API key');
    req.partnerId = partnerId;
    return true;
  }
}

/** Requires ADMIN_TOKEN; without it configured the admin routes do not exist. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? hashSecret(config.adminToken) : null;
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (!this.expected)
      throw new AppError(ErrorCode.NotFound, 'admin API is disabled (ADMIN_TOKEN is not set)');
    const token = bearer(ctx.switchToHttp().getRequest<Request>());
    if (!token) throw new AppError(ErrorCode.Unauthorized, 'missing bearer admin token');
    if (!timingSafeEqual(hashSecret(token), this.expected)) {
      throw new AppError(ErrorCode.Unauthorized, 'invalid admin token');
    }
    return true;
  }
}

/** The authenticated partner's id (set by PartnerAuthGuard). */
export const CurrentPartner = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const id = ctx.switchToHttp().getRequest<AuthedRequest>().partnerId;
  if (!id) throw new AppError(ErrorCode.Unauthorized, 'not authenticated');
  return id;
});
