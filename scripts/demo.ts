/**
 * `npm run demo`: a local trial in one command. Starts Castbridge (built, as `npm start`)
 * with the settings a trial on one machine needs, then over its API creates a partner, a
 * channel, a brand-site destination and a local sink (a second channel of this same
 * Castbridge, fed by an RTMP destination of the first: the relay goes out over RTMP and
 * comes back), and prints the OBS settings, an ffmpeg test command and the player's URL.
 * Ctrl-C stops it. Needs Postgres and Redis as in the README's quick start.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { NODE_FLAGS } from '../src/common/heap-tuning';

// eslint-disable-next-line no-restricted-syntax
const given = process.env;
const PORT = Number(given.PORT ?? 3000);
const RTMP_PORT = Number(given.RTMP_PORT ?? 1935);
const BASE = `http://localhost:${PORT}`;
const ADMIN_TOKEN = 'demo-admin-token-not-for-production';

const env = {
  // A launcher: the child gets this environment and reads it through its AppConfig.
  ...given,
  PORT: String(PORT),
  RTMP_PORT: String(RTMP_PORT),
  PUBLIC_BASE_URL: given.PUBLIC_BASE_URL ?? BASE,
  ADMIN_TOKEN,
  // The local sink is on 127.0.0.1: allowed for this trial only.
  EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
  OPS_USER: 'ops',
  OPS_PASSWORD: 'demo-ops-password',
  LOG_LEVEL: given.LOG_LEVEL ?? 'info',
};

async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${BASE}/health/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('Castbridge did not become ready in 2 minutes (see its log above)');
}

interface Channel {
  id: string;
  ingest: { url: string; streamKey: string };
}

async function main(): Promise<void> {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, resolve(__dirname, '..', 'src', 'main.js')],
    {
      env,
      stdio: 'inherit',
    },
  );
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => process.exit(code ?? 0));
  await waitReady();

  const partner = await api<{ id: string; apiKey: string }>(
    'POST',
    '/v1/admin/partners',
    ADMIN_TOKEN,
    { name: 'Demo partner' },
  );
  const key = partner.apiKey;
  const sink = await api<Channel>('POST', '/v1/channels', key, { name: 'Local sink' });
  const show = await api<Channel>('POST', '/v1/channels', key, { name: 'Demo show' });
  const site = await api<{ id: string; playback: { embedUrl: string } }>(
    'POST',
    `/v1/channels/${show.id}/destinations`,
    key,
    { name: 'Brand site', kind: 'brand_site' },
  );
  await api('POST', `/v1/channels/${show.id}/destinations`, key, {
    name: 'Local sink',
    kind: 'social_platform',
    url: sink.ingest.url.replace('localhost', '127.0.0.1'),
    streamKey: sink.ingest.streamKey,
  });

  const say = (s = '') => process.stdout.write(`${s}\n`);
  say();
  say('Castbridge demo is running (Ctrl-C stops it).');
  say();
  say(`  API key of "Demo partner":  ${key}`);
  say(`  export API_KEY=${key}`);
  say();
  say('  OBS → Settings → Stream: Service "Custom…"');
  say(`    Server:     ${show.ingest.url}`);
  say(`    Stream Key: ${show.ingest.streamKey}`);
  say();
  say('  or a test pattern with ffmpeg:');
  say(
    `    ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 ` +
      `-c:v libx264 -preset veryfast -tune zerolatency -g 60 -b:v 2500k -c:a aac -b:a 128k ` +
      `-f flv ${show.ingest.url}/${show.ingest.streamKey}`,
  );
  say();
  say(`  Watch (the shoppable player): ${site.playback.embedUrl}`);
  say(`  Relays:  curl -s ${BASE}/v1/channels/${show.id} -H "authorization: Bearer $API_KEY"`);
  say('           then GET /v1/sessions/<currentSessionId> → destinations[]');
  say(`  Local sink goes live too:  GET /v1/channels/${sink.id} → status "live"`);
  say(`  API docs: ${BASE}/docs   Queues: ${BASE}/admin/queues (ops / demo-ops-password)`);
  say();
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exit(1);
});
