import type { EntityManager } from 'typeorm';
import type { OrderStatusService } from '../shopping/orders/order-status.service';
import type {
  StoreChange,
  StoreOrderStatus,
  StoreProduct,
  StoreProvider,
} from '../stores/providers/store-provider';
import type { StoreConnection } from '../stores/store-connection.entity';
import type { StoreConnectionSyncState } from '../stores/store-connection-sync-state.service';
import type { StoreConnectionsService } from '../stores/store-connections.service';
import type { StoreProviders } from '../stores/store-providers';
import type {
  InboundEventSource,
  PendingInboundEvent,
} from '../stores/webhooks/inbound-event-source.service';
import type { CatalogWriter, UpsertResult } from './catalog-writer.service';
import { INBOUND_BATCH, INBOUND_MAX_ATTEMPTS, InboundApplier } from './inbound-applier.service';

/**
 * The applier's orchestration with fakes of everything it talks to: no database. The fake
 * event source runs each claim as a "transaction" whose writes (the marks, and what the
 * fake owners store) are kept only if the work completes, and each savepoint likewise, so
 * a test can tell what committed from what was asked and rolled back.
 */

/** The fake EntityManager: a transaction's staged writes, applied at commit. */
interface FakeTx {
  id: number;
  staged: Array<() => void>;
}
const staged = (m: EntityManager, write: () => void) => (m as unknown as FakeTx).staged.push(write);

interface StoredEvent extends PendingInboundEvent {
  outcome: string | null;
  lastError: string | null;
}

class FakeEventSource {
  readonly events: StoredEvent[] = [];
  readonly claims: Array<{ afterId: string; limit: number; ids: string[]; committed: boolean }> =
    [];
  savepoints = 0;
  savepointsRolledBack = 0;
  pruned: number[] = [];
  private nextTx = 1;

  add(shop: string, change: StoreChange | { unknownProvider: true }, topic = 'test/topic'): string {
    const id = String(this.events.length + 1);
    const unknown = 'unknownProvider' in change;
    this.events.push({
      id,
      provider: unknown ? 'bigcartel' : 'fake',
      shop,
      topic,
      triggeredAt: null,
      payload: JSON.stringify(unknown ? {} : change),
      attempts: 0,
      outcome: null,
      lastError: null,
    });
    return id;
  }

  byId(id: string): StoredEvent {
    return this.events.find((e) => e.id === id)!;
  }

  pending(): StoredEvent[] {
    return this.events.filter((e) => e.outcome === null);
  }

  async withClaimed<T>(
    afterId: string,
    limit: number,
    work: (m: EntityManager, events: PendingInboundEvent[]) => Promise<T>,
  ): Promise<T> {
    const claimed = this.events
      .filter((e) => e.outcome === null && Number(e.id) > Number(afterId))
      .slice(0, limit);
    const claim = { afterId, limit, ids: claimed.map((e) => e.id), committed: false };
    this.claims.push(claim);
    const tx: FakeTx = { id: this.nextTx++, staged: [] };
    const result = await work(
      tx as unknown as EntityManager,
      claimed.map((e) => ({ ...e })),
    );
    for (const write of tx.staged) write();
    claim.committed = true;
    return result;
  }

  async inSavepoint<T>(m: EntityManager, work: () => Promise<T>): Promise<T> {
    this.savepoints++;
    const tx = m as unknown as FakeTx;
    const mark = tx.staged.length;
    try {
      return await work();
    } catch (err) {
      this.savepointsRolledBack++;
      tx.staged.length = mark;
      throw err;
    }
  }

  async markApplied(m: EntityManager, ids: string[], outcomes: string[]): Promise<void> {
    staged(m, () =>
      ids.forEach((id, i) => {
        const e = this.byId(id);
        e.outcome = outcomes[i];
        e.payload = '';
      }),
    );
  }

