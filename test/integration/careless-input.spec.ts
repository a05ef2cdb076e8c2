import { getDataSourceToken } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { waitFor } from '../support/processes';
import {
  CommerceFixture,
  linkStore,
  SHOPIFY_SECRET,
  startCommerce,
  waitForImport,
} from '../support/commerce';
import { TEST_ADMIN_TOKEN } from '../support/test-env';

/**
 * Every operation of the OpenAPI document (`/docs-json`), with a real partner key and real
 * ids, sent careless input: wrong types, arrays for objects, deep nesting, huge numbers and
 * strings, `__proto__` / `constructor` keys, NUL, empty and non-JSON bodies, junk query
 * strings and ids. Whatever it answers, it must never be a 5xx.
 *
 * Each operation with a body has a valid body below; each mutation changes one field of
 * it, so that the careless value reaches past the DTO into the service.
 */

type Json = Record<string, unknown>;
interface Op {
  method: string;
  path: string; // OpenAPI template, e.g. /v1/channels/{id}
  hasBody: boolean;
  query: string[];
}
interface Attempt {
  what: string;
  path: string;
  contentType?: string;
  body?: string | Buffer;
}

const RAW_PROTO =
  '{"__proto__":{"admin":true,"maxHeight":720},"constructor":{"prototype":{"x":1}}}';
const HUGE_STRING = 'x'.repeat(200_000);

/** Careless values for one field. Raw JSON text, so `__proto__` stays an own key. */
const CARELESS_VALUES: Array<[string, string]> = [
  ['null', 'null'],
  ['true', 'true'],
  ['0', '0'],
  ['-1', '-1'],
  ['a fraction', '1.5'],
  ['a huge number', '1e308'],
  ['a number past double', '1e400'],
  ['a huge negative number', '-1e308'],
  ['2^64', '18446744073709551616'],
  ['an empty string', '""'],
  ['a huge string', JSON.stringify(HUGE_STRING)],
  ['a numeric string', '"99999999999999999999999"'],
  ['NUL', '"a\\u0000b"'],
  ['a lone surrogate', '"\\ud800"'],
  ['"__proto__"', '"__proto__"'],
  ['"constructor"', '"constructor"'],
  ['an empty array', '[]'],
  ['a huge array', `[${'1,'.repeat(20_000)}1]`],
  ['an array of arrays', '[[[]]]'],
  ['an array of objects', '[{"a":1},{"__proto__":{}}]'],
  ['an empty object', '{}'],
  ['a nested object', '{"a":{"b":{"c":{"d":{"e":"f"}}}}}'],
  ['__proto__ and constructor keys', RAW_PROTO],
  ['an object with toString', '{"toString":1,"valueOf":"x","hasOwnProperty":null}'],
];

const WHOLE_BODIES: Array<[string, string]> = [
  ['an empty body', ''],
  ['{}', '{}'],
  ['[]', '[]'],
  ['[{}]', '[{}]'],
  ['null', 'null'],
  ['a string', '"x"'],
  ['a number', '42'],
  ['__proto__ and constructor keys', RAW_PROTO],
  ['malformed JSON', '{"a":'],
  ['JSON nested 5000 deep', '['.repeat(5000) + ']'.repeat(5000)],
  ['objects nested 5000 deep', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)],
  ['NUL everywhere', '{"name":"\\u0000","url":"\\u0000","events":["\\u0000"]}'],
];

const CONTENT_TYPES: Array<[string, string, string | Buffer]> = [
  ['text/plain', 'text/plain', 'hello'],
  ['XML', 'application/xml', '<a>1</a>'],
  [
    'multipart',
    'multipart/form-data; boundary=X',
    '--X\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--X--\r\n',
  ],
  [
    'urlencoded with brackets',
    'application/x-www-form-urlencoded',
    'name[a][b]=1&__proto__[x]=1&constructor=2',
  ],
  ['urlencoded repeated keys', 'application/x-www-form-urlencoded', 'name=a&name=b'],
  ['JSON in latin1', 'application/json; charset=latin1', '{"name":"x"}'],
  ['JSON in utf-16', 'application/json; charset=utf-16', '{"name":"x"}'],
  ['gzip that is not', 'application/json', '{"name":"x"}'],
  [
    'invalid UTF-8',
    'application/json',
    Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  ],
  ['a content type with no body', 'application/json', ''],
  ['a vendor JSON type', 'application/vnd.api+json', '{"name":"x"}'],
];

