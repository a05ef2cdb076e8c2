import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { BrandsService } from '../brands/brands.service';
import { APP_CONFIG } from '../common/app-config';
import { AppError, ErrorCode } from '../common/errors';
import { hashSecret, randomToken } from '../common/secrets';
import { storeConnectionEventData } from '../notifications/event-payloads';
import { OutboxService } from '../notifications/outbox.service';
import { PartnersService } from '../partners/partners.service';
import { JobQueue } from '../queues/job-queue.service';
import { newPkcePair } from './oauth-pkce';
import {
  StoreApiContext,
  StoreApiError,
  StoreProvider,
  StoreTokenGrant,
} from './providers/store-provider';
import { CreateStoreConnectionDto } from './store-connection.dto';
import { StoreConnection } from './store-connection.entity';
import { StoreConnectionSyncState } from './store-connection-sync-state.service';
import { StoreCredentials } from './store-credentials.service';
import { StoreProviders } from './store-providers';

/** How long an authorizeUrl (its state nonce) stays usable. */
export const OAUTH_STATE_TTL_MS = 15 * 60_000;

function pgCode(err: unknown): string | undefined {
  return (
    (err as { code?: string; driverError?: { code?: string } }).driverError?.code ??
    (err as { code?: string }).code
  );
}

/** Where the callback sends the browser, and what happened. */
export interface CallbackOutcome {
  redirectTo: string;
  connectionId: string;
  linked: boolean;
}

/**
 * The OAuth install of a store: `start` (POST /v1/brands/:id/store-connections) checks the
 * shop and returnUrl, keeps a hashed one-time state (and a sealed PKCE verifier for
 * providers that use one) and answers the authorizeUrl; `complete` (GET
 * /oauth/<provider>/callback) verifies the store's redirect, consumes the state, exchanges
 * the code, links the connection with its sealed token and `store_connection.linked` in
 * one transaction, registers the webhooks and queues the import. It writes the install's
 * fields (return URL, state, verifier, token, scopes, webhook ids, `pending`/`linked`);
 * the sync fields are StoreConnectionSyncState's.
 */
@Injectable()
export class StoreOAuthService {
  private readonly logger = new Logger(StoreOAuthService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(StoreConnection) private readonly repo: Repository<StoreConnection>,
    private readonly brands: BrandsService,
    private readonly partners: PartnersService,
    private readonly providers: StoreProviders,
    private readonly credentials: StoreCredentials,
    private readonly syncState: StoreConnectionSyncState,
    private readonly outbox: OutboxService,
    private readonly jobs: JobQueue,
  ) {}

  /** Starts (or restarts, for a relink) an OAuth install; the state nonce is stored hashed. */
  async start(
    partnerId: string,
    brandId: string,
    dto: CreateStoreConnectionDto,
  ): Promise<{ connection: StoreConnection; authorizeUrl: string }> {
    const brand = await this.brands.get(partnerId, brandId);
    const provider = this.providers.find(dto.provider);
    if (!provider) throw AppError.validation('provider', 'unknown provider');
    if (!provider.configured) {
      throw AppError.validation('provider', `the ${provider.name} provider is not configured`);
    }
    const shop = provider.normalizeShop(dto.shop);
    if (!shop)
      throw AppError.validation('shop', 'must be a shop domain such as name.myshopify.com');
    const returnUrl = await this.assertReturnUrl(partnerId, dto.returnUrl);

    const state = randomToken(32);
    const fields = {
      returnUrl,
      stateHash: hashSecret(state),
      stateExpiresAt: new Date(Date.now() + OAUTH_STATE_TTL_MS),
    };
    const existing = await this.repo.findOneBy({
      brandId: brand.id,
      provider: provider.name,
      shop,
    });
    let connection: StoreConnection;
    if (existing) {
      if (existing.status === 'linked') {
        throw new AppError(ErrorCode.Conflict, 'this store is already linked to the brand');
      }
      // pending, needs_relink or revoked: a new consent for the same row.
      await this.repo.update(
        { id: existing.id },
        { ...fields, status: existing.status === 'revoked' ? 'pending' : existing.status },
      );
      connection = await this.repo.findOneByOrFail({ id: existing.id });
    } else {
      connection = await this.repo.save(
        this.repo.create({
          partnerId,
          brandId: brand.id,
          provider: provider.name,
          shop,
          status: 'pending',
          scopes: [],
          webhookIds: [],
          syncState: 'idle',
          syncImported: 0,
          ...fields,
        }),
      );
    }
    let codeChallenge: string | undefined;
    if (provider.usesPkce) {
      const pkce = newPkcePair();
      await this.repo.update(
        { id: connection.id },
        this.credentials.sealPkceVerifier(connection.id, pkce.verifier),
      );
      codeChallenge = pkce.challenge;
    }
    const authorizeUrl = provider.authorizeUrl({
      shop,
      state,
      redirectUri: this.redirectUri(provider),
      codeChallenge,
    });
    return { connection, authorizeUrl };
  }

