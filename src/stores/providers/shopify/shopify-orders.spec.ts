import type { StoreOrderInput } from '../store-provider';
import { StoreApiError } from '../store-provider';
import {
  createdOrderId,
  lookedUpOrderId,
  orderSearchQuery,
  orderTag,
  toShopifyOrder,
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

  it('builds the REST order: variant ids, tags, note with both ids, obeying stock policy', () => {
    const { order } = toShopifyOrder(input);
    expect(order).toMatchObject({
      email: 'ada@example.com',
      line_items: [{ variant_id: 1000001, quantity: 2 }],
      tags: `castbridge, cb-${ref}`,
      note_attributes: [
        { name: 'castbridge_order_id', value: ref },
        { name: 'partner_order_id', value: 'tt, 123' },
      ],
      source_identifier: ref,
      inventory_behaviour: 'decrement_obeying_policy',
      financial_status: 'pending',
      send_receipt: false,
      currency: 'EUR',
      customer: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' },
      shipping_address: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        address1: '1 Main St',
        city: 'London',
        zip: 'N1',
        country_code: 'GB',
      },
    });
    expect(String(order.note)).toContain(ref);
    expect(String(order.note)).toContain('tt, 123');
    // The partner's id (may hold commas) never goes into the comma-separated tags.
    expect(String(order.tags)).not.toContain('tt');
    expect(JSON.parse(JSON.stringify(order)).shipping_address).not.toHaveProperty('address2');
  });

  it('leaves out what is unknown', () => {
    const { order } = toShopifyOrder({
      ...input,
      currency: null,
      customer: { email: 'a@b.co', firstName: null, lastName: null, shippingAddress: null },
    });
    expect(order).not.toHaveProperty('currency');
    expect(order).not.toHaveProperty('shipping_address');
  });

  it('reads the created order id', () => {
    expect(createdOrderId({ order: { id: 450789469 } })).toBe('450789469');
    expect(() => createdOrderId({})).toThrow(StoreApiError);
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
