import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  PathItemObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorDto } from './api-docs';
import { ErrorCode } from './errors';

const INTRO = `
Castbridge carries one live stream from a creator to every destination (social platforms
over RTMP/RTMPS, the brand's own site over HLS with a shoppable player, partner shops) and
keeps the brand's store catalog, stock and orders in step with them.

**Auth.** \`/v1/admin/*\`: \`Authorization: Bearer <ADMIN_TOKEN>\` (scheme \`admin\`; the
routes answer 404 while \`ADMIN_TOKEN\` is not set). Every other \`/v1/*\` route:
\`Authorization: Bearer <partner API key>\` (scheme \`partner\`; an opaque \`cbk_…\` key from
\`POST /v1/admin/partners\`, not a JWT). A missing or wrong key is 401; another partner's
resource is 404.

**Errors.** Every error answers the \`ErrorDto\` body
\`{statusCode, error, message, details, requestId}\` with a stable \`error\` code:
${Object.values(ErrorCode)
  .map((c) => `\`${c}\``)
  .join(', ')}. \`details\` names each wrong field (\`[{field, message}]\`); a 400 changes
nothing. Where a setting would allow what was refused, the message names it (for example
\`EGRESS_ALLOW_PRIVATE_NETWORKS\`). Every response carries \`x-request-id\`. Over the rate
limit: 429 \`RATE_LIMITED\` with \`Retry-After\`; over a cap: 409 \`LIMIT_REACHED\`.

**Go live.** \`POST /v1/channels\` → \`ingest.url\` + \`ingest.streamKey\` (OBS: Server and
Stream Key) → \`POST /v1/channels/{id}/destinations\` for each platform (\`url\`, \`streamKey\`)
and one \`brand_site\` (answers \`playback.embedUrl\`) → the creator publishes → the channel's
\`currentSessionId\` → \`GET /v1/sessions/{id}\`: \`destinations[]\` is each relay's state,
bytes and bitrate.

**Sell.** \`POST /v1/brands\` → \`POST /v1/brands/{id}/store-connections\` (the brand approves
at \`authorizeUrl\`) → the catalog imports (\`GET /v1/brands/{id}/products\`) → link the
channel (\`brandId\`) → \`POST /v1/sessions/{id}/pins\` while live (the player shows the
product) → \`POST /v1/orders\`.

**Events.** \`POST /v1/webhook-endpoints\`: state changes are POSTed as
\`{id, type, createdAt, data}\`, signed with Standard Webhooks.

Non-JSON routes (the player, HLS, the store webhook door, the OAuth redirect, the queue
dashboard) are described here too, with their media types.
`.trim();

const TAGS: Array<[string, string]> = [
  ['admin', 'Partners and their API keys (ADMIN_TOKEN)'],
  ['partner', 'The calling partner'],
  ['channels', "A creator's live channel and its ingest"],
  ['destinations', 'Where a channel is carried, and the platform presets'],
  ['sessions', 'One broadcast of a channel, with the state of each relay'],
  ['brands', 'Brands that sell during lives'],
  ['stores', "Linking a brand's store (OAuth) and its sync"],
  ['catalog', "The brand's products, kept in step with its store"],
  ['live shopping', 'Products pinned during a live'],
  ['orders', "Orders placed in the brand's store"],
  ['webhooks', 'Outbound webhook endpoints and their deliveries'],
  ['player', 'The brand-site player and its HLS rendition (public, no auth)'],
  ['store webhooks', "The stores' own webhooks (signed by the store)"],
  ['oauth', "The store's OAuth redirect"],
  ['ops', 'Probes, metrics and the queue dashboard'],
];

const ERROR_REF = { $ref: '#/components/schemas/ErrorDto' };
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ERROR_REF } },
});

/**
 * Routes served outside Nest's router (the store webhook door runs ahead of Express) or
 * by handlers that write the response themselves, described by hand. Each one's handler
 * names this list; openapi-document.spec.ts checks that they answer where described.
 */
