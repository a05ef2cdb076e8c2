import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { BrandsService } from '../brands/brands.service';
import { AppError, ErrorCode } from '../common/errors';
import { isUuid } from '../common/pagination';
import { JobQueue } from '../queues/job-queue.service';
import { StoreApiError } from './providers/store-provider';
import { StoreConnectionDto } from './store-connection.dto';
import { StoreConnection } from './store-connection.entity';
import { StoreConnectionSyncState } from './store-connection-sync-state.service';
import { StoreCredentials } from './store-credentials.service';
import { StoreProviders } from './store-providers';
import { StoreTokens } from './store-tokens.service';

/**
 * Store connections as the API shows them (list, get, POST …/sync, DELETE) and the lookups
 * the rest of the code uses (by id; by shop, for inbound webhooks). The install is
 * StoreOAuthService's, the secrets StoreCredentials', the sync fields and status changes
 * StoreConnectionSyncState's.
 */
@Injectable()
export class StoreConnectionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(StoreConnection) private readonly repo: Repository<StoreConnection>,
    private readonly brands: BrandsService,
    private readonly providers: StoreProviders,
    private readonly credentials: StoreCredentials,
    private readonly tokens: StoreTokens,
    private readonly syncState: StoreConnectionSyncState,
    private readonly jobs: JobQueue,
  ) {}

  async list(partnerId: string, brandId: string): Promise<StoreConnection[]> {
    const brand = await this.brands.get(partnerId, brandId);
    return this.repo.find({
      where: { partnerId, brandId: brand.id },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  async get(partnerId: string, id: string): Promise<StoreConnection> {
    const c = isUuid(id) ? await this.repo.findOneBy({ id, partnerId }) : null;
    if (!c) throw AppError.notFound('store connection');
    return c;
  }

  findById(id: string): Promise<StoreConnection | null> {
    return this.repo.findOneBy({ id });
  }

  /** The connection that receives a store's webhooks (linked, or waiting for a relink). */
  findActiveByShop(
    manager: EntityManager,
    provider: string,
    shop: string,
  ): Promise<StoreConnection | null> {
    return manager
      .getRepository(StoreConnection)
      .createQueryBuilder('c')
      .where('c.provider = :provider AND c.shop = :shop', { provider, shop })
      .andWhere(`c.status IN ('linked', 'needs_relink')`)
      .getOne();
  }

  /** The shop's connection in any status, the most recent first (compliance requests). */
  async findAnyByShop(provider: string, shop: string): Promise<StoreConnection | null> {
    return this.repo.findOne({ where: { provider, shop }, order: { updatedAt: 'DESC' } });
  }

  /** Every connection this shop ever had (shop/redact erases them all). */
  async findAllByShop(
    m: EntityManager,
    provider: string,
    shop: string,
  ): Promise<StoreConnection[]> {
    return m.getRepository(StoreConnection).findBy({ provider, shop });
  }

  /**
   * Whether a connection of another shop (same provider) holds this product and this
   * connection does not. Store product ids are unique across a platform.
   */
  async productBelongsElsewhere(
    m: EntityManager,
    conn: Pick<StoreConnection, 'id' | 'provider' | 'shop'>,
    externalId: string,
  ): Promise<boolean> {
    const rows: Array<{ mine: boolean }> = await m.query(
      `SELECT bool_or(p.store_connection_id = $1) AS mine, bool_or(c.shop <> $4) AS other
         FROM products p JOIN store_connections c ON c.id = p.store_connection_id
        WHERE p.external_id = $2 AND c.provider = $3
       HAVING count(*) > 0`,
      [conn.id, externalId, conn.provider, conn.shop],
    );
    return rows.length > 0 && !rows[0].mine && (rows[0] as { other?: boolean }).other === true;
  }

  /** POST /sync: a reconciliation now (or the import, when none has finished yet). */
  async requestSync(partnerId: string, id: string): Promise<void> {
    const c = await this.get(partnerId, id);
    if (c.status !== 'linked') {
      throw new AppError(ErrorCode.Conflict, `store connection is ${c.status}, not linked`);
    }
    if (!c.lastSyncedAt) await this.jobs.add('catalog.import', { storeConnectionId: c.id });
    else await this.jobs.add('catalog.reconcile', { storeConnectionId: c.id });
  }

  /** DELETE: unregister the webhooks, forget the token; the row stays as `revoked`. */
  async remove(partnerId: string, id: string): Promise<void> {
    const c = await this.get(partnerId, id);
    const provider = this.providers.find(c.provider);
    if (provider && this.credentials.contextOrNull(c) && c.webhookIds.length) {
      try {
        await this.tokens.withToken(c, (ctx) => provider.unregisterWebhooks(ctx, c.webhookIds));
      } catch (err) {
        if (!(err instanceof StoreApiError)) throw err;
        // Refused token and refresh: the store has forgotten us already.
        if (err.kind === 'unauthorized') {
          await this.syncState.revoke(this.db.manager, c.id, 'partner');
          return;
        }
        throw new AppError(
          ErrorCode.ServiceUnavailable,
          'the store could not be reached to remove its webhooks; try again',
        );
      }
    }
    await this.syncState.revoke(this.db.manager, c.id, 'partner');
  }

  toDto(c: StoreConnection): StoreConnectionDto {
    return {
      id: c.id,
      brandId: c.brandId,
      provider: c.provider,
      shop: c.shop,
      status: c.status,
      scopes: c.scopes,
      sync: {
        state: c.syncState,
        imported: c.syncImported,
        total: c.syncTotal,
        lastSyncedAt: c.lastSyncedAt ? c.lastSyncedAt.toISOString() : null,
        lastError: c.lastError,
      },
      createdAt: c.createdAt.toISOString(),
    };
  }
}
