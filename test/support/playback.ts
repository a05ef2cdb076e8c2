import { getDataSourceToken } from '@nestjs/typeorm';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { hlsDir } from '../../src/media/media-paths';
import { createPartner, startTestApp, TestApp } from './test-app';

/**
 * A brand-site destination whose relay is `live` in its channel's live session, made
 * directly in Postgres (no publisher, no worker): the playback routes serve it as live.
 */
export async function liveBrandSite(t: TestApp): Promise<{ destinationId: string; dir: string }> {
  const partner = await createPartner(t);
  const auth = { authorization: `Bearer ${partner.apiKey}` };
  const channel = await t.http().post('/v1/channels').set(auth).send({ name: 'Show' }).expect(201);
  const site = await t
    .http()
    .post(`/v1/channels/${channel.body.id}/destinations`)
    .set(auth)
    .send({ name: 'Site', kind: 'brand_site' })
    .expect(201);
  const db = t.app.get<DataSource>(getDataSourceToken());
  const [session] = (await db.query(
    `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name)
     VALUES ($1, $2, 'live', 'test', 'test') RETURNING id`,
    [partner.id, channel.body.id],
  )) as Array<{ id: string }>;
  await db.query(`UPDATE channels SET current_session_id = $1 WHERE id = $2`, [
    session!.id,
    channel.body.id,
  ]);
  await db.query(
    `INSERT INTO relays (partner_id, session_id, destination_id, state) VALUES ($1, $2, $3, 'live')`,
    [partner.id, session!.id, site.body.id],
  );
  const destinationId = site.body.id as string;
  return { destinationId, dir: hlsDir(t.config.mediaDir, destinationId) };
}

export interface PlaybackApp {
  t: TestApp;
  port: number;
  destinationId: string;
  /** The destination's HLS directory (not created). */
  dir: string;
}

/** The api role in-process with one live brand-site destination. */
export async function startPlaybackApp(): Promise<PlaybackApp> {
  const t = await startTestApp({ ROLES: 'api' });
  const port = (t.server.address() as AddressInfo).port;
  return { t, port, ...(await liveBrandSite(t)) };
}

/** What this process's file descriptors point at (sockets, pipes, files). */
export function openFds(): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      targets.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed between the listing and the readlink (the listing's own descriptor, too)
    }
  }
  return targets;
}

/**
 * This process's descriptors of TCP connections (not listeners) from or to `port`: with the
 * app and its clients in one process, both ends of every HTTP connection to the app.
 */
export function connectionFds(port: number): string[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const ports = [f[1], f[2]].map((a) => parseInt(a!.split(':')[1]!, 16));
      if (f[3] !== '0A' && ports.includes(port)) inodes.add(f[9]!);
    }
  }
  return openFds().filter((t) => inodes.has(/^socket:\[(\d+)\]$/.exec(t)?.[1] ?? ''));
}

export type Fetched =
  | { kind: 'response'; status: number; body: Buffer }
  | { kind: 'aborted-by-us' }
  | { kind: 'failed'; error: string };

/**
 * One GET on its own connection (no agent: nothing stays open afterwards).
 * `abortAfterFirstChunk` leaves as soon as the first bytes of the body arrive; a response
 * that makes no progress for `timeoutMs` fails.
 */
export function rawGet(
  port: number,
  path: string,
  { abortAfterFirstChunk = false, timeoutMs = 5000 } = {},
): Promise<Fetched> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (abortAfterFirstChunk) {
          req.destroy();
          resolve({ kind: 'aborted-by-us' });
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        resolve({ kind: 'response', status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
      );
      res.on('error', (e) => resolve({ kind: 'failed', error: e.message }));
      res.on('aborted', () => resolve({ kind: 'failed', error: 'response aborted' }));
    });
    req.on('error', (e) => resolve({ kind: 'failed', error: e.message }));
    // A response that stops short of its length would keep its connection forever.
    req.setTimeout(timeoutMs, () => {
      resolve({ kind: 'failed', error: `no progress for ${timeoutMs} ms` });
      req.destroy();
    });
  });
}
