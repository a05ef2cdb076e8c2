import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { assertUrlAllowed, guardedLookup } from '../common/egress-guard';
import { Destination } from '../destinations/destination.entity';
import { DestinationsService, PUSH_SCHEMES } from '../destinations/destinations.service';
import { Session } from '../ingest/session.entity';
import { MediaService } from '../media/media.service';
import { OutboxService } from '../notifications/outbox.service';
import { MetricsService } from '../ops/metrics.service';
import { retryDelayMs, shouldGiveUp } from './backoff';
import { buildRelayCommand, scrub, secretsOfUrl } from './ffmpeg-command';
import { FfmpegRunner } from './ffmpeg-runner';
import { Relay } from './relay.entity';
import {
  ffmpegTransport,
  pushTransport,
  RelayTransport,
  transcodeTransport,
} from './relay-transports';
import { RelayPulse, RelayWatch } from './relay-watch';
import { ACTIVE_STATES, RelayFence, RelayPatch, transitionRelay } from './relay-states';
import type { RelayState } from './relay.entity';

/** How often the runs of this process re-read their rows (live changes ≤ 3 s). */
const WATCH_MS = 1000;
/** Progress (bitrate, bytes) written to Postgres at most this often, for all runs at once. */
const PROGRESS_WRITE_MS = 2000;
/** Job progress (the dashboard) reported at most this often per relay. */
const JOB_PROGRESS_MS = 5000;
/** An attempt that writes nothing for this long has failed (sink stalled, no input). */
const NO_OUTPUT_MS = 15_000;

export function hlsDir(mediaDir: string, destinationId: string): string {
  return join(mediaDir, 'hls', destinationId);
}

interface Snapshot {
  relay: Relay;
  session: Session | null;
  destination: Destination | null;
}

type Outcome =
  | { kind: 'lost' } // another run (or the orchestrator) owns the relay now
  | { kind: 'stop' } // session ended, destination disabled/deleted
  | { kind: 'restart' } // destination edited: run it again with the new settings
  | { kind: 'failed'; error: string; wasLive: boolean }
  | { kind: 'aborted' }; // this worker is shutting down: hand the relay over

/**
 * Runs one relay (one destination of one live session) for as long as it should run:
 * the state machine of API.md (starting → live, retrying with backoff, errored after
 * 10 minutes without success, stopped), fenced so that only the run holding the relay's
 * current generation and run token may write it.
 */
