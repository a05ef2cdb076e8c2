import SwaggerParser from '@apidevtools/swagger-parser';
import { API_CONTRACT_OPERATIONS } from '../support/api-contract';
import { getDataSourceToken } from '@nestjs/typeorm';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import type { DataSource } from 'typeorm';
import { HAND_DESCRIBED_PATHS } from '../../src/common/openapi';
import { ROOT } from '../support/processes';
import { createPartner, startTestApp, TestApp } from '../support/test-app';

type Json = Record<string, unknown>;
interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json }> }>;
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function operations(doc: Json): Array<{ path: string; method: string; op: Operation }> {
  const out: Array<{ path: string; method: string; op: Operation }> = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (op) out.push({ path, method, op });
    }
  }
  return out;
}

/**
 * The OpenAPI document as a product: a standard validator accepts it; every operation has
 * a summary, a description and a schema for each response with a body (errors with the one
 * error body); the security schemes are what the routes take (API keys are not JWTs);
 * the routes served outside Nest are described and answer where described; every path of
 * API.md is there; and a TypeScript client typed from /docs-json by openapi-typescript
 * type-checks and runs against the app (a wrong field does not type-check).
 */
describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Json;

  beforeAll(async () => {
    t = await startTestApp({ ROLES: 'api', OPS_USER: 'ops', OPS_PASSWORD: 'ops-password-1234' });
    doc = (await t.http().get('/docs-json').expect(200)).body as Json;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is valid OpenAPI according to a standard validator', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('gives every operation a summary, a description and a schema for each body it answers', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(45);
    const problems: string[] = [];
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.summary?.trim()) problems.push(`${where}: no summary`);
      if (!op.description?.trim()) problems.push(`${where}: no description`);
      const responses = Object.entries(op.responses ?? {});
      const success = responses.filter(([s]) => /^[23]/.test(s));
      if (success.length === 0) problems.push(`${where}: no success response`);
      let schemas = 0;
      for (const [status, r] of responses) {
        if (!r.description?.trim()) problems.push(`${where} ${status}: no description`);
        const bodyless = status === '204' || status === '302' || (status === '202' && !r.content);
        if (bodyless) continue;
        const content = Object.entries(r.content ?? {});
        if (content.length === 0) problems.push(`${where} ${status}: no content`);
        for (const [type, media] of content) {
          if (!media.schema || Object.keys(media.schema).length === 0) {
            problems.push(`${where} ${status} ${type}: no schema`);
          } else schemas++;
          // Errors answer the one error body; the readiness probe's 503 is its own report.
          const ownBody = where === 'GET /health/ready' && status === '503';
          if (/^[45]/.test(status) && type === 'application/json' && !ownBody) {
            if (media.schema?.$ref !== '#/components/schemas/ErrorDto') {
              problems.push(`${where} ${status}: not the error body`);
            }
          }
        }
      }
      if (schemas === 0) problems.push(`${where}: no response schema at all`);
    }
    expect(problems).toEqual([]);
  });

  it('documents the error body with its codes', () => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const error = schemas.ErrorDto as { required: string[]; properties: Record<string, Json> };
    expect(error.required.sort()).toEqual(
      ['details', 'error', 'message', 'requestId', 'statusCode'].sort(),
    );
    const codes = (schemas.ErrorCode as { enum?: string[] } | undefined)?.enum ?? [];
    expect(codes).toEqual(
      expect.arrayContaining(['VALIDATION_FAILED', 'NOT_FOUND', 'LIMIT_REACHED', 'RATE_LIMITED']),
    );
  });

  it('has the security schemes the routes take: bearer tokens that are not JWTs, Basic for ops', () => {
    const schemes = (doc.components as Json).securitySchemes as Record<string, Json>;
    expect(schemes.partner).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.ops).toMatchObject({ type: 'http', scheme: 'basic' });
    for (const s of Object.values(schemes)) expect(s.bearerFormat).toBeUndefined();
    for (const { path, method, op } of operations(doc)) {
      const named = (op.security ?? []).flatMap((s) => Object.keys(s));
      const want = path.startsWith('/v1/admin/')
        ? ['admin']
        : path.startsWith('/v1/')
          ? ['partner']
          : path === '/admin/queues'
            ? ['ops']
            : [];
      expect({ route: `${method} ${path}`, security: named }).toEqual({
        route: `${method} ${path}`,
        security: want,
      });
    }
  });

  it('describes the routes that are not JSON, and they answer where described', async () => {
    const paths = doc.paths as Record<string, Json>;
    for (const p of [
      '/embed/{destinationId}',
      '/embed/{destinationId}/events',
      '/hls/{destinationId}/{file}',
      '/webhooks/{provider}',
      '/oauth/{provider}/callback',
      '/admin/queues',
      '/metrics',
    ]) {
      expect(Object.keys(paths)).toContain(p);
    }
    const page = (paths['/embed/{destinationId}'] as { get: Operation }).get;
    expect(Object.keys(page.responses!['200']!.content!)).toEqual(['text/html']);
    // The hand-described ones are real routes: these answers are theirs, not Express's 404.
    const unsigned = await t.http().post('/webhooks/shopify').send({ id: 1 });
    expect(unsigned.status).toBe(401);
    const notLive = await t.http().get('/hls/00000000-0000-4000-8000-000000000000/index.m3u8');
    expect(notLive.status).toBe(404);
    expect(notLive.body.message).toBe('rendition not found');
    expect((await t.http().get('/admin/queues')).status).toBe(401);
    expect(Object.keys(HAND_DESCRIBED_PATHS).sort()).toEqual(
      ['/admin/queues', '/hls/{destinationId}/{file}', '/webhooks/{provider}'].sort(),
    );
  });

  it('has every path of API.md', () => {
    // The contract's operations, as copied into the repository (test/support/api-contract.ts);
    // when API.md itself is beside the repository, the copy must be up to date.
    const apiMd = resolve(ROOT, '..', 'shared', 'spec', 'API.md');
    if (existsSync(apiMd)) {
      const inSpec = new Set<string>();
      for (const m of readFileSync(apiMd, 'utf8').matchAll(
        /`((?:GET|POST|PATCH|PUT|DELETE) \/[^`?\s]*)/g,
      )) {
        inSpec.add(m[1]!);
      }
      expect([...inSpec].sort()).toEqual([...API_CONTRACT_OPERATIONS].sort());
    }
    const mentioned = new Set<string>();
    for (const op of API_CONTRACT_OPERATIONS) {
      // API.md names path parameters `:id`; the document names them as its routes do.
      const path = op.slice(op.indexOf(' ') + 1);
      mentioned.add(path.replace(/:[A-Za-z]+/g, '{}').replace(/<[a-z]+>/g, '{}'));
    }
    // A documented template matches a path of API.md with a parameter or a value there
    // (`/webhooks/{provider}` is API.md's `/webhooks/shopify`).
    const templates = Object.keys(doc.paths as Json).map(
      (p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '(?:\\{\\}|[^/]+)')}$`),
    );
    const documented = { has: (p: string) => templates.some((re) => re.test(p)) };
    const missing = [...mentioned].filter((p) => !documented.has(p));
    expect(missing).toEqual([]);
  });

  it('types a client with openapi-typescript: it type-checks, runs, and a wrong field does not type-check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-openapi-'));
    const base = `http://127.0.0.1:${(t.server.address() as { port: number }).port}`;
    try {
      // The generator's own command line, reading the served document (as a partner would).
      await promisify(execFile)(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
          `${base}/docs-json`,
          '--output',
          join(dir, 'castbridge-api.ts'),
        ],
        { timeout: 60_000 },
      );
      expect(readFileSync(join(dir, 'castbridge-api.ts'), 'utf8')).toMatch(
        /export interface paths/,
      );
      writeFileSync(join(dir, 'client.ts'), CLIENT);
      writeFileSync(
        join(dir, 'wrong.ts'),
        `import type { Session } from './client';\n` +
          `export const n: number = ({} as Session).destinations[0]!.bytesSnt;\n` +
          `export const k: 'youtube' = ({} as import('./client').Destination).kind;\n`,
      );
      const check = (file: string) => {
        const program = ts.createProgram([join(dir, file)], {
          strict: true,
          noEmit: true,
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.CommonJS,
          lib: ['lib.es2022.d.ts'],
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          skipLibCheck: true,
        });
        return ts
          .getPreEmitDiagnostics(program)
          .map(
            (d) =>
              `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
          );
      };
      expect(check('client.ts')).toEqual([]);
      const wrong = check('wrong.ts');
      expect(wrong.join('\n')).toMatch(/bytesSnt/);
      expect(wrong.join('\n')).toMatch(/"youtube"/);

      // And it runs: the same client, transpiled, against the app.
      const js = ts.transpileModule(CLIENT.replace(/^import type .*$/m, ''), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, 'client.js'), js);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const client = require(join(dir, 'client.js')) as ClientModule;
      const partner = await createPartner(t);
      const { channel, destination } = await client.setUp(base, partner.apiKey);
      expect(channel.ingest.streamKey).toMatch(/.{16,}/);
      expect(destination.playback?.embedUrl).toContain(`/embed/${destination.id}`);
      // A live session with that destination's relay (no publisher here: made in Postgres).
      const db = t.app.get<DataSource>(getDataSourceToken());
      const [session] = (await db.query(
        `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name)
         VALUES ($1, $2, 'live', 'test', 'test') RETURNING id`,
        [partner.id, channel.id],
      )) as Array<{ id: string }>;
      await db.query(
        `INSERT INTO relays (partner_id, session_id, destination_id, state, bytes_sent)
         VALUES ($1, $2, $3, 'live', 4096)`,
        [partner.id, session!.id, destination.id],
      );
      const relays = await client.relaysOf(base, partner.apiKey, session!.id);
      expect(relays).toEqual([
        { destinationId: destination.id, state: 'live', bytesSent: 4096, bitrateKbps: null },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface ClientModule {
  setUp(
    base: string,
    apiKey: string,
  ): Promise<{
    channel: { id: string; ingest: { streamKey?: string } };
    destination: { id: string; playback?: { embedUrl: string } };
  }>;
  relaysOf(base: string, apiKey: string, sessionId: string): Promise<unknown[]>;
}

/** A partner's small client, typed only by the generated `paths`. */
const CLIENT = `import type { paths } from './castbridge-api';

type Body<P extends keyof paths, M extends 'post' | 'patch'> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
export type Channel = paths['/v1/channels']['post']['responses']['201']['content']['application/json'];
export type Destination =
  paths['/v1/channels/{channelId}/destinations']['post']['responses']['201']['content']['application/json'];
export type Session = paths['/v1/sessions/{id}']['get']['responses']['200']['content']['application/json'];
export type Relay = Session['destinations'][number];

async function call<T>(base: string, apiKey: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: 'Bearer ' + apiKey, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + (await res.text()));
  return (await res.json()) as T;
}

