import { Kind, OperationDefinitionNode, parse, validate } from 'graphql';
import { queryCost } from '../../../../test/support/fake-shopify';
import { shopifyAdminSchema } from '../../../../test/support/fake-shopify-schema';
import {
  BULK_RUN_MUTATION,
  BULK_STATUS_QUERY,
  bulkInventoryQuery,
  bulkProductsQuery,
  INVENTORY_LEVELS_QUERY,
  legacyId,
  levelsFromJsonl,
  LOCATIONS_QUERY,
  PRODUCT_IDS_QUERY,
  PRODUCT_VARIANTS_QUERY,
  PRODUCTS_COUNT_QUERY,
  PRODUCTS_PAGE,
  PRODUCTS_QUERY,
  productsFromJsonl,
  SHOP_QUERY,
  WEBHOOK_CREATE_MUTATION,
  WEBHOOK_DELETE_MUTATION,
  WEBHOOKS_QUERY,
} from './shopify-graphql';
import { ORDER_CREATE_MUTATION, ORDER_LOOKUP_QUERY } from './shopify-orders';

const schema = shopifyAdminSchema();

const DOCUMENTS: Record<string, [string, Record<string, unknown>]> = {
  SHOP_QUERY: [SHOP_QUERY, {}],
  PRODUCTS_COUNT_QUERY: [PRODUCTS_COUNT_QUERY, {}],
  PRODUCTS_QUERY: [PRODUCTS_QUERY, { first: PRODUCTS_PAGE }],
  PRODUCT_VARIANTS_QUERY: [PRODUCT_VARIANTS_QUERY, { id: 'gid://shopify/Product/1' }],
  PRODUCT_IDS_QUERY: [PRODUCT_IDS_QUERY, {}],
  LOCATIONS_QUERY: [LOCATIONS_QUERY, {}],
  INVENTORY_LEVELS_QUERY: [INVENTORY_LEVELS_QUERY, {}],
  BULK_RUN_MUTATION: [BULK_RUN_MUTATION, { query: '{}' }],
  BULK_STATUS_QUERY: [BULK_STATUS_QUERY, { id: 'gid://shopify/BulkOperation/1' }],
  WEBHOOK_CREATE_MUTATION: [WEBHOOK_CREATE_MUTATION, {}],
  WEBHOOKS_QUERY: [WEBHOOKS_QUERY, {}],
  WEBHOOK_DELETE_MUTATION: [WEBHOOK_DELETE_MUTATION, {}],
  ORDER_CREATE_MUTATION: [ORDER_CREATE_MUTATION, {}],
  ORDER_LOOKUP_QUERY: [ORDER_LOOKUP_QUERY, { query: "tag:'x'" }],
};

async function* linesOf(items: unknown[]): AsyncIterable<string> {
  for (const i of items) yield JSON.stringify(i);
}

describe('Shopify GraphQL documents', () => {
  it.each(Object.keys(DOCUMENTS))(
    '%s is valid against the Admin API schema and costs less than 1,000 points',
    (name) => {
      const [text, vars] = DOCUMENTS[name];
      const doc = parse(text);
      expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
      const op = doc.definitions.find(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      )!;
      expect(queryCost(schema, doc, op, vars)).toBeLessThan(1000);
    },
  );

  it('the bulk queries are valid, with and without a search', () => {
    for (const q of [
      bulkProductsQuery(null),
      bulkProductsQuery("updated_at:>'2026-12-01T00:00:00.000Z'"),
      bulkInventoryQuery(null),
    ]) {
      expect(validate(schema, parse(q)).map((e) => e.message)).toEqual([]);
    }
  });

  it('a wrong field name fails validation (the check is real)', () => {
    const doc = parse(SHOP_QUERY.replace('currencyCode', 'currency'));
    expect(validate(schema, doc).length).toBeGreaterThan(0);
  });

  it('reads legacy ids from global ids', () => {
    expect(legacyId('gid://shopify/Product/123')).toBe('123');
    expect(legacyId('gid://shopify/InventoryLevel/9?inventory_item_id=5')).toBe('9');
    expect(legacyId('456')).toBe('456');
    expect(legacyId('gid://other/Product/1')).toBeNull();
  });

  it('reassembles products from bulk JSONL, one at a time, with all their variants', async () => {
    const p = (id: number) => ({
      id: `gid://shopify/Product/${id}`,
      legacyResourceId: String(id),
      title: `P${id}`,
      handle: `p${id}`,
      status: 'ACTIVE',
      updatedAt: '2026-12-01T10:00:00Z',
      featuredMedia: null,
    });
    const v = (id: number, parent: number) => ({
      id: `gid://shopify/ProductVariant/${id}`,
      legacyResourceId: String(id),
      title: 'V',
      sku: null,
      price: '12.5',
      position: 1,
      inventoryPolicy: 'CONTINUE',
      inventoryQuantity: 3,
      inventoryItem: { id: `gid://shopify/InventoryItem/${id + 1}`, tracked: false },
      __parentId: `gid://shopify/Product/${parent}`,
    });
    const lines = [p(1), ...Array.from({ length: 300 }, (_, i) => v(100 + i, 1)), p(2), v(9, 2)];
    const out = [];
    for await (const x of productsFromJsonl(linesOf(lines))) out.push(x);
    expect(out.map((x) => [x.externalId, x.variants.length])).toEqual([
      ['1', 300],
      ['2', 1],
    ]);
    expect(out[1].variants[0]).toMatchObject({
      externalId: '9',
      inventoryItemId: '10',
      price: '12.50',
      inventoryPolicy: 'continue',
      inventoryTracked: false,
    });
    expect(out[0].status).toBe('active');
  });

  it('reads stock levels per location from bulk JSONL', async () => {
    const out = [];
    for await (const l of levelsFromJsonl(
      linesOf([
        { id: 'gid://shopify/InventoryItem/5' },
        {
          id: 'gid://shopify/InventoryLevel/7?inventory_item_id=5',
          updatedAt: '2026-12-01T10:00:00Z',
          location: { id: 'gid://shopify/Location/7' },
          quantities: [{ name: 'available', quantity: 4 }],
          __parentId: 'gid://shopify/InventoryItem/5',
        },
      ]),
    ))
      out.push(l);
    expect(out).toEqual([
      { inventoryItemId: '5', locationId: '7', available: 4, at: new Date('2026-12-01T10:00:00Z') },
    ]);
  });
});