@Injectable()
export class RelaySupervisor implements OnApplicationShutdown {
  private readonly log = new Logger(RelaySupervisor.name);
  private readonly runner: FfmpegRunner;
  private readonly watch: RelayWatch;
  /** Runs of this process by relay id. */
  private readonly runs = new Map<
    string,
    { generation: number; done: Promise<RelayState | 'lost'> }
  >();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
    private readonly destinations: DestinationsService,
    private readonly media: MediaService,
    private readonly metrics: MetricsService,
  ) {
    this.runner = new FfmpegRunner(config.ffmpegPath, config.ffmpegEnv);
    this.watch = new RelayWatch(db, WATCH_MS, PROGRESS_WRITE_MS);
  }

  onApplicationShutdown(): void {
    this.watch.close();
  }

  /**
   * Runs the relay, or — when this process already runs that generation of it — adopts
   * the running one. That happens when Redis lost or re-queued the job (a Redis restart,
   * an expired lock): the media keeps flowing and the new job simply follows the run.
   */
  async run(
    relayId: string,
    generation: number,
    signal: AbortSignal,
    report: (p: Record<string, unknown>) => Promise<void> = async () => undefined,
    jobLog: (line: string) => Promise<unknown> = async () => undefined,
  ): Promise<RelayState | 'lost'> {
    const here = this.runs.get(relayId);
    if (here && here.generation === generation) {
      this.log.log(`relay ${relayId} g${generation}: already running here; job adopts it`);
      return here.done;
    }
    const done = this.runOwned(relayId, generation, signal, report, jobLog);
    const entry = { generation, done };
    this.runs.set(relayId, entry);
    try {
      return await done;
    } finally {
      if (this.runs.get(relayId) === entry) this.runs.delete(relayId);
    }
  }

  private async runOwned(
    relayId: string,
    generation: number,
    signal: AbortSignal,
    report: (p: Record<string, unknown>) => Promise<void>,
    jobLog: (line: string) => Promise<unknown>,
  ): Promise<RelayState | 'lost'> {
    // The run token also names the worker process holding the relay (diagnostics, tests).
    const fence: RelayFence = {
      generation,
      runToken: `${hostname()}:${process.pid}:${randomUUID()}`,
    };
    const claimed = await this.claim(relayId, fence);
    if (!claimed) {
      this.log.debug(`relay ${relayId} g${generation}: not ours (stopped or taken over)`);
      return 'lost';
    }
    this.log.log(`relay ${relayId} g${generation}: running`);
    let bytesBase = claimed.bytesSent;

    for (;;) {
      const snap = await this.snapshot(relayId);
      if (!this.owns(snap.relay, fence)) return 'lost';
      if (!this.shouldRun(snap)) return this.finish(relayId, fence, 'stopped');
      const relay = snap.relay;

      if (relay.state === 'retrying' && relay.nextRetryAt) {
        const waited = await this.waitUntil(relay.nextRetryAt, relayId, fence, snap, signal);
        if (waited === 'lost' || waited === 'aborted')
          return waited === 'lost' ? 'lost' : relay.state;
        if (waited === 'stop') return this.finish(relayId, fence, 'stopped');
      }

      const attempt = await this.attempt(snap, fence, signal, bytesBase, report);
      bytesBase = attempt.bytesSent;
      const outcome = attempt.outcome;
      const ended = `attempt ended (${outcome.kind}${outcome.kind === 'failed' ? `: ${outcome.error}` : ''})`;
      this.log.log(`relay ${relayId}: ${ended}`);
      // The error texts are scrubbed of the push URL already (ffmpeg-command.ts scrub).
      await jobLog(`${new Date().toISOString()} ${ended}`).catch(() => undefined);
      if (outcome.kind === 'lost') return 'lost';
      if (outcome.kind === 'aborted') return 'live';
      if (outcome.kind === 'stop') return this.finish(relayId, fence, 'stopped');
      if (outcome.kind === 'restart') continue;

      // failed: back off, or give up after 10 minutes without success
      const now = new Date();
      const current = await this.db.getRepository(Relay).findOneBy({ id: relayId });
      if (!current || !this.owns(current, fence)) return 'lost';
      const failingSince = outcome.wasLive || !current.failingSince ? now : current.failingSince;
      const attempts = outcome.wasLive ? 1 : current.attempts + 1;
      if (shouldGiveUp(failingSince, now)) {
        return this.finish(relayId, fence, 'errored', {
          attempts,
          lastError: outcome.error,
          nextRetryAt: null,
        });
      }
      const next = new Date(now.getTime() + retryDelayMs(attempts));
      this.metrics.ffmpegRestarted();
      const moved = await this.write(relayId, fence, 'retrying', {
        attempts,
        lastError: outcome.error,
        nextRetryAt: next,
        failingSince,
        bitrateKbps: null,
      });
      if (!moved) return 'lost';
    }
  }

  /**
   * Takes the relay for this run: its run token in the row fences every later write.
   * Returns the bytes the relay had sent before (its counter carries on), or null.
   */
  private async claim(relayId: string, fence: RelayFence): Promise<{ bytesSent: number } | null> {
    const rows = (await this.db.query(
      `UPDATE relays SET worker_id = $3, updated_at = now()
        WHERE id = $1 AND generation = $2 AND state = ANY($4::text[])
        RETURNING bytes_sent`,
      [relayId, fence.generation, fence.runToken, ACTIVE_STATES],
    )) as [Array<{ bytes_sent: string }>, number];
    const row = rows[0]?.[0];
    return row ? { bytesSent: Number(row.bytes_sent) || 0 } : null;
  }

  /** This run still holds the relay (same generation and run token) and it is active. */
  private owns<T extends Pick<Relay, 'generation' | 'workerId' | 'state'>>(
    rows: T | null,
    fence: RelayFence,
  ): rows is T {
    return (
      !!rows &&
      rows.generation === fence.generation &&
      rows.workerId === fence.runToken &&
      ACTIVE_STATES.includes(rows.state)
    );
  }

  private shouldRun(s: Snapshot): boolean {
    return !!s.session && s.session.status === 'live' && !!s.destination && s.destination.enabled;
  }

  private async snapshot(relayId: string): Promise<Snapshot> {
    const relay = await this.db.getRepository(Relay).findOneBy({ id: relayId });
    if (!relay) return { relay: null as unknown as Relay, session: null, destination: null };
    const [session, destination] = await Promise.all([
      this.db.getRepository(Session).findOneBy({ id: relay.sessionId }),
      this.db.getRepository(Destination).findOneBy({ id: relay.destinationId }),
    ]);
    return { relay, session, destination };
  }

  private write(
    relayId: string,
    fence: RelayFence,
    to: RelayState,
    patch: RelayPatch,
  ): Promise<Relay | null> {
    return this.db.transaction((m) => transitionRelay(m, this.outbox, relayId, to, patch, fence));
  }

  private async finish(
    relayId: string,
    fence: RelayFence,
    to: 'stopped' | 'errored',
    patch: RelayPatch = {},
  ): Promise<RelayState | 'lost'> {
    const done = await this.write(relayId, fence, to, { ...patch, bitrateKbps: null });
    const relay = await this.db.getRepository(Relay).findOneBy({ id: relayId });
    if (relay)
      await rm(hlsDir(this.config.mediaDir, relay.destinationId), { recursive: true, force: true });
    return done ? to : 'lost';
  }

  /** Sleeps until `at`, watching for changes; a destination edit retries at once. */
  private async waitUntil(
    at: Date,
    relayId: string,
    fence: RelayFence,
    snap: Snapshot,
    signal: AbortSignal,
  ): Promise<'ready' | 'lost' | 'stop' | 'aborted'> {
    const version = snap.destination?.configVersion;
    while (Date.now() < at.getTime()) {
      if (signal.aborted) return 'aborted';
      const p = await this.pulse(relayId, signal);
      if (p === 'aborted') return 'aborted';
      if (p === 'unavailable') continue;
      if (!this.owns(p, fence)) return 'lost';
      if (!this.shouldRunPulse(p)) return 'stop';
      if (p.configVersion !== version) return 'ready';
    }
    return 'ready';
  }

  /** The relay's rows at the next shared poll, or 'aborted' when the signal fires first. */
  private pulse(
    relayId: string,
    signal: AbortSignal,
  ): Promise<RelayPulse | null | 'unavailable' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      void this.watch.next(relayId).then((p) => {
        signal.removeEventListener('abort', onAbort);
        resolve(p);
      });
    });
  }

  private shouldRunPulse(p: RelayPulse): boolean {
    return p.sessionLive && p.destinationEnabled === true;
  }

  /**
   * How this destination is carried: RTMP/RTMPS always from this process's push client
   * (passthrough as it is, transcodes from ffmpeg's FLV output), the brand-site HLS
   * rendition by ffmpeg into MEDIA_DIR.
   */
  private async transport(d: Destination, session: Session): Promise<RelayTransport> {
    const stream = { streamName: session.streamName, ingestNode: session.ingestNode };
    if (d.kind === 'brand_site') {
      const dir = hlsDir(this.config.mediaDir, d.id);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const command = buildRelayCommand({
        output: { kind: 'hls', dir, segmentSeconds: 1, listSize: 6 },
        profile: d.profile,
      });
      return ffmpegTransport(this.runner, this.media, stream, command);
    }
    const url = this.destinations.revealPushUrl(d);
    const policy = { allowPrivateNetworks: this.config.egressAllowPrivateNetworks };
    // Checked again right before connecting: DNS may have changed since the write.
    try {
      await assertUrlAllowed('url', d.url ?? '', PUSH_SCHEMES, policy);
    } catch (err) {
      throw new Error(scrub((err as Error).message, secretsOfUrl(url)));
    }
    const lookup = guardedLookup(policy);
    if (!d.profile) return pushTransport(this.media, stream, url, lookup);
    const command = buildRelayCommand({ output: { kind: 'flv-stdout' }, profile: d.profile });
    return transcodeTransport(this.runner, this.media, stream, command, url, lookup);
  }

  /** One attempt: start the transport, watch it and the relay's rows until it ends. */
  private async attempt(
    snap: Snapshot,
    fence: RelayFence,
    signal: AbortSignal,
    bytesBase: number,
    report: (p: Record<string, unknown>) => Promise<void>,
  ): Promise<{ outcome: Outcome; bytesSent: number }> {
    const relay = snap.relay;
    const session = snap.session as Session;
    const destination = snap.destination as Destination;
    let transport: RelayTransport;
    try {
      transport = await this.transport(destination, session);
    } catch (err) {
      const secrets = destination.url
        ? secretsOfUrl(this.destinations.revealPushUrl(destination))
        : [];
      return {
        outcome: { kind: 'failed', error: scrub((err as Error).message, secrets), wasLive: false },
        bytesSent: bytesBase,
      };
    }

    let wasLive = false;
    let bytes = bytesBase;
    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    let lastOutputAt = Date.now();
    let mark = 0;
    transport.onProgress((p) => {
      const now = Date.now();
      if (p.mark > mark) lastOutputAt = now;
      mark = Math.max(mark, p.mark);
      bytes = bytesBase + p.bytes;
      if (!wasLive && p.mark > 0) {
        wasLive = true;
        lastWrite = now;
        writing = writing.then(() =>
          this.write(relay.id, fence, 'live', {
            attempts: 0,
            lastError: null,
            nextRetryAt: null,
            failingSince: null,
            bitrateKbps: p.bitrateKbps,
            bytesSent: String(bytes),
          }).catch((err: Error) =>
            this.log.warn(`relay ${relay.id}: live not recorded: ${err.message}`),
          ),
        );
      } else if (wasLive) {
        this.watch.reportProgress(relay.id, fence.generation, fence.runToken, p.bitrateKbps, bytes);
        if (now - lastWrite >= JOB_PROGRESS_MS) {
          lastWrite = now;
          void report({
            destinationId: relay.destinationId,
            via: transport.kind,
            state: 'live',
            bitrateKbps: p.bitrateKbps,
            bytesSent: bytes,
          }).catch(() => undefined);
        }
      }
    });

    const version = destination.configVersion;
    const state: { outcome: Outcome | null; exited: boolean } = { outcome: null, exited: false };
    const watch = (async () => {
      while (!state.outcome && !state.exited) {
        const p = await this.pulse(relay.id, signal);
        if (state.outcome || state.exited) return;
        if (p === 'aborted') {
          state.outcome = { kind: 'aborted' };
          break;
        }
        if (Date.now() - lastOutputAt > NO_OUTPUT_MS) {
          state.outcome = { kind: 'failed', error: 'no output for 15 s', wasLive };
          break;
        }
        if (p === 'unavailable') continue; // Postgres away: keep streaming, look again later
        if (!this.owns(p, fence)) state.outcome = { kind: 'lost' };
        else if (!this.shouldRunPulse(p)) state.outcome = { kind: 'stop' };
        else if (p.configVersion !== version) state.outcome = { kind: 'restart' };
      }
      await transport.stop();
    })();

    const error = await transport.exited;
    state.exited = true;
    const outcome: Outcome = state.outcome ?? {
      kind: 'failed',
      error: error ?? 'stopped',
      wasLive,
    };
    await watch.catch(() => undefined);
    await writing;
    return { outcome, bytesSent: bytes };
  }
}
