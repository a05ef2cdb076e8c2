import {
  nextPageInfo,
  orderStatusOf,
  storeTime,
  toStoreChange,
  toStoreProduct,
} from './shopify-payloads';

const product = {
  id: 632910392,
  title: 'IPod Nano - 8GB',
  handle: 'ipod-nano',
  status: 'active',
  updated_at: '2025-01-02T10:00:00-05:00',
  image: { src: 'https://cdn.shopify.com/ipod.jpg' },
  variants: [
    {
      id: 808950810,
      title: 'Pink',
      price: '199.00',
      sku: 'IPOD2008PINK',
      position: 1,
      inventory_policy: 'continue',
      inventory_management: 'shopify',
      inventory_item_id: 808950810,
      inventory_quantity: 10,
    },
    {
      id: 49148385,
      title: 'Red',
      price: 199,
      sku: '',
      inventory_management: null,
      inventory_quantity: 0,
    },
    { title: 'no id: dropped' },
  ],
};

describe('Shopify payloads → provider-neutral shapes', () => {
  it('maps a REST product resource', () => {
    const p = toStoreProduct(product)!;
    expect(p).toMatchObject({
      externalId: '632910392',
      title: 'IPod Nano - 8GB',
      handle: 'ipod-nano',
      status: 'active',
      imageUrl: 'https://cdn.shopify.com/ipod.jpg',
    });
    expect(p.updatedAt.toISOString()).toBe('2025-01-02T15:00:00.000Z');
    expect(p.variants).toEqual([
      {
        externalId: '808950810',
        inventoryItemId: '808950810',
        sku: 'IPOD2008PINK',
        title: 'Pink',
        price: '199.00',
        position: 1,
        inventoryQuantity: 10,
        inventoryTracked: true,
        inventoryPolicy: 'continue',
      },
      expect.objectContaining({
        externalId: '49148385',
        sku: null,
        price: '199.00',
        inventoryTracked: false,
        position: 2,
      }),
    ]);
  });

  it('reads store times Postgres can hold; anything else is absent', () => {
    expect(storeTime('2026-12-01T10:00:00-05:00')?.toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect(storeTime('9999-12-31T23:59:59.999Z')).not.toBeNull();
    expect(storeTime('+010000-01-01T00:00:00Z')).toBeNull();
    expect(storeTime('-000001-01-01T00:00:00Z')).toBeNull();
    expect(storeTime('yesterday')).toBeNull();
    expect(storeTime(1764600000000)).toBeNull();
  });

  it('refuses a product without id or updated_at', () => {
    expect(toStoreProduct({ ...product, id: undefined })).toBeNull();
    expect(toStoreProduct({ ...product, updated_at: 'yesterday' })).toBeNull();
    expect(toStoreChange('products/update', { title: 'x' }, null)).toEqual({
      kind: 'ignored',
      reason: 'malformed product',
    });
  });

  it('maps each topic of API.md', () => {
    const at = new Date('2025-03-01T00:00:00Z');
    expect(toStoreChange('products/delete', { id: 5 }, at)).toEqual({
      kind: 'product.delete',
      externalId: '5',
      at,
    });
    expect(
      toStoreChange(
        'inventory_levels/update',
        { inventory_item_id: 7, location_id: 1, available: 3, updated_at: '2025-03-02T00:00:00Z' },
        at,
      ),
    ).toEqual({
      kind: 'inventory.level',
      inventoryItemId: '7',
      locationId: '1',
      available: 3,
      at: new Date('2025-03-02T00:00:00Z'),
    });
    expect(
      toStoreChange('orders/paid', { id: 9, updated_at: '2025-03-02T00:00:00Z' }, at),
    ).toMatchObject({ status: 'paid', storeOrderId: '9' });
    expect(toStoreChange('orders/fulfilled', { id: 9 }, at)).toMatchObject({
      status: 'fulfilled',
      at,
    });
    expect(toStoreChange('orders/cancelled', { id: 9 }, at)).toMatchObject({ status: 'cancelled' });
    expect(
      toStoreChange(
        'refunds/create',
        { id: 1, order_id: 9, created_at: '2025-03-03T00:00:00Z' },
        at,
      ),
    ).toMatchObject({
      kind: 'order.status',
      storeOrderId: '9',
      status: 'refunded',
    });
    expect(toStoreChange('app/uninstalled', {}, at)).toEqual({
      kind: 'app.uninstalled',
      shop: null,
    });
    expect(toStoreChange('app/uninstalled', { myshopify_domain: 'a.myshopify.com' }, at)).toEqual({
      kind: 'app.uninstalled',
      shop: 'a.myshopify.com',
    });
    expect(
      toStoreChange(
        'bulk_operations/finish',
        { admin_graphql_api_id: 'gid://shopify/BulkOperation/7', status: 'completed' },
        at,
      ),
    ).toEqual({ kind: 'export.finished', exportId: 'gid://shopify/BulkOperation/7' });
    expect(toStoreChange('customers/create', {}, at)).toMatchObject({ kind: 'ignored' });
  });

  it('derives an order status from orders/updated', () => {
    expect(orderStatusOf({ financial_status: 'pending' })).toBe('placed');
    expect(orderStatusOf({ financial_status: 'paid' })).toBe('paid');
    expect(orderStatusOf({ financial_status: 'paid', fulfillment_status: 'fulfilled' })).toBe(
      'fulfilled',
    );
    expect(orderStatusOf({ financial_status: 'refunded', fulfillment_status: 'fulfilled' })).toBe(
      'refunded',
    );
    expect(orderStatusOf({ financial_status: 'paid', cancelled_at: '2025-01-01T00:00:00Z' })).toBe(
      'cancelled',
    );
  });

  it('reads the next page_info from a Link header', () => {
    const link =
      '<https://shop.myshopify.com/admin/api/2025-10/products.json?limit=250&page_info=abc>; rel="previous", ' +
      '<https://shop.myshopify.com/admin/api/2025-10/products.json?limit=250&page_info=def>; rel="next"';
    expect(nextPageInfo(link)).toBe('def');
    expect(nextPageInfo('<https://x/products.json?page_info=abc>; rel="previous"')).toBeNull();
    expect(nextPageInfo(undefined)).toBeNull();
  });
});
