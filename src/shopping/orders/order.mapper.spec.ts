import type { Order } from './order.entity';
import {
  fromCents,
  PricedVariant,
  priceLineItems,
  splitName,
  toCents,
  toOrderDto,
  toStoreOrderInput,
} from './order.mapper';
import { orderRetryDelayMs, ORDER_RETRY_MAX_MS, orderBackoff } from './order-retry';

const variant = (id: string, price: string, title = 'Small'): PricedVariant => ({
  id,
  productId: `p-${id}`,
  externalId: `ext-${id}`,
  productTitle: 'Shirt',
  title,
  sku: `SKU-${id}`,
  price,
});

describe('order mapper', () => {
  it('converts decimal prices through integer cents (no float drift)', () => {
    expect(toCents('12.5')).toBe(1250);
    expect(toCents('0.10')).toBe(10);
    expect(toCents('7')).toBe(700);
    expect(fromCents(1250)).toBe('12.50');
    expect(fromCents(5)).toBe('0.05');
    expect(() => toCents('1.234')).toThrow();
    expect(() => toCents('-1')).toThrow();
  });

  it('prices line items from the catalog, in order, and totals them', () => {
    const variants = new Map([
      ['a', variant('a', '0.10')],
      ['b', variant('b', '12.50', 'Default Title')],
    ]);
    const { lineItems, totalPrice } = priceLineItems(
      [
        { variantId: 'a', quantity: 3 },
        { variantId: 'b', quantity: 2 },
      ],
      variants,
    );
    expect(totalPrice).toBe('25.30');
    expect(lineItems).toEqual([
      {
        variantId: 'a',
        productId: 'p-a',
        externalVariantId: 'ext-a',
        title: 'Shirt - Small',
        sku: 'SKU-a',
        quantity: 3,
        price: '0.10',
      },
      expect.objectContaining({ variantId: 'b', title: 'Shirt', price: '12.50', quantity: 2 }),
    ]);
  });

  it('splits a customer name into first and last', () => {
    expect(splitName('Ada King Lovelace')).toEqual({ firstName: 'Ada', lastName: 'King Lovelace' });
    expect(splitName('Prince')).toEqual({ firstName: null, lastName: 'Prince' });
    expect(splitName(undefined)).toEqual({ firstName: null, lastName: null });
    expect(splitName('  ')).toEqual({ firstName: null, lastName: null });
  });

  const order = {
    id: '0b9f7a4e-3c1d-4f7a-9a51-5d2b8c9e1f00',
    partnerId: 'partner',
    brandId: 'brand',
    storeConnectionId: 'conn',
    sessionId: null,
    externalId: 'tt-123',
    status: 'pending',
    storeOrderId: null,
    storeUpdatedAt: null,
    lineItems: [
      {
        variantId: 'v1',
        productId: 'p1',
        externalVariantId: '1000001',
        title: 'Shirt - Small',
        sku: 'S',
        quantity: 2,
        price: '10.00',
      },
    ],
    totalPrice: '20.00',
    currency: 'EUR',
    failureReason: null,
    customerSealed: null,
    customerKeyId: null,
    customerEmailIndex: null,
    customerErasedAt: null,
    finalAt: null,
    attempts: 0,
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedAt: new Date('2026-01-01T00:00:01.000Z'),
  } as Order;

  it('builds the provider-neutral store order: our id as reference, the partner id alongside', () => {
    const buyer = {
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      shippingAddress: { address1: '1 Main St', city: 'London', country: 'GB' },
    };
    expect(toStoreOrderInput(order, buyer)).toEqual({
      reference: order.id,
      partnerOrderId: 'tt-123',
      currency: 'EUR',
      lineItems: [
        { variantExternalId: '1000001', quantity: 2, title: 'Shirt - Small', price: '10.00' },
      ],
      customer: {
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        shippingAddress: {
          firstName: null,
          lastName: null,
          address1: '1 Main St',
          address2: null,
          city: 'London',
          province: null,
          zip: null,
          country: 'GB',
          phone: null,
        },
      },
    });
  });

  it('maps a row to exactly the Order of API.md (no customer, no internals)', () => {
    const dto = toOrderDto({ ...order, totalPrice: '20' });
    expect(Object.keys(dto).sort()).toEqual(
      [
        'id',
        'externalId',
        'brandId',
        'sessionId',
        'status',
        'storeOrderId',
        'lineItems',
        'totalPrice',
        'currency',
        'failureReason',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(dto.totalPrice).toBe('20.00');
    expect(dto.lineItems[0]).not.toHaveProperty('externalVariantId');
    expect(dto.createdAt).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('order placement retries', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(orderRetryDelayMs(1, null, () => 0.5)).toBe(1000);
    expect(orderRetryDelayMs(3, null, () => 0.5)).toBe(4000);
    expect(orderRetryDelayMs(3, null, () => 0)).toBe(3200);
    expect(orderRetryDelayMs(3, null, () => 1)).toBe(4800);
    expect(orderRetryDelayMs(40, null, () => 0.5)).toBe(ORDER_RETRY_MAX_MS);
  });

  it("honours the store's Retry-After when it is longer", () => {
    expect(orderRetryDelayMs(1, 7000, () => 0.5)).toBe(7000);
    expect(orderRetryDelayMs(5, 1000, () => 0.5)).toBe(16_000);
  });

  it('the backoff strategy takes the delay the attempt chose', () => {
    const err = Object.assign(new Error('x'), { delayMs: 1234 });
    expect(orderBackoff(2, 'order', err)).toBe(1234);
    expect(orderBackoff(1, 'order', new Error('x'))).toBeGreaterThanOrEqual(800);
  });
});
