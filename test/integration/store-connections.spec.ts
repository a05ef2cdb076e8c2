import { DataSource } from 'typeorm';
import { SHOPIFY_TOPICS } from '../../src/stores/providers/shopify/shopify-payloads';
import {
  CommerceFixture,
  linkStore,
  outboxEvents,
  startCommerce,
  waitForImport,
} from '../support/commerce';
import { createPartner } from '../support/test-app';

describe('store connections: Shopify OAuth install (local Shopify-like store)', () => {
  let f: CommerceFixture;
  let db: DataSource;

  beforeAll(async () => {
    f = await startCommerce({ products: 30 });
    db = f.db;
  });
  afterAll(() => f.close());

  const create = (body: Record<string, unknown>) =>
    f.t.http().post(`/v1/brands/${f.brandId}/store-connections`).set(f.auth).send(body);

  async function pending(shop = f.fake.shop): Promise<{ id: string; state: string }> {
    const res = await create({ provider: 'shopify', shop, returnUrl: `${f.baseUrl}/back` }).expect(
      201,
    );
    const url = new URL(res.body.authorizeUrl);
    return { id: res.body.id, state: url.searchParams.get('state')! };
  }

  async function storedRow(id: string) {
    const [row] = await db.query(
      `SELECT status, access_token_sealed, state_hash, webhook_ids FROM store_connections WHERE id = $1`,
      [id],
    );
    return row as {
      status: string;
      access_token_sealed: string | null;
      state_hash: Buffer | null;
      webhook_ids: string[];
    };
  }

  it('creates a pending connection with an authorizeUrl Shopify understands', async () => {
    const res = await create({
      provider: 'shopify',
      shop: 'Other-Shop.myshopify.com',
      returnUrl: `${f.baseUrl}/x`,
    }).expect(201);
    expect(res.body).toMatchObject({
      provider: 'shopify',
      shop: 'other-shop.myshopify.com',
      status: 'pending',
    });
    const url = new URL(res.body.authorizeUrl);
    expect(url.origin + url.pathname).toBe(`${f.fake.origin}/admin/oauth/authorize`);
    expect(url.searchParams.get('client_id')).toBe(f.fake.apiKey);
    expect(url.searchParams.get('scope')).toBe(
      'read_products,read_inventory,read_locations,write_orders,read_orders',
    );
    expect(url.searchParams.get('redirect_uri')).toBe(`${f.baseUrl}/oauth/shopify/callback`);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const list = await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/store-connections`)
      .set(f.auth)
      .expect(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).toContain(res.body.id);
  });

  it('refuses a bad shop, an unknown provider and a returnUrl on a foreign origin (nothing stored)', async () => {
    const [{ n: before }] = await db.query(`SELECT count(*)::int AS n FROM store_connections`);
    for (const shop of ['evil.com', 'a.myshopify.com.evil.com', 'https://a.myshopify.com']) {
      const r = await create({ provider: 'shopify', shop, returnUrl: `${f.baseUrl}/x` }).expect(
        400,
      );
      expect(r.body.details[0].field).toBe('shop');
    }
    const foreign = await create({
      provider: 'shopify',
      shop: 'x.myshopify.com',
      returnUrl: 'https://evil.example/x',
    }).expect(400);
    expect(foreign.body.details[0].field).toBe('returnUrl');
    await create({
      provider: 'bigcartel',
      shop: 'x.myshopify.com',
      returnUrl: `${f.baseUrl}/x`,
    }).expect(400);
    const [{ n: after }] = await db.query(`SELECT count(*)::int AS n FROM store_connections`);
    expect(after).toBe(before);
  });

  it('accepts a returnUrl on an origin the partner allowed', async () => {
    await f.t
      .http()
      .patch('/v1/partner')
      .set(f.auth)
      .send({ allowedReturnOrigins: ['https://brand.example'] })
      .expect(200);
    await create({
      provider: 'shopify',
      shop: 'allowed.myshopify.com',
      returnUrl: 'https://brand.example/settings',
    }).expect(201);
  });

  it('runs the full install: consent → callback → token sealed → webhooks → import → returnUrl', async () => {
    const linked = await linkStore(f, `${f.baseUrl}/done?tab=stores`);
    const loc = new URL(linked.finalLocation);
    expect(loc.origin + loc.pathname).toBe(`${f.baseUrl}/done`);
    expect(loc.searchParams.get('tab')).toBe('stores');
    expect(loc.searchParams.get('connection')).toBe(linked.connectionId);
    expect(loc.searchParams.get('status')).toBe('linked');

    const row = await storedRow(linked.connectionId);
    expect(row.status).toBe('linked');
    expect(row.state_hash).toBeNull();
    const token = f.fake.issuedTokens[f.fake.issuedTokens.length - 1];
    expect(row.access_token_sealed).toBeTruthy();
    expect(row.access_token_sealed).not.toContain(token);
    expect(Buffer.from(row.access_token_sealed!, 'base64').toString('latin1')).not.toContain(token);

    // Every API.md topic registered, pointing at our endpoint.
    const hooks = [...f.fake.webhooks.values()];
    expect(hooks.map((h) => h.topic).sort()).toEqual([...SHOPIFY_TOPICS].sort());
    expect(new Set(hooks.map((h) => h.address))).toEqual(
      new Set([`${f.baseUrl}/webhooks/shopify`]),
    );
    expect(row.webhook_ids).toHaveLength(SHOPIFY_TOPICS.length);

    const c = await waitForImport(f, linked.connectionId);
    expect(c).toMatchObject({
      status: 'linked',
      sync: { imported: 30, total: 30, lastError: null },
    });
    const events = await outboxEvents(f, 'store_connection.linked');
    expect(events).toHaveLength(1);
    expect(events[0].data).toMatchObject({
      storeConnectionId: linked.connectionId,
      shop: f.fake.shop,
    });
    // The token is in no response.
    const read = await f.t
      .http()
      .get(`/v1/store-connections/${linked.connectionId}`)
      .set(f.auth)
      .expect(200);
    expect(JSON.stringify(read.body)).not.toContain(token);
    expect(Object.keys(read.body).sort()).toEqual([
      'brandId',
      'createdAt',
      'id',
      'provider',
      'scopes',
      'shop',
      'status',
      'sync',
    ]);
  });

  it('refuses a forged hmac, an unknown state, a reused state and a wrong shop; nothing stored', async () => {
    const p = await pending('second-shop.myshopify.com');
    const call = (q: URLSearchParams) => f.t.http().get(`/oauth/shopify/callback?${q.toString()}`);

    // Forged: signed with another secret.
    const forged = f.fake.signedCallbackQuery(
      { state: p.state, shop: 'second-shop.myshopify.com' },
      'not-the-secret',
    );
    await call(forged).expect(401);
    // Tampered after signing.
    const tampered = f.fake.signedCallbackQuery({
      state: p.state,
      shop: 'second-shop.myshopify.com',
    });
    tampered.set('code', 'attacker-code');
    await call(tampered).expect(401);
    // No hmac at all.
    const bare = f.fake.signedCallbackQuery({ state: p.state, shop: 'second-shop.myshopify.com' });
    bare.delete('hmac');
    await call(bare).expect(401);
    // A stale timestamp (replayed old redirect).
    await call(
      f.fake.signedCallbackQuery({
        state: p.state,
        shop: 'second-shop.myshopify.com',
        timestamp: Math.floor(Date.now() / 1000) - 3600,
      }),
    ).expect(401);
    // Wrong state.
    await call(
      f.fake.signedCallbackQuery({ state: 'not-a-state', shop: 'second-shop.myshopify.com' }),
    ).expect(400);
    // Wrong shop (validly signed for another shop): redirected as failed, state kept.
    const wrongShop = await call(
      f.fake.signedCallbackQuery({ state: p.state, shop: 'cool-shop.myshopify.com' }),
    ).expect(302);
    expect(new URL(wrongShop.headers.location).searchParams.get('error')).toBe('SHOP_MISMATCH');
    // Bad shop form.
    await call(f.fake.signedCallbackQuery({ state: p.state, shop: 'evil.com' })).expect(401);

    let row = await storedRow(p.id);
    expect(row).toMatchObject({ status: 'pending', access_token_sealed: null });
    expect(row.state_hash).not.toBeNull();

    // The real one links; the same redirect replayed is refused.
    const good = f.fake.signedCallbackQuery({ state: p.state, shop: 'second-shop.myshopify.com' });
    const ok = await call(good).expect(302);
    expect(new URL(ok.headers.location).searchParams.get('status')).toBe('linked');
    const tokensBefore = f.fake.issuedTokens.length;
    await call(good).expect(400);
    const again = f.fake.signedCallbackQuery({ state: p.state, shop: 'second-shop.myshopify.com' });
    await call(again).expect(400);
    expect(f.fake.issuedTokens.length).toBe(tokensBefore);
    row = await storedRow(p.id);
    expect(row.status).toBe('linked');
  });

  it('DELETE unregisters the webhooks and forgets the token', async () => {
    const [{ id }] = await db.query(
      `SELECT id FROM store_connections WHERE shop = 'second-shop.myshopify.com'`,
    );
    const before = f.fake.webhooks.size;
    await f.t.http().delete(`/v1/store-connections/${id}`).set(f.auth).expect(204);
    expect(f.fake.webhooks.size).toBe(before - SHOPIFY_TOPICS.length);
    const row = await storedRow(id);
    expect(row).toMatchObject({ status: 'revoked', access_token_sealed: null, webhook_ids: [] });
  });

  it('answers 404 for another partner’s connection', async () => {
    const [{ id }] = await db.query(
      `SELECT id FROM store_connections WHERE status = 'linked' LIMIT 1`,
    );
    const other = await createPartner(f.t, 'Other');
    const otherAuth = { authorization: `Bearer ${other.apiKey}` };
    await f.t.http().get(`/v1/store-connections/${id}`).set(otherAuth).expect(404);
    await f.t.http().post(`/v1/store-connections/${id}/sync`).set(otherAuth).expect(404);
    await f.t.http().delete(`/v1/store-connections/${id}`).set(otherAuth).expect(404);
    await f.t.http().get(`/v1/brands/${f.brandId}/products`).set(otherAuth).expect(404);
  });
});