  async markFailed(m: EntityManager, id: string, error: string, setAside: boolean): Promise<void> {
    staged(m, () => {
      const e = this.byId(id);
      e.attempts++;
      e.lastError = error;
      if (setAside) e.outcome = 'failed';
    });
  }

  async pruneApplied(olderThanDays: number): Promise<{ deleted: number }> {
    this.pruned.push(olderThanDays);
    return { deleted: 2 };
  }
}

/** The catalog's one writer, faked: the newest version of each product wins, as in SQL. */
class FakeCatalogWriter {
  /** Stored version (store updatedAt, ms) per connection|externalId. */
  readonly versions = new Map<string, number>();
  readonly calls: Array<{ tx: number; method: string; conn: string; args: unknown[] }> = [];
  /** Products whose write fails (a value the database refuses). */
  readonly poison = new Set<string>();

  async upsertProducts(
    m: EntityManager,
    conn: StoreConnection,
    products: StoreProduct[],
    opts: { emitEvents: boolean },
  ): Promise<UpsertResult> {
    this.record(m, 'upsertProducts', conn, [products.map((p) => p.externalId), opts]);
    const bad = products.find((p) => this.poison.has(p.externalId));
    if (bad) throw new Error(`numeric field overflow (${bad.externalId})`);
    const newest = new Map<string, StoreProduct>();
    for (const p of products) {
      const seen = newest.get(p.externalId);
      if (!seen || seen.updatedAt < p.updatedAt) newest.set(p.externalId, p);
    }
    const written: UpsertResult['written'] = new Map();
    for (const p of newest.values()) {
      const key = `${conn.id}|${p.externalId}`;
      const stored = this.versions.get(key);
      if (stored !== undefined && stored >= p.updatedAt.getTime()) continue;
      written.set(p.externalId, {
        updatedAt: p.updatedAt,
        how: stored === undefined ? 'created' : 'updated',
      });
      staged(m, () => this.versions.set(key, p.updatedAt.getTime()));
    }
    const created = [...written.values()].filter((w) => w.how === 'created').length;
    return {
      created,
      updated: written.size - created,
      stale: newest.size - written.size,
      written,
    };
  }

  async deleteProduct(m: EntityManager, conn: StoreConnection, externalId: string, at: Date) {
    this.record(m, 'deleteProduct', conn, [externalId, at]);
    const key = `${conn.id}|${externalId}`;
    const stored = this.versions.get(key);
    if (stored === undefined || stored > at.getTime()) return false;
    staged(m, () => this.versions.set(key, at.getTime()));
    return true;
  }

  async setInventory(
    m: EntityManager,
    conn: StoreConnection,
    inventoryItemId: string,
    available: number,
    at: Date,
  ) {
    this.record(m, 'setInventory', conn, [inventoryItemId, available, at]);
    return inventoryItemId !== 'older-than-stored';
  }

  private record(m: EntityManager, method: string, conn: StoreConnection, args: unknown[]) {
    this.calls.push({ tx: (m as unknown as FakeTx).id, method, conn: conn.id, args });
  }
}

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function product(externalId: string, version: number): StoreChange {
  return {
    kind: 'product.upsert',
    product: {
      externalId,
      title: `${externalId} v${version}`,
      handle: externalId,
      status: 'active',
      imageUrl: null,
      updatedAt: at(version),
      variants: [],
    },
  };
}

const deletion = (externalId: string, seconds: number): StoreChange => ({
  kind: 'product.delete',
  externalId,
  at: at(seconds),
});
const stock = (inventoryItemId: string, available: number, seconds: number): StoreChange => ({
  kind: 'inventory.level',
  locationId: null,
  inventoryItemId,
  available,
  at: at(seconds),
});
const orderStatus = (
  storeOrderId: string,
  status: StoreOrderStatus,
  seconds: number,
): StoreChange => ({ kind: 'order.status', storeOrderId, status, at: at(seconds) });

