import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../../common/secret-box';
import type { OutboxService } from '../../notifications/outbox.service';
import type { JobQueue } from '../../queues/job-queue.service';
import { StoreApiError, type StoreProvider } from '../../stores/providers/store-provider';
import type { StoreConnectionSyncState } from '../../stores/store-connection-sync-state.service';
import type { StoreConnectionsService } from '../../stores/store-connections.service';
import type { StoreTokens } from '../../stores/store-tokens.service';
import type { StoreProviders } from '../../stores/store-providers';
import { sealBuyer } from './buyer-record';
import { OrderBuyerData } from './order-buyer-data.service';
import type { Order } from './order.entity';
import { OrderPlacementService } from './order-placement.service';
import { OrderStatusService } from './order-status.service';
import { OrderRetryError } from './order-retry';

const box = new SecretBox([{ id: 'unit', key: randomBytes(32) }]);
const ORDER_ID = '0b9f7a4e-3c1d-4f7a-9a51-5d2b8c9e1f00';
const BUYER = {
  email: 'ada.buyer@example.com',
  name: 'Ada Lovelace',
  shippingAddress: { address1: '12 Crescent Road', city: 'Marlow', country: 'GB' },
};
const SEALED = sealBuyer(box, ORDER_ID, BUYER);

const ORDER = {
  id: '0b9f7a4e-3c1d-4f7a-9a51-5d2b8c9e1f00',
  partnerId: 'partner',
  brandId: 'brand',
  storeConnectionId: 'conn',
  sessionId: null,
  externalId: 'tt-1',
  status: 'pending',
  storeOrderId: null,
  lineItems: [
    {
      variantId: 'v',
      productId: 'p',
      externalVariantId: '42',
      title: 'Shirt',
      sku: null,
      quantity: 1,
      price: '10.00',
    },
  ],
  totalPrice: '10.00',
  currency: 'EUR',
  failureReason: null,
  customerSealed: SEALED.sealed,
  customerKeyId: SEALED.keyId,
  attempts: 0,
} as unknown as Order;

function setup(provider: Partial<StoreProvider>, order: Partial<Order> = {}) {
  const updates: Array<{ sql: string; params: unknown[] }> = [];
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  const manager = {
    query: jest.fn(async (sql: string, params: unknown[]) => {
      updates.push({ sql, params });
      return [[], 1];
    }),
  };
  const db = {
    getRepository: () => ({ findOneBy: async () => ({ ...ORDER, ...order }) }),
    manager,
    transaction: async (fn: (m: unknown) => Promise<unknown>) => fn(manager),
  } as unknown as DataSource;
  const conn = { id: 'conn', status: 'linked', provider: 'shopify', partnerId: 'partner' };
  const connections = { findById: async () => conn } as unknown as StoreConnectionsService;
  const syncState = {
    markNeedsRelink: jest.fn(async () => undefined),
  } as unknown as StoreConnectionSyncState;
  const ctx = { connectionId: 'conn', shop: 'x.myshopify.com', accessToken: 'shpat_secret' };
  // No refresh possible here: a 401 stays a 401 (StoreTokens' own behaviour is tested beside it).
  const credentials = {
    withToken: (_c: unknown, fn: (c: typeof ctx) => Promise<unknown>) => fn(ctx),
  } as unknown as StoreTokens;
  const providers = { find: () => provider } as unknown as StoreProviders;
  const outbox = {
    record: jest.fn(
      async (_m: unknown, _p: string, type: string, data: Record<string, unknown>) => {
        events.push({ type, data });
      },
    ),
  } as unknown as OutboxService;
  const buyers = new OrderBuyerData(db, box);
  const orders = new OrderStatusService(outbox, buyers);
  const service = new OrderPlacementService(
    db,
    connections,
    credentials,
    syncState,
    providers,
    orders,
    {} as JobQueue,
    buyers,
  );
  return { service, updates, events, syncState };
}

const job = (attemptsMade = 0, attempts = 100) => ({ attemptsMade, opts: { attempts } });