export const HAND_DESCRIBED_PATHS: Record<string, PathItemObject> = {
  '/webhooks/{provider}': {
    post: {
      tags: ['store webhooks'],
      operationId: 'StoreWebhooks_receive',
      summary: "Receive a store's webhook",
      description:
        "Shopify's webhooks (`provider` = `shopify`), served ahead of Express " +
        '(src/stores/webhooks/store-webhooks.route.ts). Headers: `X-Shopify-Topic`, ' +
        '`X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the app secret), ' +
        '`X-Shopify-Shop-Domain`, `X-Shopify-Webhook-Id`, `X-Shopify-Event-Id`, ' +
        '`X-Shopify-Triggered-At`. Answered 200 once the event is durably recorded ' +
        '(a duplicate: 200, no effect); it is applied by a worker.',
      parameters: [
        {
          name: 'provider',
          in: 'path',
          required: true,
          schema: { type: 'string', enum: ['shopify'] },
        },
        { name: 'x-shopify-hmac-sha256', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'x-shopify-topic', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'x-shopify-shop-domain', in: 'header', required: true, schema: { type: 'string' } },
      ],
      requestBody: {
        required: true,
        description: "The store's JSON payload for the topic, as signed (≤ 1 MB)",
        content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
      },
      responses: {
        '200': {
          description: 'Recorded (or a duplicate)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['status'],
                properties: { status: { type: 'string', enum: ['accepted', 'duplicate'] } },
              },
            },
          },
        },
        '400': errorResponse('`VALIDATION_FAILED`: a header is missing or the body is not JSON'),
        '401': errorResponse('`UNAUTHORIZED`: the signature does not match'),
        '404': errorResponse('`NOT_FOUND`: no such provider'),
        '413': errorResponse('`PAYLOAD_TOO_LARGE`: over 1 MB'),
        '503': errorResponse('`SERVICE_UNAVAILABLE`: Postgres or Redis is down; the store retries'),
      },
    } satisfies OperationObject,
  },
  '/hls/{destinationId}/{file}': {
    get: {
      tags: ['player'],
      operationId: 'Hls_file',
      summary: 'The brand-site HLS rendition',
      description:
        '`index.m3u8` (the live playlist) and its `seg_NNNNNN.ts` segments for a ' +
        '`brand_site` destination (`playback.hlsUrl`). 404 unless its relay runs in the ' +
        "channel's live session. Public (the player needs no key); CORS `*`.",
      parameters: [
        {
          name: 'destinationId',
          in: 'path',
          required: true,
          schema: { type: 'string', format: 'uuid' },
        },
        {
          name: 'file',
          in: 'path',
          required: true,
          schema: { type: 'string', pattern: '^(index\\.m3u8|seg_\\d{6}\\.ts)$' },
        },
      ],
      responses: {
        '200': {
          description: 'The playlist or a segment',
          content: {
            'application/vnd.apple.mpegurl': { schema: { type: 'string' } },
            'video/mp2t': { schema: { type: 'string', format: 'binary' } },
          },
        },
        '404': errorResponse('`NOT_FOUND`: not live, or no such file'),
      },
    } satisfies OperationObject,
  },
  '/admin/queues': {
    get: {
      tags: ['ops'],
      operationId: 'QueueDashboard_open',
      summary: 'The queue dashboard (bull-board)',
      description:
        'An HTML app of every BullMQ queue (relays, webhook deliveries, catalog sync, ' +
        'orders) with its jobs. HTTP Basic with `OPS_USER` / `OPS_PASSWORD`; off (404) ' +
        'until both are set. Everything it loads comes from this origin.',
      security: [{ ops: [] }],
      responses: {
        '200': {
          description: 'The dashboard',
          content: { 'text/html': { schema: { type: 'string' } } },
        },
        '401': {
          description: 'Basic credentials missing or wrong',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    } satisfies OperationObject,
  },
};

/** The OpenAPI document of the api role: served at /docs (UI) and /docs-json. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Castbridge API')
    .setDescription(INTRO)
    .setVersion('1')
    // addBearerAuth would label the tokens JWT: they are opaque strings.
    .addSecurity('admin', {
      type: 'http',
      scheme: 'bearer',
      description: 'ADMIN_TOKEN, for /v1/admin/*',
    })
    .addSecurity('partner', {
      type: 'http',
      scheme: 'bearer',
      description: 'A partner API key (`cbk_…`, from POST /v1/admin/partners); opaque, not a JWT',
    })
    .addSecurity('ops', {
      type: 'http',
      scheme: 'basic',
      description: 'OPS_USER / OPS_PASSWORD, for /admin/queues',
    });
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const doc = SwaggerModule.createDocument(app, builder.build(), { extraModels: [ErrorDto] });
  doc.paths = { ...doc.paths, ...HAND_DESCRIBED_PATHS };
  return doc;
}
