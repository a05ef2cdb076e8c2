import { fork, ChildProcess } from 'node:child_process';
import type { Server, ServerResponse } from 'node:http';
import { loadConfig } from '../../config/env.schema';
import { createApp } from '../../src/bootstrap';
import { NODE_FLAGS } from '../../src/common/heap-tuning';
import { MAX_BODY_BYTES } from '../../src/common/http-limits';
import { serveAhead } from '../../src/common/serve-ahead';
import { readRawBody } from '../../src/stores/webhooks/raw-body';

/**
 * The real application in its own process (so the load generator does not share its
 * event loop), plus two bare endpoints, mounted only here: `/bench/bare-ahead`, served
 * ahead of Express like the webhook route with the same raw-body reading, and
 * `/bench/bare` through Express and Nest's middleware. Neither checks a signature or
 * touches Postgres or Redis.
 */
export interface BenchApp {
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function forkBenchApp(env: Record<string, string>): Promise<BenchApp> {
  const child = fork(__filename, ['--serve'], {
    env: { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
    // Compiled (npm run bench:…), it runs as plain Node, as `npm start` does; ts-node would
    // load node:domain, which slows every EventEmitter of the measured process.
    execArgv: [
      ...(__filename.endsWith('.ts') ? ['-r', 'ts-node/register'] : []),
      ...NODE_FLAGS,
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
  const accepted = (res: ServerResponse) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end('{"status":"accepted"}');
  };
  // Through Express and Nest's middleware, after the body parsers: read and parsed, nothing more.
  app.use('/bench/bare', (_req: unknown, res: ServerResponse) => accepted(res));
  // Served ahead of Express as the webhook route is, its raw body read the same way.
  serveAhead(
    app.getHttpServer() as Server,
    (req) => (req.url === '/bench/bare-ahead' ? true : null),
    (req, res) => void readRawBody(req, MAX_BODY_BYTES).then(() => accepted(res)),
  );
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
