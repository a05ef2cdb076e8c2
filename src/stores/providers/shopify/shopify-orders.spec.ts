import type { StoreOrderInput } from '../store-provider';
import { StoreApiError } from '../store-provider';
import {
  createdOrderId,
  lookedUpOrderId,
  orderSearchQuery,
  orderTag,
  toOrderCreateVariables,
} from './shopify-orders';
import { summarizeErrors } from './shopify.client';

const ref = '0b9f7a4e-3c1d-4f7a-9a51-5d2b8c9e1f00';
const input: StoreOrderInput = {
  reference: ref,
  partnerOrderId: 'tt, 123',
  currency: 'EUR',
  lineItems: [{ variantExternalId: '1000001', quantity: 2, title: 'Shirt', price: '10.00' }],
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
      zip: 'N1',
      country: 'GB',
      phone: null,
    },
  },
};

describe('Shopify order payloads', () => {
  it('tags fit Shopify (≤ 40 characters) and the search quotes the exact tag', () => {
    expect(orderTag(ref)).toBe(`cb-${ref}`);
    expect(orderTag(ref).length).toBeLessThanOrEqual(40);
    expect(orderSearchQuery(ref)).toBe(`tag:'cb-${ref}'`);
  });

  it('builds orderCreate: variant gids, tags, note with both ids, obeying stock policy, no receipt', () => {
    const { order, options } = toOrderCreateVariables(input);
    expect(options).toEqual({
      inventoryBehaviour: 'DECREMENT_OBEYING_POLICY',
      sendReceipt: false,
      sendFulfillmentReceipt: false,
    });
    expect(order).toMatchObject({
      email: 'ada@example.com',
      lineItems: [{ variantId: 'gid://shopify/ProductVariant/1000001', quantity: 2 }],
      tags: ['castbridge', `cb-${ref}`],
      customAttributes: [
        { key: 'castbridge_order_id', value: ref },
        { key: 'partner_order_id', value: 'tt, 123' },
      ],
      sourceIdentifier: ref,
      financialStatus: 'PENDING',
      currency: 'EUR',
      customer: { toUpsert: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' } },
      shippingAddress: {
        firstName: 'Ada',
        lastName: 'Lovelace',
        address1: '1 Main St',
        city: 'London',
        zip: 'N1',
        countryCode: 'GB',
      },
    });
    expect(String(order.note)).toContain(ref);
    expect(String(order.note)).toContain('tt, 123');
    // The partner's id (may hold commas) never becomes a tag.
    expect((order.tags as string[]).join(',')).not.toContain('tt');
    expect(JSON.parse(JSON.stringify(order)).shippingAddress).not.toHaveProperty('address2');
  });

  it('leaves out what is unknown', () => {
    const { order } = toOrderCreateVariables({
      ...input,
      currency: null,
      customer: { email: 'a@b.co', firstName: null, lastName: null, shippingAddress: null },
    });
    expect(order).not.toHaveProperty('currency');
    expect(order).not.toHaveProperty('shippingAddress');
  });

  it('reads the created order id; userErrors are a refusal with their summary', () => {
    expect(
      createdOrderId({
        orderCreate: {
          order: { id: 'gid://shopify/Order/450789469', legacyResourceId: '450789469' },
          userErrors: [],
        },
      }),
    ).toBe('450789469');
    expect(() => createdOrderId({})).toThrow(StoreApiError);
    try {
      createdOrderId({
        orderCreate: {
          order: null,
          userErrors: [
            { field: ['order', 'lineItems', '0'], message: 'Shirt - Small is out of stock' },
          ],
        },
      });
      throw new Error('expected a throw');
    } catch (err) {
      expect((err as StoreApiError).kind).toBe('rejected');
      expect((err as StoreApiError).message).toContain(
        'order.lineItems.0: Shirt - Small is out of stock',
      );
    }
  });

  it('reads the lookup: exact tag only; GraphQL errors become StoreApiErrors', () => {
    const node = (id: number, tags: string[]) => ({
      node: { id: `gid://shopify/Order/${id}`, legacyResourceId: String(id), tags },
    });
    expect(lookedUpOrderId({ data: { orders: { edges: [] } } }, ref)).toBeNull();
    expect(
      lookedUpOrderId(
        {
          data: {
            orders: { edges: [node(1, ['cb-other']), node(2, ['castbridge', `cb-${ref}`])] },
          },
        },
        ref,
      ),
    ).toBe('2');
    try {
      lookedUpOrderId(
        { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] },
        ref,
      );
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(StoreApiError);
      expect((err as StoreApiError).kind).toBe('rate_limited');
    }
    expect(() =>
      lookedUpOrderId({ errors: [{ message: 'no', extensions: { code: 'ACCESS_DENIED' } }] }, ref),
    ).toThrow(/ACCESS_DENIED/);
  });

  it("summarizes Shopify's errors member in one short line", () => {
    expect(summarizeErrors({ errors: { line_items: ['is out of stock'] } })).toBe(
      'line_items: is out of stock',
    );
    expect(summarizeErrors({ errors: 'Not Found' })).toBe('Not Found');
    expect(summarizeErrors({ errors: 'access_token=shpat_abc bad' })).not.toContain('shpat_abc');
    expect(summarizeErrors(null)).toBe('');
    expect(summarizeErrors({ errors: 'x'.repeat(1000) }).length).toBe(300);
  });
});
