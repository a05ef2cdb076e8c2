import { DataSource } from 'typeorm';
import { pkceChallenge } from '../../src/stores/oauth-pkce';
import type { StoreProvider } from '../../src/stores/providers/store-provider';
import { StoreProviders } from '../../src/stores/store-providers';
import { CommerceFixture, startCommerce } from '../support/commerce';

/**
 * The provider shape beyond Shopify: a generic OAuth 2.0 + PKCE platform plugged in as one
 * more StoreProvider (here a stub registered at runtime) goes through the same install.
 */
describe('a PKCE provider through the generic install flow', () => {
  let f: CommerceFixture;
  let db: DataSource;
  const seen: { challenge?: string; verifier?: string } = {};

  const stub: StoreProvider = {
    name: 'pkceshop',
    configured: true,
    usesPkce: true,
    normalizeShop: (s) => (/^[a-z0-9-]+\.pkceshop\.test$/.test(s) ? s : null),
    authorizeUrl: ({ state, redirectUri, codeChallenge }) => {
      seen.challenge = codeChallenge;
      return `https://auth.pkceshop.test/authorize?${new URLSearchParams({ state, redirect_uri: redirectUri, code_challenge: codeChallenge ?? '', code_challenge_method: 'S256' })}`;
    },
    verifyCallback: (q) =>
      typeof q.state === 'string' && typeof q.code === 'string' && typeof q.shop === 'string'
        ? { state: q.state, code: q.code, shop: q.shop }
        : null,
    exchangeCode: async (_shop, _code, codeVerifier) => {
      seen.verifier = codeVerifier;
      return {
        accessToken: 'pkce-token-0123456789',
        scopes: ['products'],
        expiresAt: null,
        refreshToken: null,
        refreshTokenExpiresAt: null,
      };
    },
    shopInfo: async () => ({ currency: 'USD' }),
    registerWebhooks: async () => [],
    unregisterWebhooks: async () => undefined,
    countProducts: async () => 0,
    listProducts: async () => ({ products: [], nextCursor: null }),
    listProductIds: async () => ({ ids: [], nextCursor: null }),
    listLocations: async () => [],
    startExport: async () => 'export-1',
    exportStatus: async (_ctx, id) => ({
      id,
      status: 'completed',
      url: null,
      errorCode: null,
      rootObjectCount: 0,
    }),
    readProductExport: () => (async function* () {})(),
    readInventoryExport: () => (async function* () {})(),
    listInventoryLevels: async () => ({ levels: [], nextCursor: null }),
    isComplianceTopic: () => false,
    findOrderByReference: async () => null,
    createOrder: async () => ({ storeOrderId: '1' }),
    verifyWebhook: () => false,
    webhookEnvelope: () => null,
    toChange: () => ({ kind: 'ignored', reason: 'stub' }),
  };

  beforeAll(async () => {
    f = await startCommerce();
    db = f.db;
    (f.t.app.get(StoreProviders) as unknown as { byName: Map<string, StoreProvider> }).byName.set(
      stub.name,
      stub,
    );
  });
  afterAll(() => f.close());

  it('sends the S256 challenge, keeps the verifier sealed, and exchanges the code with it', async () => {
    const res = await f.t
      .http()
      .post(`/v1/brands/${f.brandId}/store-connections`)
      .set(f.auth)
      .send({ provider: 'pkceshop', shop: 'acme.pkceshop.test', returnUrl: `${f.baseUrl}/back` })
      .expect(201);
    const url = new URL(res.body.authorizeUrl);
    expect(url.searchParams.get('code_challenge')).toBe(seen.challenge);
    const [before] = await db.query(
      `SELECT pkce_verifier_sealed FROM store_connections WHERE id = $1`,
      [res.body.id],
    );
    expect(before.pkce_verifier_sealed).toBeTruthy();

    const q = new URLSearchParams({
      state: url.searchParams.get('state')!,
      code: 'c0de',
      shop: 'acme.pkceshop.test',
    });
    const back = await f.t.http().get(`/oauth/pkceshop/callback?${q}`).expect(302);
    expect(new URL(back.headers.location).searchParams.get('status')).toBe('linked');
    expect(seen.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkceChallenge(seen.verifier!)).toBe(seen.challenge);
    expect(before.pkce_verifier_sealed).not.toContain(seen.verifier);
    const [after] = await db.query(
      `SELECT status, pkce_verifier_sealed FROM store_connections WHERE id = $1`,
      [res.body.id],
    );
    expect(after).toEqual({ status: 'linked', pkce_verifier_sealed: null });
  });
});