describe('OrderPlacementService.place', () => {
  it('uses the order found by reference instead of creating another', async () => {
    const createOrder = jest.fn();
    const { service, events } = setup({ findOrderByReference: async () => '777', createOrder });
    await expect(service.place(ORDER.id, job())).resolves.toEqual({
      outcome: 'placed',
      storeOrderId: '777',
      found: true,
    });
    expect(createOrder).not.toHaveBeenCalled();
    expect(events).toEqual([
      { type: 'order.placed', data: expect.objectContaining({ storeOrderId: '777' }) },
    ]);
  });

  it('creates the order when the lookup finds nothing, with our id as the reference', async () => {
    const createOrder = jest.fn(async () => ({ storeOrderId: '888' }));
    const { service } = setup({ findOrderByReference: async () => null, createOrder });
    await expect(service.place(ORDER.id, job())).resolves.toMatchObject({ storeOrderId: '888' });
    expect(createOrder).toHaveBeenCalledWith(
      expect.anything(),
      expect.objectContaining({ reference: ORDER.id, partnerOrderId: 'tt-1' }),
    );
  });

  it('a refusal fails the order with the reason and order.failed', async () => {
    const { service, events } = setup({
      findOrderByReference: async () => null,
      createOrder: async () => {
        throw new StoreApiError('rejected', 'POST orders.json: HTTP 422 (out of stock)', 422);
      },
    });
    const r = await service.place(ORDER.id, job());
    expect(r).toEqual({ outcome: 'failed', reason: expect.stringContaining('out of stock') });
    expect(events[0]).toMatchObject({ type: 'order.failed' });
  });

  it('opens the sealed buyer for the store, and a refusal quoting it stores no buyer field', async () => {
    const createOrder = jest.fn(async (_ctx: unknown, input: { customer: unknown }) => {
      expect(input.customer).toMatchObject({ email: BUYER.email, lastName: 'Lovelace' });
      throw new StoreApiError(
        'rejected',
        `HTTP 422: customer ADA.BUYER@example.com at 12 Crescent Road, Marlow (Ada Lovelace) is blocked`,
        422,
      );
    });
    const { service, updates, events } = setup({
      findOrderByReference: async () => null,
      createOrder: createOrder as unknown as StoreProvider['createOrder'],
    });
    const r = await service.place(ORDER.id, job());
    expect(createOrder).toHaveBeenCalledTimes(1);
    const stored = JSON.stringify([r, updates, events]);
    for (const field of [BUYER.email, 'ADA.BUYER', 'Crescent', 'Marlow', 'Lovelace']) {
      expect(stored.toLowerCase()).not.toContain(field.toLowerCase());
    }
    expect(r).toEqual({ outcome: 'failed', reason: expect.stringContaining('is blocked') });
  });

  it('a 401 marks the connection needs_relink and fails the order', async () => {
    const { service, syncState, events } = setup({
      findOrderByReference: async () => {
        throw new StoreApiError('unauthorized', 'POST graphql.json: 401', 401);
      },
    });
    const r = await service.place(ORDER.id, job());
    expect(r.outcome).toBe('failed');
    expect(syncState.markNeedsRelink).toHaveBeenCalled();
    expect(events[0].type).toBe('order.failed');
    expect(JSON.stringify(events)).not.toContain('shpat_secret');
  });

  it('an outage is retried (delay on the error, Retry-After honoured) until the last attempt', async () => {
    const down = {
      findOrderByReference: async () => {
        throw new StoreApiError('rate_limited', 'still rate limited', 429, 30_000);
      },
    };
    const a = setup(down);
    const err = await a.service.place(ORDER.id, job(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrderRetryError);
    expect((err as OrderRetryError).delayMs).toBe(30_000);
    expect(a.events).toHaveLength(0);

    const b = setup(down);
    const last = await b.service.place(ORDER.id, job(99, 100));
    expect(last).toEqual({ outcome: 'failed', reason: expect.stringMatching(/gave up after 100/) });
    expect(b.events[0].type).toBe('order.failed');
  });

  it('leaves an order that is no longer pending alone', async () => {
    const { service } = setup({}, { status: 'placed' } as Partial<Order>);
    await expect(service.place(ORDER.id, job())).resolves.toEqual({
      outcome: 'skipped',
      reason: 'order is placed',
    });
  });
});