export async function setUp(base: string, apiKey: string): Promise<{ channel: Channel; destination: Destination }> {
  const newChannel: Body<'/v1/channels', 'post'> = { name: 'Morning show' };
  const channel = await call<Channel>(base, apiKey, 'POST', '/v1/channels', newChannel);
  const obsServer: string = channel.ingest.url;
  const obsKey: string | undefined = channel.ingest.streamKey;
  const live: boolean = channel.status === 'live' && channel.currentSessionId !== null;
  void obsServer; void obsKey; void live;
  const site: Body<'/v1/channels/{channelId}/destinations', 'post'> = { name: 'Brand site', kind: 'brand_site' };
  const destination = await call<Destination>(base, apiKey, 'POST', '/v1/channels/' + channel.id + '/destinations', site);
  const embed: string | undefined = destination.playback?.embedUrl;
  void embed;
  return { channel, destination };
}

export async function relaysOf(base: string, apiKey: string, sessionId: string) {
  const session = await call<Session>(base, apiKey, 'GET', '/v1/sessions/' + sessionId);
  return session.destinations.map((r: Relay) => {
    const state: 'starting' | 'live' | 'retrying' | 'errored' | 'stopped' = r.state;
    const bytesSent: number = r.bytesSent;
    const bitrateKbps: number | null = r.bitrateKbps ?? null;
    return { destinationId: r.destinationId, state, bytesSent, bitrateKbps };
  });
}
`;