/** The provider's translation of a recorded body: here the body is the change, as JSON. */
function revive(json: Record<string, unknown>): StoreChange {
  const change = { ...json } as Record<string, unknown>;
  if (typeof change.at === 'string') change.at = new Date(change.at);
  if (change.product) {
    const p = change.product as Record<string, unknown>;
    change.product = { ...p, updatedAt: new Date(p.updatedAt as string) };
  }
  return change as unknown as StoreChange;
}

function conn(id: string, shop: string): StoreConnection {
  return { id, shop, partnerId: 'partner', brandId: 'brand', provider: 'fake' } as StoreConnection;
}

function setup() {
  const source = new FakeEventSource();
  const writer = new FakeCatalogWriter();
  const linked = new Map([
    ['a.fake', conn('conn-a', 'a.fake')],
    ['b.fake', conn('conn-b', 'b.fake')],
  ]);
  const connections = {
    findActiveByShop: jest.fn(async (_m: EntityManager, _provider: string, shop: string) =>
      linked.has(shop) ? linked.get(shop)! : null,
    ),
    // No product here belongs to another shop (the replay check is tested against Postgres).
    productBelongsElsewhere: jest.fn(async () => false),
  };
  const syncState = {
    revoke: jest.fn(async (m: EntityManager, id: string) =>
      staged(m, () => {
        for (const [shop, c] of linked) if (c.id === id) linked.delete(shop);
      }),
    ),
  };
  const orders = {
    applyStoreStatus: jest.fn(
      async (_m: EntityManager, _c: StoreConnection, storeOrderId: string) =>
        storeOrderId === 'not-ours' ? 'unknown' : storeOrderId === 'older' ? 'stale' : 'updated',
    ),
  };
  const provider: Partial<StoreProvider> = {
    name: 'fake',
    toChange: (_topic, payload) => revive(payload as Record<string, unknown>),
  };
  const providers = {
    find: (name: string) => (name === 'fake' ? provider : undefined),
  };
  const applier = new InboundApplier(
    source as unknown as InboundEventSource,
    providers as unknown as StoreProviders,
    connections as unknown as StoreConnectionsService,
    syncState as unknown as StoreConnectionSyncState,
    writer as unknown as CatalogWriter,
    orders as unknown as OrderStatusService,
  );
  return { applier, source, writer, connections, syncState, orders };
}

