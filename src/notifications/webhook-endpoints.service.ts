import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { assertUrlAllowed, EgressPolicy } from '../common/egress-guard';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { SecretBox } from '../common/secret-box';
import {
  ALL_EVENTS,
  CreateWebhookEndpointDto,
  UpdateWebhookEndpointDto,
} from './webhook-endpoint.dto';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { newWebhookSecret } from './webhook-signing';

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

/** The AAD that binds a sealed secret to its endpoint row. */
/** What an endpoint's sealed secrets (current and previous) are bound to. */
export const webhookSecretAad = (endpointId: string) => `webhook-endpoint:${endpointId}`;
const aad = webhookSecretAad;

@Injectable()
export class WebhookEndpointsService {
  private readonly policy: EgressPolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(WebhookEndpoint) private readonly endpoints: Repository<WebhookEndpoint>,
    private readonly box: SecretBox,
  ) {
    this.policy = { allowPrivateNetworks: config.egressAllowPrivateNetworks };
  }

  /** https only; plain http too where private networks are allowed (development, tests). */
  private get schemes(): string[] {
    return this.config.egressAllowPrivateNetworks ? ['https', 'http'] : ['https'];
  }

  /** The endpoint's URL check; a refused plain http names the setting that allows it. */
  private async assertUrl(url: string): Promise<void> {
    if (!this.config.egressAllowPrivateNetworks && /^http:/i.test(url)) {
      throw AppError.validation(
        'url',
        'scheme must be https (plain http only with EGRESS_ALLOW_PRIVATE_NETWORKS=true, for development)',
      );
    }
    await assertUrlAllowed('url', url, this.schemes, this.policy);
  }

  async create(
    partnerId: string,
    dto: CreateWebhookEndpointDto,
  ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.assertUrl(dto.url);
    const id = randomUUID();
    const secret = newWebhookSecret();
    const sealed = this.box.seal(secret, aad(id));
    const endpoint = await this.endpoints.save(
      this.endpoints.create({
        id,
        partnerId,
        url: dto.url,
        events: normalizeEvents(dto.events),
        enabled: true,
        disabledReason: null,
        secretKeyId: sealed.keyId,
        secretSealed: sealed.sealed,
        previousSecretKeyId: null,
        previousSecretSealed: null,
        previousSecretExpiresAt: null,
        failingSince: null,
      }),
    );
    return { endpoint, secret };
  }

  list(partnerId: string): Promise<WebhookEndpoint[]> {
    return this.endpoints.find({ where: { partnerId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The partner's endpoint; another partner's id is "not found". */
  async get(partnerId: string, id: string): Promise<WebhookEndpoint> {
    const e = isUuid(id) ? await this.endpoints.findOneBy({ id, partnerId }) : null;
    if (!e) throw AppError.notFound('webhook endpoint');
    return e;
  }

  async update(
    partnerId: string,
    id: string,
    dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpoint> {
    const e = await this.get(partnerId, id);
    if (dto.url !== undefined) {
      await this.assertUrl(dto.url);
      e.url = dto.url;
    }
    if (dto.events !== undefined) e.events = normalizeEvents(dto.events);
    if (dto.enabled !== undefined) {
      // Enabling (again) starts afresh; disabling by hand has no "reason" of ours.
      e.enabled = dto.enabled;
      e.disabledReason = null;
      e.failingSince = null;
    }
    return this.endpoints.save(e);
  }

  async remove(partnerId: string, id: string): Promise<void> {
    const e = await this.get(partnerId, id);
    await this.endpoints.delete({ id: e.id, partnerId });
  }

  /** A new secret; the current one becomes the previous one and keeps signing for 24 h. */
  async rotateSecret(partnerId: string, id: string): Promise<string> {
    const e = await this.get(partnerId, id);
    const secret = newWebhookSecret();
    const sealed = this.box.seal(secret, aad(e.id));
    await this.endpoints.update(
      { id: e.id, partnerId },
      {
        previousSecretKeyId: e.secretKeyId,
        previousSecretSealed: e.secretSealed,
        previousSecretExpiresAt: new Date(Date.now() + SECRET_OVERLAP_MS),
        secretKeyId: sealed.keyId,
        secretSealed: sealed.sealed,
      },
    );
    return secret;
  }

  /** The secrets that sign a delivery now: the current one, then the previous one in its overlap. */
  signingSecrets(e: WebhookEndpoint, now = new Date()): string[] {
    const secrets = [this.box.open({ keyId: e.secretKeyId, sealed: e.secretSealed }, aad(e.id))];
    if (
      e.previousSecretKeyId &&
      e.previousSecretSealed &&
      e.previousSecretExpiresAt &&
      e.previousSecretExpiresAt.getTime() > now.getTime()
    ) {
      secrets.push(
        this.box.open({ keyId: e.previousSecretKeyId, sealed: e.previousSecretSealed }, aad(e.id)),
      );
    }
    return secrets;
  }
}

/** `["*", …]` is the same as `["*"]`. */
export function normalizeEvents(events: string[]): string[] {
  return events.includes(ALL_EVENTS) ? [ALL_EVENTS] : [...events];
}
