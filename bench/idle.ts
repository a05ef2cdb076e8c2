/**
 * Idle cost: the service (all roles in one process) with nothing live, for 30 s: CPU of
 * each of its threads, event-loop wake-ups, and the queries it sends Postgres meanwhile.
 *
 *   npm run bench:idle -- [SECONDS]      (default 30)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { newPartnerClient, waitReady } from '../test/support/partner-client';
import { spawnCastbridge } from '../test/support/processes';
import { dropDatabase, flushQueuePrefix, PG_BASE, testEnv } from '../test/support/test-env';
import { CLK_TCK } from './support/proc';

const SECONDS = Number(process.argv[2] ?? 30);

function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(t, Number(f[11]) + Number(f[12]));
    } catch {
      // gone
    }
  }
  return out;
}

function wakeups(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const env = testEnv({ LOG_LEVEL: 'warn' });
  const app = await spawnCastbridge(env);
  const pg = new Client({ connectionString: `${PG_BASE}/postgres` });
  try {
    await waitReady(app.baseUrl);
    const partner = await newPartnerClient(app.baseUrl, 'Idle');
    for (let i = 0; i < 10; i++) {
      const ch = await partner.ok('POST', '/v1/channels', { name: `c${i}` });
      await partner.ok('POST', `/v1/channels/${String(ch.id)}/destinations`, {
        name: 'd',
        kind: 'social_platform',
        url: 'rtmp://127.0.0.1:1/live',
        streamKey: 'k',
      });
    }
    await new Promise((r) => setTimeout(r, 5000));
    await pg.connect();
    const db = new URL(env.DATABASE_URL).pathname.slice(1);
    const xacts = async () =>
      Number(
        (
          await pg.query(
            'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
            [db],
          )
        ).rows[0].n,
      );
    const pid = app.child.pid!;
    const t0 = threads(pid);
    const w0 = wakeups(pid);
    const x0 = await xacts();
    const started = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const secs = (Date.now() - started) / 1000;
    const t1 = threads(pid);
    const w1 = wakeups(pid);
    const x1 = await xacts();
    let total = 0;
    const perThread: string[] = [];
    for (const [tid, ticks] of t1) {
      const d = ticks - (t0.get(tid) ?? ticks);
      total += d;
      if (d > 0)
        perThread.push(
          `${tid === String(pid) ? 'main' : tid} ${((d / CLK_TCK / secs) * 100).toFixed(2)} %`,
        );
    }
    console.log(
      `Idle for ${secs.toFixed(0)} s (10 channels with a destination each, nothing live):`,
    );
    console.log(
      `  CPU ${((total / CLK_TCK / secs) * 100).toFixed(2)} % of a core (${perThread.join(', ')})`,
    );
    console.log(`  main thread wake-ups ${((w1 - w0) / secs).toFixed(0)}/s`);
    console.log(`  Postgres transactions ${((x1 - x0) / secs).toFixed(1)}/s (this database)`);
  } finally {
    await pg.end().catch(() => undefined);
    await app.stop('SIGTERM');
    await dropDatabase(env.DATABASE_URL);
    await flushQueuePrefix(env.QUEUE_PREFIX);
  }
}

main()
  .then(() => process.exit(0))
  .catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  });
