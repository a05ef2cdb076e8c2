import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  ComplianceRequest,
  ComplianceRequestsService,
} from '../stores/compliance/compliance-requests.service';
import { StoreConnectionSyncState } from '../stores/store-connection-sync-state.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { CatalogWriter } from './catalog-writer.service';

/**
 * The orders' part of shop/redact (buyers' personal data in `orders`), provided by the
 * buyer-privacy machinery. Until it is wired, shop/redact requests stay `pending` after
 * their catalog part, so nothing is marked completed that is not.
 */
export interface ShopOrdersRedactor {
  redactShopOrders(m: EntityManager, storeConnectionIds: string[]): Promise<object>;
}
export const SHOP_ORDERS_REDACTOR = Symbol('SHOP_ORDERS_REDACTOR');

/**
 * shop/redact (48 hours after an uninstall): erases everything of the catalog Castbridge
 * holds for the shop (products, variants, stock levels, locations) and its tokens, in one
 * transaction with the record of what it erased (`outcome.catalog`). Run by the inbound
 * applier's drain, so the wake-up at the door and the 15 s sweep both reach it.
 */
@Injectable()
export class ShopRedaction {
  private readonly logger = new Logger(ShopRedaction.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly compliance: ComplianceRequestsService,
    private readonly connections: StoreConnectionsService,
    private readonly syncState: StoreConnectionSyncState,
    private readonly writer: CatalogWriter,
    @Optional() @Inject(SHOP_ORDERS_REDACTOR) private readonly orders?: ShopOrdersRedactor,
  ) {}

  async runPending(): Promise<number> {
    let done = 0;
    for (const r of await this.compliance.pending(['shop/redact'])) {
      if (r.outcome.catalog && !this.orders) continue; // waiting for the orders' part
      await this.db.transaction((m) => this.redact(m, r));
      done++;
    }
    return done;
  }

  private async redact(m: EntityManager, r: ComplianceRequest): Promise<void> {
    const conns = await this.connections.findAllByShop(m, r.provider, r.shop);
    if (!r.outcome.catalog) {
      const erased = { products: 0, variants: 0, levels: 0, locations: 0 };
      for (const c of conns) {
        const e = await this.writer.eraseConnection(m, c);
        erased.products += e.products;
        erased.variants += e.variants;
        erased.levels += e.levels;
        erased.locations += e.locations;
        await this.syncState.forgetShop(m, c.id);
      }
      await this.compliance.recordOutcome(m, r.id, 'catalog', {
        ...erased,
        connections: conns.length,
        tokensForgotten: true,
      });
      this.logger.log(
        `shop/redact ${r.id}: erased ${erased.products} products, ${erased.variants} variants, ` +
          `${erased.levels} stock levels and the tokens of ${conns.length} connection(s)`,
      );
    }
    if (this.orders) {
      const detail = await this.orders.redactShopOrders(
        m,
        conns.map((c) => c.id),
      );
      await this.compliance.recordOutcome(m, r.id, 'orders', detail);
      await this.compliance.markCompleted(m, r.id);
    }
  }
}