  /**
   * GET /oauth/<provider>/callback. Refusals that cannot be tied to a pending connection
   * (bad signature, unknown/used state) throw, and nothing changes; later failures
   * redirect to the connection's returnUrl with status=failed&error=<code>.
   */
  async complete(providerName: string, query: Record<string, unknown>): Promise<CallbackOutcome> {
    const provider = this.providers.get(providerName);
    const verified = provider.verifyCallback(query);
    if (!verified) {
      throw new AppError(ErrorCode.Unauthorized, 'callback signature is missing or wrong');
    }
    const stateHash = hashSecret(verified.state);
    const conn = await this.repo
      .createQueryBuilder('c')
      .where('c.state_hash = :stateHash AND c.state_expires_at > now()', { stateHash })
      .andWhere('c.provider = :provider', { provider: provider.name })
      .getOne();
    if (!conn) throw AppError.validation('state', 'state is unknown, expired or already used');
    const fail = (error: string): CallbackOutcome => ({
      redirectTo: this.returnTo(conn, 'failed', error),
      connectionId: conn.id,
      linked: false,
    });
    if (verified.shop !== conn.shop) return fail('SHOP_MISMATCH');

    // One use only: whoever clears the hash first owns the callback.
    const [consumed]: [unknown[], number] = await this.db.query(
      `UPDATE store_connections
          SET state_hash = NULL, state_expires_at = NULL,
              pkce_verifier_sealed = NULL, pkce_verifier_key_id = NULL
        WHERE id = $1 AND state_hash = $2 RETURNING id`,
      [conn.id, stateHash],
    );
    if (consumed.length === 0) {
      throw AppError.validation('state', 'state is unknown, expired or already used');
    }

    let token: StoreTokenGrant;
    try {
      const codeVerifier = provider.usesPkce ? this.credentials.pkceVerifier(conn) : undefined;
      token = await provider.exchangeCode(conn.shop, verified.code, codeVerifier);
    } catch (err) {
      this.logger.warn(
        `store connection ${conn.id}: code exchange failed: ${(err as Error).message}`,
      );
      return fail('TOKEN_EXCHANGE_FAILED');
    }
    // Access and refresh token sealed, each with its own AAD and key id.
    const sealed = this.credentials.sealGrant(conn.id, token);
    try {
      await this.db.transaction(async (m) => {
        await m
          .getRepository(StoreConnection)
          .update({ id: conn.id }, { status: 'linked', scopes: token.scopes, ...sealed });
        await this.syncState.resetForImport(m, conn.id);
        await this.outbox.record(
          m,
          conn.partnerId,
          'store_connection.linked',
          storeConnectionEventData(conn),
        );
      });
    } catch (err) {
      if (pgCode(err) === '23505') return fail('ALREADY_LINKED_ELSEWHERE');
      throw err;
    }

    const ctx: StoreApiContext = {
      connectionId: conn.id,
      shop: conn.shop,
      accessToken: token.accessToken,
    };
    try {
      const ids = await provider.registerWebhooks(ctx, this.webhookAddress(provider));
      await this.repo.update({ id: conn.id }, { webhookIds: ids });
    } catch (err) {
      // Linked anyway: reconciliation keeps the catalog current; the error is visible.
      const message = err instanceof StoreApiError ? err.message : 'webhook registration failed';
      this.logger.warn(`store connection ${conn.id}: ${message}`);
      await this.syncState.recordError(conn.id, `webhook registration: ${message}`);
    }
    try {
      await this.jobs.add('catalog.import', { storeConnectionId: conn.id });
    } catch (err) {
      // The periodic reconciliation starts imports that never ran.
      this.logger.warn(`store connection ${conn.id}: import not queued: ${(err as Error).message}`);
    }
    return { redirectTo: this.returnTo(conn, 'linked'), connectionId: conn.id, linked: true };
  }

  private redirectUri(provider: StoreProvider): string {
    return `${this.config.publicBaseUrl}/oauth/${provider.name}/callback`;
  }

  private webhookAddress(provider: StoreProvider): string {
    return `${this.config.publicBaseUrl}/webhooks/${provider.name}`;
  }

  /** returnUrl must be http(s) on PUBLIC_BASE_URL's origin or one the partner allowed. */
  private async assertReturnUrl(partnerId: string, raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw AppError.validation('returnUrl', 'must be a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw AppError.validation('returnUrl', 'scheme must be https or http');
    }
    if (url.username || url.password) {
      throw AppError.validation('returnUrl', 'must not contain credentials');
    }
    const partner = await this.partners.get(partnerId);
    const allowed = new Set([
      new URL(this.config.publicBaseUrl).origin,
      ...partner.allowedReturnOrigins,
    ]);
    if (!allowed.has(url.origin)) {
      throw AppError.validation(
        'returnUrl',
        'origin is not allowed (add it to allowedReturnOrigins with PATCH /v1/partner)',
      );
    }
    return url.toString();
  }

  private returnTo(conn: StoreConnection, status: 'linked' | 'failed', error?: string): string {
    const url = new URL(conn.returnUrl);
    url.searchParams.set('connection', conn.id);
    url.searchParams.set('status', status);
    if (error) url.searchParams.set('error', error);
    return url.toString();
  }
}