describe('InboundApplier', () => {
  it('applies a batch in one transaction: one bulk upsert per connection, other changes through their owners, outcomes marked with them', async () => {
    const { applier, source, writer, orders, connections } = setup();
    writer.versions.set('conn-a|p0', at(0).getTime());
    const older = source.add('a.fake', product('p1', 1));
    const p2 = source.add('a.fake', product('p2', 1));
    const newer = source.add('a.fake', product('p1', 2));
    const other = source.add('b.fake', product('p9', 1));
    const del = source.add('a.fake', deletion('p0', 5));
    const stockEvent = source.add('a.fake', stock('item-1', 3, 6));
    const paid = source.add('a.fake', orderStatus('450789469', 'paid', 7));
    const ignored = source.add('a.fake', { kind: 'ignored', reason: 'topic shop/update' });
    const unknown = source.add('a.fake', { unknownProvider: true });
    const unlinked = source.add('c.fake', product('p1', 3));

    await expect(applier.drain()).resolves.toEqual({ applied: 10, failed: 0 });

    // One claim, committed.
    expect(source.claims).toEqual([
      { afterId: '0', limit: INBOUND_BATCH, ids: expect.any(Array), committed: true },
    ]);
    const tx = writer.calls[0].tx;
    // Every write in that one transaction; products grouped per connection, after the rest.
    expect(writer.calls).toEqual([
      { tx, method: 'deleteProduct', conn: 'conn-a', args: ['p0', at(5)] },
      { tx, method: 'setInventory', conn: 'conn-a', args: ['item-1', 3, at(6)] },
      {
        tx,
        method: 'upsertProducts',
        conn: 'conn-a',
        args: [['p1', 'p2', 'p1'], { emitEvents: true }],
      },
      { tx, method: 'upsertProducts', conn: 'conn-b', args: [['p9'], { emitEvents: true }] },
    ]);
    expect(orders.applyStoreStatus).toHaveBeenCalledWith(
      expect.objectContaining({ id: tx }),
      expect.objectContaining({ id: 'conn-a' }),
      '450789469',
      'paid',
      at(7),
    );
    // Connections are looked up once per shop and batch.
    expect(connections.findActiveByShop.mock.calls.map((c) => c[2])).toEqual([
      'a.fake',
      'b.fake',
      'c.fake',
    ]);
    const outcome = (id: string) => source.byId(id).outcome;
    // The older version of p1 in the same batch lost to the newer one.
    expect(outcome(older)).toBe('stale');
    expect(outcome(newer)).toBe('created');
    expect(outcome(p2)).toBe('created');
    expect(outcome(other)).toBe('created');
    expect(outcome(del)).toBe('deleted');
    expect(outcome(stockEvent)).toBe('updated');
    expect(outcome(paid)).toBe('updated');
    expect(outcome(ignored)).toBe('ignored: topic shop/update');
    expect(outcome(unknown)).toBe('ignored: unknown provider');
    expect(outcome(unlinked)).toBe('ignored: no linked connection');
    // Applied events lose their body.
    expect(source.events.every((e) => e.payload === '')).toBe(true);
  });

  it('works through the backlog a batch at a time, each batch its own transaction', async () => {
    const { applier, source, writer } = setup();
    for (let i = 0; i < 2 * INBOUND_BATCH + 50; i++) source.add('a.fake', product(`p${i}`, 1));

    await expect(applier.drain()).resolves.toEqual({ applied: 250, failed: 0 });
    expect(source.claims.map((c) => [c.afterId, c.ids.length, c.committed])).toEqual([
      ['0', 100, true],
      ['100', 100, true],
      ['200', 50, true],
    ]);
    expect(writer.calls.map((c) => (c.args[0] as string[]).length)).toEqual([100, 100, 50]);
    expect(new Set(writer.calls.map((c) => c.tx)).size).toBe(3);
    expect(source.pending()).toEqual([]);
  });

  it('redoes a failed batch event by event: the failing event fails alone, the others apply', async () => {
    const { applier, source, writer } = setup();
    writer.poison.add('bad');
    const good = source.add('a.fake', product('good', 1));
    const bad = source.add('a.fake', product('bad', 1));
    const stockEvent = source.add('a.fake', stock('item-1', 0, 1));

    await expect(applier.drain()).resolves.toEqual({ applied: 2, failed: 1 });

    // The batch's transaction rolled back; the same events were claimed again.
    expect(source.claims.map((c) => [c.afterId, c.ids, c.committed])).toEqual([
      ['0', [good, bad, stockEvent], false],
      ['0', [good, bad, stockEvent], true],
    ]);
    // The slow path asks the writer for each event alone, each in its own savepoint.
    const slowTx = writer.calls.at(-1)!.tx;
    const slow = writer.calls.filter((c) => c.tx === slowTx);
    expect(slow.map((c) => [c.method, c.args[0]])).toEqual([
      ['upsertProducts', ['good']],
      ['upsertProducts', ['bad']],
      ['setInventory', 'item-1'],
    ]);
    expect(source.savepoints).toBe(3);
    expect(source.savepointsRolledBack).toBe(1);
    expect(source.byId(good).outcome).toBe('created');
    expect(source.byId(stockEvent).outcome).toBe('updated');
    // The failing one stays pending with its body and error, to be tried again.
    expect(source.byId(bad)).toMatchObject({
      outcome: null,
      attempts: 1,
      lastError: 'numeric field overflow (bad)',
    });
    expect(source.byId(bad).payload).not.toBe('');
    expect(writer.versions.has('conn-a|bad')).toBe(false);
  });

  it(`retries a failing event at each drain and sets it aside after ${INBOUND_MAX_ATTEMPTS} tries`, async () => {
    const { applier, source, writer } = setup();
    writer.poison.add('bad');
    const bad = source.add('a.fake', product('bad', 1));

    for (let i = 1; i < INBOUND_MAX_ATTEMPTS; i++) {
      await expect(applier.drain()).resolves.toEqual({ applied: 0, failed: 1 });
      expect(source.byId(bad)).toMatchObject({ attempts: i, outcome: null });
    }
    // A later event still applies while the bad one waits.
    const later = source.add('a.fake', product('fine', 1));
    await expect(applier.drain()).resolves.toEqual({ applied: 1, failed: 1 });
    expect(source.byId(later).outcome).toBe('created');
    expect(source.byId(bad)).toMatchObject({
      attempts: INBOUND_MAX_ATTEMPTS,
      outcome: 'failed',
      lastError: 'numeric field overflow (bad)',
    });
    // Set aside: never claimed again.
    const claims = source.claims.length;
    const writes = writer.calls.length;
    await expect(applier.drain()).resolves.toEqual({ applied: 0, failed: 0 });
    expect(source.claims.at(-1)!.ids).toEqual([]);
    expect(source.claims).toHaveLength(claims + 1);
    expect(writer.calls).toHaveLength(writes);
  });

  it('drops stale events: marked applied as stale (never retried), nothing newer overwritten', async () => {
    const { applier, source, writer } = setup();
    source.add('a.fake', product('p1', 10));
    await applier.drain();

    const oldVersion = source.add('a.fake', product('p1', 5));
    const oldDelete = source.add('a.fake', deletion('p1', 7));
    const oldStock = source.add('a.fake', stock('older-than-stored', 99, 1));
    const oldOrder = source.add('a.fake', orderStatus('older', 'placed', 1));
    const notOurs = source.add('a.fake', orderStatus('not-ours', 'paid', 1));
    await expect(applier.drain()).resolves.toEqual({ applied: 5, failed: 0 });

    expect(
      [oldVersion, oldDelete, oldStock, oldOrder, notOurs].map((id) => source.byId(id).outcome),
    ).toEqual(['stale', 'stale', 'stale', 'stale', 'unknown']);
    expect(writer.versions.get('conn-a|p1')).toBe(at(10).getTime());
    // Applied, not pending: the next drain has nothing to do.
    expect(source.pending()).toEqual([]);
    await expect(applier.drain()).resolves.toEqual({ applied: 0, failed: 0 });
  });

  it('app/uninstalled revokes the connection (by the store); later events of the shop in the batch find none', async () => {
    const { applier, source, writer, syncState } = setup();
    const before = source.add('a.fake', product('p1', 1));
    const uninstalled = source.add('a.fake', { kind: 'app.uninstalled', shop: 'a.fake' });
    const after = source.add('a.fake', product('p2', 1));
    const otherShop = source.add('b.fake', product('p3', 1));

    await applier.drain();

    expect(syncState.revoke).toHaveBeenCalledTimes(1);
    expect(syncState.revoke).toHaveBeenCalledWith(expect.anything(), 'conn-a', 'store');
    expect(source.byId(uninstalled).outcome).toBe('revoked');
    expect(source.byId(after).outcome).toBe('ignored: no linked connection');
    expect(source.byId(before).outcome).toBe('created');
    expect(source.byId(otherShop).outcome).toBe('created');
    expect(writer.calls.map((c) => [c.conn, c.args[0]])).toEqual([
      ['conn-a', ['p1']],
      ['conn-b', ['p3']],
    ]);
  });

  it('prunes through the event source', async () => {
    const { applier, source } = setup();
    await expect(applier.prune(7)).resolves.toEqual({ deleted: 2 });
    expect(source.pruned).toEqual([7]);
  });
});