const CARELESS_QUERIES = [
  'limit=abc',
  'limit=1e309',
  'limit=-1',
  'limit=0.5',
  'limit=1&limit=2',
  'cursor=garbage',
  `cursor=${'A'.repeat(5000)}`,
  'cursor=%FF%FE',
  'q=%25%5F%5C',
  'q=a&q=b',
  'q[a]=b',
  'status=__proto__',
  'status=constructor',
  '__proto__=1',
  'constructor[prototype]=1',
  'toString=1',
  'hasOwnProperty=x',
];

const CARELESS_IDS = [
  'x',
  'constructor',
  '__proto__',
  'toString',
  'a'.repeat(3000),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '%E0%A4%A',
  '%C0%AF',
  '..%2F..%2Fetc%2Fpasswd',
  '1e400',
];

/** `a.b[0].c` paths of every value in a valid body (objects and arrays included). */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return prefix.length ? [prefix] : [];
  const own = prefix.length ? [prefix] : [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return [...own, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

/** The valid body as JSON text with the value at `path` replaced by raw JSON `raw`. */
function withRaw(body: Json, path: Array<string | number>, raw: string): string {
  const marker = '"__CARELESS_VALUE__"';
  const copy = JSON.parse(JSON.stringify(body)) as Json;
  let at: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = '__CARELESS_VALUE__';
  return JSON.stringify(copy).replace(marker, () => raw);
}

const label = (path: Array<string | number>) =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');

describe('careless input on every operation of the OpenAPI document', () => {
  let f: CommerceFixture;
  let db: DataSource;
  let ops: Op[];
  const ids: Record<string, string> = {};
  const bodies: Record<string, Json> = {};
  let spareKeyId: string;

  beforeAll(async () => {
    f = await startCommerce({
      products: 2,
      env: { MAX_DESTINATIONS_PER_CHANNEL: '10000', MAX_TRANSCODES_PER_PARTNER: '10000' },
    });
    db = f.t.app.get(getDataSourceToken());
    const http = () => f.t.http();
    const post = async (path: string, body: Json, auth = f.auth) =>
      (await http().post(path).set(auth).send(body).expect(201)).body as Json;

    // Real ids for every path parameter.
    const endpoint = await post('/v1/webhook-endpoints', {
      url: 'http://127.0.0.1:9/hook',
      events: ['*'],
    });
    const linked = await linkStore(f);
    await waitForImport(f, linked.connectionId);
    const channel = await post('/v1/channels', { name: 'c', brandId: f.brandId });
    const destination = await post(`/v1/channels/${String(channel.id)}/destinations`, {
      name: 'd',
      kind: 'social_platform',
      url: 'rtmp://127.0.0.1/live',
      enabled: false,
    });
    const products = (await http().get(`/v1/brands/${f.brandId}/products`).set(f.auth).expect(200))
      .body.data as Array<{ id: string; variants: Array<{ id: string }> }>;
    const [session] = (await db.query(
      `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name, ended_at)
       VALUES ($1, $2, 'ended', 'test', 'test', now()) RETURNING id`,
      [f.partner.id, channel.id],
    )) as Array<{ id: string }>;
    const delivery = await waitFor(
      async () => {
        const res = await http()
          .get(`/v1/webhook-endpoints/${String(endpoint.id)}/deliveries`)
          .set(f.auth);
        return (res.body.data as Array<{ id: string }> | undefined)?.[0] ?? null;
      },
      { what: 'a webhook delivery', timeoutMs: 20_000 },
    );
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    // A second key of the partner: the one DELETE …/api-keys/{keyId} takes away.
    const spare = (
      await http().post(`/v1/admin/partners/${f.partner.id}/api-keys`).set(admin).expect(201)
    ).body.apiKey as string;
    const listed = (
      await http().get(`/v1/admin/partners/${f.partner.id}/api-keys`).set(admin).expect(200)
    ).body as { data: Array<{ id: string; prefix: string }> };
    spareKeyId = listed.data.find((k) => spare.startsWith(k.prefix))!.id;
    const order = (
      await http()
        .post('/v1/orders')
        .set(f.auth)
        .send({
          externalId: 'seed',
          brandId: f.brandId,
          lineItems: [{ variantId: products[0].variants[0].id, quantity: 1 }],
          customer: { email: 'buyer@example.com' },
        })
        .expect(202)
    ).body as Json;
    const privacyRequest = (
      await http()
        .post('/v1/privacy/requests')
        .set(f.auth)
        .send({ kind: 'export', email: 'buyer@example.com' })
        .expect(202)
    ).body as Json;

    Object.assign(ids, {
      channel: channel.id,
      destination: destination.id,
      session: session.id,
      product: products[0].id,
      brand: f.brandId,
      connection: linked.connectionId,
      endpoint: endpoint.id,
      delivery: delivery.id,
      partner: f.partner.id,
      order: order.id,
      privacyRequest: privacyRequest.id,
    });

    const address = { address1: '1 Main St', city: 'Springfield', country: 'US', zip: '12345' };
    Object.assign(bodies, {
      'POST /v1/admin/partners': { name: 'p' },
      'PATCH /v1/partner': { name: 'n', allowedReturnOrigins: ['https://shop.example'] },
      'POST /v1/brands': { name: 'b' },
      'POST /v1/channels': { name: 'c', brandId: f.brandId },
      'PATCH /v1/channels/{id}': { name: 'c2', brandId: f.brandId },
      'POST /v1/channels/{channelId}/destinations': {
        name: 'd',
        kind: 'social_platform',
        url: 'rtmp://127.0.0.1/live',
        streamKey: 'key',
        enabled: false,
        profile: { maxHeight: 720, fps: 30 },
      },
      'PATCH /v1/channels/{channelId}/destinations/{destinationId}': {
        name: 'd2',
        url: 'rtmp://127.0.0.1/live2',
        streamKey: 'key2',
        enabled: false,
        profile: { videoBitrateKbps: 2500 },
      },
      'POST /v1/sessions/{sessionId}/pins': { productId: products[0].id },
      'POST /v1/webhook-endpoints': { url: 'http://127.0.0.1:9/other', events: ['order.placed'] },
      'PATCH /v1/webhook-endpoints/{id}': {
        url: 'http://127.0.0.1:9/h2',
        events: ['*'],
        enabled: true,
      },
      'POST /v1/brands/{id}/store-connections': {
        provider: 'shopify',
        shop: 'another.myshopify.com',
        returnUrl: `${f.baseUrl}/done`,
      },
      // Unsigned here (401 expected); the signed door is walked below.
      'POST /webhooks/{provider}': { id: 1, title: 'Shirt' },
      'POST /v1/orders': {
        externalId: 'o-1',
        brandId: f.brandId,
        sessionId: session.id,
        lineItems: [{ variantId: products[0].variants[0].id, quantity: 1 }],
        customer: {
          email: 'buyer@example.com',
          name: 'Buyer',
          phone: '+1 555 0100',
          shippingAddress: address,
          billingAddress: address,
        },
      },
      'POST /v1/privacy/requests': { kind: 'export', email: 'buyer@example.com' },
    });

    const doc = (await http().get('/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown }>
      >;
    };
    ops = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        hasBody: Boolean(op.requestBody),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })),
    );
  }, 120_000);
  afterAll(() => f?.close());

  /** The real id for a path parameter of `template`. */
  function idFor(template: string, param: string): string {
    if (param === 'channelId') return ids.channel;
    if (param === 'destinationId') return ids.destination;
    if (param === 'sessionId') return ids.session;
    if (param === 'productId') return ids.product;
    if (param === 'deliveryId') return ids.delivery;
    if (param === 'keyId') return spareKeyId;
    // The routes that are not JSON (the player, HLS, the store webhook door, OAuth).
    if (param === 'file') return template.startsWith('/hls/') ? 'index.m3u8' : 'player.js';
    if (param === 'provider') return 'shopify';
    const resource =
      /^\/v1\/(admin\/partners|channels|sessions|brands|store-connections|products|orders|webhook-endpoints|privacy\/requests)\/\{id\}/.exec(
        template,
      )?.[1];
    const byResource: Record<string, string> = {
      'admin/partners': ids.partner,
      channels: ids.channel,
      sessions: ids.session,
      brands: ids.brand,
      'store-connections': ids.connection,
      products: ids.product,
      orders: ids.order,
      'webhook-endpoints': ids.endpoint,
      'privacy/requests': ids.privacyRequest,
    };
    const id = resource ? byResource[resource] : undefined;
    if (!id) throw new Error(`no id for {${param}} of ${template}: add one to idFor`);
    return id;
  }

  const fill = (template: string, override?: string) =>
    template.replace(/\{(\w+)\}/g, (_, p: string) => override ?? idFor(template, p));

  function attemptsOf(op: Op): Attempt[] {
    const key = `${op.method} ${op.path}`;
    const path = fill(op.path);
    const out: Attempt[] = [];
    if (op.hasBody) {
      const valid = bodies[key];
      if (!valid) throw new Error(`no valid body for ${key}: add one to the test`);
      for (const p of pathsOf(valid)) {
        for (const [what, raw] of CARELESS_VALUES) {
          out.push({
            what: `${label(p)} = ${what}`,
            path,
            contentType: 'application/json',
            body: withRaw(valid, p, raw),
          });
        }
      }
      for (const [what, raw] of [
        ['an unknown field', '"x"'],
        ['an unknown __proto__', '{"maxHeight":720}'],
      ] as const) {
        const json = JSON.stringify(valid);
        out.push({
          what,
          path,
          contentType: 'application/json',
          body: `${json.slice(0, -1)},"${what.includes('proto') ? '__proto__' : 'extra'}":${raw}}`,
        });
      }
    }
    for (const [what, raw] of WHOLE_BODIES) {
      out.push({ what: `body: ${what}`, path, contentType: 'application/json', body: raw });
    }
    for (const [what, type, raw] of CONTENT_TYPES) {
      out.push({ what: `content type: ${what}`, path, contentType: type, body: raw });
    }
    out.push({ what: 'no content type', path, body: '{"name":"x"}' });
    for (const q of [...CARELESS_QUERIES, ...op.query.map((name) => `${name}=%00`)]) {
      out.push({ what: `query ${q.slice(0, 40)}`, path: `${path}?${q}` });
    }
    if (op.path.includes('{')) {
      for (const id of CARELESS_IDS)
        out.push({ what: `id ${id.slice(0, 40)}`, path: fill(op.path, id) });
      const other = op.path.includes('{channelId}') ? ids.session : ids.channel;
      out.push({ what: 'the id of another resource', path: fill(op.path, other) });
    }
    return out;
  }

  it('answers no 5xx to any of it', async () => {
    // Deletions last (they take the ids away), and the API key's own deletion very last.
    const order = (op: Op) => (op.method !== 'DELETE' ? 0 : op.path.includes('api-keys') ? 2 : 1);
    const sorted = [...ops].sort((a, b) => order(a) - order(b));
    expect(sorted.length).toBeGreaterThan(40);
    const failures: string[] = [];
    let sent = 0;
    for (const op of sorted) {
      const auth = op.path.startsWith('/v1/admin')
        ? `Bearer ${TEST_ADMIN_TOKEN}`
        : f.auth.authorization;
      for (const a of attemptsOf(op)) {
        let r = f.t.http()[op.method.toLowerCase() as 'post'](a.path).set('authorization', auth);
        if (a.contentType) r = r.set('content-type', a.contentType);
        if (a.what === 'content type: gzip that is not') r = r.set('content-encoding', 'gzip');
        const res = await (a.body === undefined ? r : r.send(a.body));
        sent++;
        if (res.status >= 500) {
          failures.push(
            `${op.method} ${op.path} — ${a.what} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`,
          );
        }
        expect(res.headers['x-request-id']).toBeTruthy();
      }
    }
    // Outside the document: the OAuth callback and the store webhook door.
    for (const q of [
      ...CARELESS_QUERIES,
      'shop=%00',
      'hmac=__proto__&shop=x&state=constructor',
      'code[a]=1',
    ]) {
      const res = await f.t.http().get(`/oauth/shopify/callback?${q}`);
      sent++;
      if (res.status >= 500) failures.push(`GET /oauth/shopify/callback?${q} → ${res.status}`);
    }
    for (const [what, raw] of [...WHOLE_BODIES, ['NUL', '{"id":1,"title":"\\u0000"}']]) {
      const hmac = createHmac('sha256', SHOPIFY_SECRET).update(raw).digest('base64');
      const res = await f.t
        .http()
        .post('/webhooks/shopify')
        .set('content-type', 'application/json')
        .set('x-shopify-topic', 'products/update')
        .set('x-shopify-hmac-sha256', hmac)
        .set('x-shopify-shop-domain', f.fake.shop)
        .set('x-shopify-webhook-id', `careless-${sent}`)
        .send(raw);
      sent++;
      if (res.status >= 500) failures.push(`POST /webhooks/shopify — ${what} → ${res.status}`);
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(2000);
  }, 600_000);
});
