import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ComplianceRequest,
  ComplianceRequestsService,
} from '../stores/compliance/compliance-requests.service';
import { StoreConnectionsService } from '../stores/store-connections.service';
import { PrivacyRequestsService } from './privacy-requests.service';

/** The buyer a customers/* compliance payload names (Shopify: `customer.email`). */
export function complianceEmail(payload: unknown): string | null {
  const customer = (payload as { customer?: { email?: unknown } } | null)?.customer;
  const email = customer?.email;
  return typeof email === 'string' && email.trim() ? email.trim() : null;
}

/**
 * Shopify's compliance requests, recorded sealed at the door (src/stores/compliance), turned
 * into buyers' privacy requests: customers/data_request → an export and customers/redact →
 * an erasure of that buyer in every order placed in the shop (`source: "shopify"`), and the
 * orders' part of shop/redact (after its catalog part) → the erasure of every buyer of the
 * shop. Each request is completed with what it led to (the privacy request ids, never the
 * data). Run by the `privacy.compliance` job; a run that stops half-way is repeated, which
 * erasing twice allows (the second finds nothing).
 */
@Injectable()
export class ComplianceBridge {
  private readonly logger = new Logger(ComplianceBridge.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly compliance: ComplianceRequestsService,
    private readonly connections: StoreConnectionsService,
    private readonly privacy: PrivacyRequestsService,
  ) {}

  async runPending(): Promise<{ buyers: number; shops: number }> {
    let buyers = 0;
    let shops = 0;
    for (const r of await this.compliance.pending(['customers/data_request', 'customers/redact'])) {
      await this.buyerRequest(r);
      buyers++;
    }
    for (const r of await this.compliance.pending(['shop/redact'])) {
      if (!r.outcome.catalog) continue; // its catalog part runs first (ShopRedaction)
      await this.shopOrders(r);
      shops++;
    }
    return { buyers, shops };
  }

  private async connectionsOf(r: ComplianceRequest): Promise<string[]> {
    const all = await this.connections.findAllByShop(this.db.manager, r.provider, r.shop);
    const ids = all.map((c) => c.id);
    if (r.storeConnectionId && !ids.includes(r.storeConnectionId)) ids.push(r.storeConnectionId);
    return ids;
  }

  private async buyerRequest(r: ComplianceRequest): Promise<void> {
    const kind = r.topic === 'customers/redact' ? 'erase' : 'export';
    const email = complianceEmail(await this.compliance.payload(r));
    const requests: Array<{ id: string; ordersFound: number }> = [];
    if (email) {
      for (const storeConnectionId of await this.connectionsOf(r)) {
        const p = await this.privacy.requestForStoreCustomer({ storeConnectionId, kind, email });
        requests.push({ id: p.id, ordersFound: p.ordersFound });
      }
    }
    await this.db.transaction(async (m) => {
      await this.compliance.recordOutcome(m, r.id, 'privacy', {
        kind,
        requests,
        ...(email ? {} : { skipped: 'the payload names no customer email' }),
      });
      await this.compliance.markCompleted(m, r.id);
    });
    this.logger.log(
      `${r.topic} ${r.id}: ${requests.length} privacy request(s), ` +
        `${requests.reduce((n, x) => n + x.ordersFound, 0)} order(s)`,
    );
  }

  private async shopOrders(r: ComplianceRequest): Promise<void> {
    const requests: Array<{ id: string; ordersFound: number }> = [];
    for (const storeConnectionId of await this.connectionsOf(r)) {
      const p = await this.privacy.redactStore(storeConnectionId);
      requests.push({ id: p.id, ordersFound: p.ordersFound });
    }
    await this.db.transaction(async (m) => {
      await this.compliance.recordOutcome(m, r.id, 'orders', { requests });
      await this.compliance.markCompleted(m, r.id);
    });
    this.logger.log(`shop/redact ${r.id}: buyers of ${requests.length} connection(s) erased`);
  }
}
