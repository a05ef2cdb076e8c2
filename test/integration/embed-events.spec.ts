import http from 'node:http';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { EmbedStateService } from '../../src/playback/embed-state.service';
import { connectionFds, PlaybackApp, startPlaybackApp } from '../support/playback';
import { waitFor } from '../support/processes';

jest.setTimeout(120_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const REQUESTS = 1000;
const CONCURRENCY = 25;

type Leave = 'after-sending' | 'after-first-event';

/** Kinds of the event loop's active handles and requests (timers as 'Timeout'), counted. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Viewers of the brand-site player that leave early: right after sending their request
 * (while the server still reads the state from Postgres) or right after the first state
 * event. Nothing of theirs may stay behind: no heartbeat timer, no listener, no poller,
 * no socket, no memory; the process stays up and serves the next viewer as before.
 */
describe('embed events: viewers leaving early', () => {
  let p: PlaybackApp;
  let states: EmbedStateService;
  beforeAll(async () => {
    p = await startPlaybackApp();
    states = p.t.app.get(EmbedStateService);
  });
  afterAll(() => p?.t.close());

  const path = () => `/embed/${p.destinationId}/events`;

  /**
   * Active timers and TCP sockets, less the database pool's: the pool grows and shrinks
   * with the load (a socket per connection, an idle timer per idle one), nothing else may.
   */
  function resources(): { timers: number; sockets: number; other: Record<string, number> } {
    const pool = (p.t.app.get<DataSource>(getDataSourceToken()).driver as PostgresDriver)
      .master as Pool;
    const { Timeout = 0, TCPSocketWrap = 0, ...other } = activeResources();
    return { timers: Timeout - pool.idleCount, sockets: TCPSocketWrap - pool.totalCount, other };
  }

  /** One viewer; resolves when its connection is closed (after-first-event: fails without one in 10 s). */
  function viewer(leave: Leave): Promise<void> {
    if (leave === 'after-sending') {
      return new Promise((resolve, reject) => {
        const socket = net.connect(p.port, '127.0.0.1', () => {
          socket.write(`GET ${path()} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`, () => socket.destroy());
        });
        socket.on('error', reject);
        socket.on('close', () => resolve());
      });
    }
    return new Promise((resolve, reject) => {
      let got = false;
      const req = http.get(
        { host: '127.0.0.1', port: p.port, path: path(), agent: false },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (!got && res.statusCode === 200 && text.includes('event: state\n')) {
              got = true;
              req.destroy();
            }
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy());
      req.on('error', () => undefined); // our own destroy()
      req.on('close', () => (got ? resolve() : reject(new Error('closed before a state event'))));
    });
  }

  async function viewers(n: number): Promise<void> {
    let next = 0;
    const leaves: Leave[] = ['after-sending', 'after-first-event'];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) await viewer(leaves[next++ % 2]!);
      }),
    );
  }

  const settled = () =>
    waitFor(
      async () => {
        const w = states.watchedCount();
        return w.destinations === 0 && w.listeners === 0;
      },
      { timeoutMs: 5000, what: 'no destination watched' },
    ).catch(() => {
      throw new Error(`still watched: ${JSON.stringify(states.watchedCount())}`);
    });

  it('1,000 viewers leaving early leave no timer, listener, poller, socket or memory behind', async () => {
    // Warm-up (database pool, lazily loaded code), then the baseline.
    await viewers(100);
    await settled();
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const before = resources();

    await viewers(REQUESTS);

    await settled();
    // Timers and sockets back to the baseline, no connection to the app left.
    await waitFor(
      async () => {
        const now = resources();
        // ≤: other timers of the app may run out meanwhile; a leak is one per viewer.
        return (
          connectionFds(p.port).length === 0 &&
          now.timers <= before.timers &&
          now.sockets <= before.sockets
        );
      },
      { timeoutMs: 5000, what: 'timers and sockets back to the baseline' },
    ).catch(() => {
      throw new Error(
        `active resources ${JSON.stringify(resources())}, before ${JSON.stringify(before)}, ` +
          `${connectionFds(p.port).length} connections to the app`,
      );
    });
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown).toBeLessThan(8 * 1024 * 1024);

    // Alive, and the next viewer is served as before.
    await p.t.http().get('/health/live').expect(200);
    await viewer('after-first-event');
    await settled();
    // Unknown players: 404 as before, nothing watched.
    await p.t.http().get(`/embed/00000000-0000-4000-8000-000000000000/events`).expect(404);
    await p.t.http().get(`/embed/not-a-uuid/events`).expect(404);
    expect(states.watchedCount()).toEqual({ destinations: 0, listeners: 0 });
  });

  it('watch(): a listener removed before its first state is never called; removing it twice touches no other viewer', async () => {
    const reads = jest.spyOn(states, 'state');
    const early: unknown[] = [];
    const stopEarly = states.watch(p.destinationId, (s) => early.push(s));
    stopEarly(); // the first poll is still reading Postgres
    expect(states.watchedCount()).toEqual({ destinations: 0, listeners: 0 });

    let stopLater = () => {};
    const first = new Promise((resolve) => {
      stopLater = states.watch(p.destinationId, resolve);
    });
    expect(await first).toMatchObject({ status: 'live' });
    stopEarly(); // again, while another viewer watches the same destination
    expect(states.watchedCount()).toEqual({ destinations: 1, listeners: 1 });

    await new Promise((r) => setTimeout(r, 1500)); // a poll or two
    expect(early).toEqual([]);
    stopLater();
    expect(states.watchedCount()).toEqual({ destinations: 0, listeners: 0 });
    // The poller has stopped: no more reads of the state.
    await new Promise((r) => setTimeout(r, 100)); // a read already under way ends
    const readsAtStop = reads.mock.calls.length;
    expect(readsAtStop).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 2500));
    expect(reads.mock.calls.length).toBe(readsAtStop);
    reads.mockRestore();
  });
});

/**
 * Event streams never end by themselves: on shutdown the app ends them, so that the HTTP
 * server can close (an open viewer held app.close() until the shutdown deadline).
 */
describe('embed events: shutdown with viewers watching', () => {
  it('ends every open event stream and closes', async () => {
    const p = await startPlaybackApp();
    const viewers = Array.from(
      { length: 3 },
      () =>
        new Promise<{ events: number; ended: boolean }>((resolve, reject) => {
          const req = http.get(
            { host: '127.0.0.1', port: p.port, path: `/embed/${p.destinationId}/events` },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () =>
                resolve({ events: text.split('event: state\n').length - 1, ended: true }),
              );
            },
          );
          req.on('error', reject);
        }),
    );
    await waitFor(async () => p.t.app.get(EmbedStateService).watchedCount().listeners === 3, {
      what: 'three viewers watching',
    });
    const closed = await Promise.race([
      p.t.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref()),
    ]);
    expect(closed).toBe('closed');
    // Each got its state, then a clean end (the player's EventSource reconnects).
    for (const v of await Promise.all(viewers)) expect(v).toEqual({ events: 1, ended: true });
  });
});
