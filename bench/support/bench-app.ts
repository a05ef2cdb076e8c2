import { fork, ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { loadConfig } from '../../config/env.schema';
import { createApp } from '../../src/bootstrap';
import { newPartnerClient } from '../../test/support/partner-client';

/**
 * The real application in its own process (so the load generator does not share its
 * event loop), plus a bare endpoint: same HTTP server, same raw-body reading, no
 * signature check, no Postgres, no Redis. `/bench/bare` is mounted only here.
 */
export interface BenchApp {
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function forkBenchApp(env: Record<string, string>): Promise<BenchApp> {
  const child = fork(__filename, ['--serve'], {
    env: { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
    execArgv: [
      '-r',
      'ts-node/register',
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench app exited (${code})`)));
  });
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  // Mounted after the body parsers: the body is read and parsed, nothing more.
  app.use('/bench/bare', (_req: unknown, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end('{"status":"accepted"}');
  });
  await app.listen(config.port, '127.0.0.1');
  process.send?.('ready');
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

if (require.main === module && process.argv.includes('--serve')) {
  serve().catch((err) => {
    process.stderr.write(`bench app failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}

export interface PendingInstall {
  apiKey: string;
  connectionId: string;
  /** Our OAuth callback, as the store's consent redirected to it: fetch it to finish. */
  callback: string;
}

/** A partner, a brand and a store connection whose consent is given; the callback is left. */
export async function startStoreInstall(base: string, shop: string): Promise<PendingInstall> {
  const partner = await newPartnerClient(base, 'bench');
  const brand = await partner.json('POST', '/v1/brands', { name: 'bench' });
  const conn = await partner.json('POST', `/v1/brands/${String(brand.id)}/store-connections`, {
    provider: 'shopify',
    shop,
    returnUrl: `${base}/done`,
  });
  const consent = await fetch(String(conn.authorizeUrl), { redirect: 'manual' });
  return {
    apiKey: partner.apiKey,
    connectionId: String(conn.id),
    callback: consent.headers.get('location')!,
  };
}
