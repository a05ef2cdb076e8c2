import { waitFor } from './processes';
import { TEST_ADMIN_TOKEN } from './test-env';

export type Json = Record<string, unknown>;

export interface PartnerClient {
  apiKey: string;
  /** A partner API call over real HTTP: status and parsed body ({} when empty). */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** The same, body only. */
  json(method: string, path: string, body?: unknown): Promise<Json>;
  /** The body of a 2xx answer; anything else throws (benchmarks, set-up steps). */
  ok(method: string, path: string, body?: unknown): Promise<Json>;
}

/** Waits until a Castbridge process answers 200 on /health/ready. */
export function waitReady(baseUrl: string, what = 'ready'): Promise<boolean> {
  return waitFor(async () => (await fetch(`${baseUrl}/health/ready`)).status === 200, { what });
}

/** Creates a partner through the admin API of a running process; calls the API as it. */
export async function newPartnerClient(baseUrl: string, name: string): Promise<PartnerClient> {
  const res = await fetch(`${baseUrl}/v1/admin/partners`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const apiKey = String(((await res.json()) as Json).apiKey);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    if (r.status >= 300)
      throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { apiKey, call, json: async (m, p, b) => (await call(m, p, b)).body, ok };
}
