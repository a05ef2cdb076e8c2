import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MetricsService } from '../ops/metrics.service';
import { retryDelayMs, shouldGiveUp } from './backoff';
import { CLOCK, Clock } from './clock';
import { scrub } from './ffmpeg-command';
import { Relay } from './relay.entity';
import type { RelayState } from './relay.entity';
import { runAttempt } from './relay-attempt';
import { RelayPreflight } from './relay-preflight';
import { ACTIVE_STATES, RelayFence, RelayPatch } from './relay-states';
import { RelaySnapshot, RelayStore } from './relay-store';
import { RELAY_PULSES, RELAY_TRANSPORTS } from './relay-tokens';
import type { RelayTransportFactory } from './relay-transport-factory';
import type { RelayPulse, RelayPulses } from './relay-watch';

/** What a relay job reports to its BullMQ job (progress for the dashboard, log lines). */
export interface JobHooks {
  report(p: Record<string, unknown>): Promise<void>;
  log(line: string): Promise<unknown>;
}

const NO_HOOKS: JobHooks = { report: async () => undefined, log: async () => undefined };

/**
 * Runs one relay (one destination of one live session) for as long as it should run:
 * the state machine of API.md (starting → live, retrying with backoff, errored after
 * 10 minutes without success, stopped), fenced so that only the run holding the relay's
 * current generation and run token may write it. Its collaborators are injected: the
 * rows (RelayStore), the transports (RelayTransports), the shared poll of the rows
 * (RelayWatch), the clock; one attempt is relay-attempt.ts.
 */
@Injectable()
export class RelaySupervisor {
  private readonly log = new Logger(RelaySupervisor.name);
  /** Runs of this process by relay id. */
  private readonly runs = new Map<
    string,
    { generation: number; done: Promise<RelayState | 'lost'> }
  >();

  constructor(
    private readonly store: RelayStore,
    @Inject(RELAY_TRANSPORTS) private readonly transports: RelayTransportFactory,
    @Inject(RELAY_PULSES) private readonly pulses: RelayPulses,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Runs the relay, or — when this process already runs that generation of it — adopts
   * the running one. That happens when Redis lost or re-queued the job (a Redis restart,
   * an expired lock): the media keeps flowing and the new job simply follows the run.
   */
  async run(
    relayId: string,
    generation: number,
    signal: AbortSignal,
    hooks: JobHooks = NO_HOOKS,
  ): Promise<RelayState | 'lost'> {
    const here = this.runs.get(relayId);
    if (here && here.generation === generation) {
      this.log.log(`relay ${relayId} g${generation}: already running here; job adopts it`);
      return here.done;
    }
    const done = this.runOwned(relayId, generation, signal, hooks);
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
    hooks: JobHooks,
  ): Promise<RelayState | 'lost'> {
    // The run token also names the worker process holding the relay (diagnostics, tests).
    const fence: RelayFence = {
      generation,
      runToken: `${hostname()}:${process.pid}:${randomUUID()}`,
    };
    const claimed = await this.store.claim(relayId, fence);
    if (!claimed) {
      this.log.debug(`relay ${relayId} g${generation}: not ours (stopped or taken over)`);
      return 'lost';
    }
    this.log.log(`relay ${relayId} g${generation}: running`);
    // The pre-flight follows the session's stream for as long as this run holds the relay.
    let preflight: RelayPreflight | null = null;
    try {
      const result = await this.loop(relayId, fence, signal, hooks, claimed.bytesSent, (snap) => {
        preflight ??= new RelayPreflight(
          this.transports.watch(snap.session!),
          snap.relay.warnings ?? [],
          (warnings) => this.store.writeWarnings(relayId, fence, warnings),
        );
        return preflight;
      });
      if (result === 'lost') await this.releaseIfOver(relayId);
      return result;
    } finally {
      (preflight as RelayPreflight | null)?.release();
    }
  }

  private async loop(
    relayId: string,
    fence: RelayFence,
    signal: AbortSignal,
    hooks: JobHooks,
    bytesSent: number,
    preflightOf: (snap: RelaySnapshot) => RelayPreflight,
  ): Promise<RelayState | 'lost'> {
    let bytesBase = bytesSent;
    for (;;) {
      const snap = await this.store.snapshot(relayId);
      if (!snap || !owns(snap.relay, fence)) return 'lost';
      if (!shouldRun(snap)) return this.finish(snap.relay, fence, 'stopped');
      const relay = snap.relay;

      if (relay.state === 'retrying' && relay.nextRetryAt) {
        const waited = await this.waitUntil(
          relay.nextRetryAt.getTime(),
          relayId,
          fence,
          snap,
          signal,
        );
        if (waited === 'lost') return 'lost';
        if (waited === 'ended') {
          await this.transports.release(relay.destinationId);
          return 'stopped';
        }
        if (waited === 'aborted') return relay.state;
        if (waited === 'stop') return this.finish(relay, fence, 'stopped');
      }

      const attempt = await this.attempt(snap, fence, signal, bytesBase, hooks, preflightOf(snap));
      bytesBase = attempt.bytesSent;
      const outcome = attempt.outcome;
      const ended =
        outcome.kind === 'ended'
          ? 'session ended: relay stopped'
          : outcome.kind === 'stop'
            ? 'attempt ended (the session ended or the destination was turned off)'
            : `attempt ended (${outcome.kind}${outcome.kind === 'failed' ? `: ${outcome.error}` : ''})`;
      this.log.log(`relay ${relayId}: ${ended}`);
      // The error texts are scrubbed of the push URL already.
      await hooks
        .log(`${new Date(this.clock.now()).toISOString()} ${ended}`)
        .catch(() => undefined);
      if (outcome.kind === 'lost') return 'lost';
      if (outcome.kind === 'ended') {
        // The session's end wrote `stopped` (with its event) for every relay: nothing to write.
        await this.transports.release(relay.destinationId);
        return 'stopped';
      }
      if (outcome.kind === 'aborted') return 'live';
      if (outcome.kind === 'stop') return this.finish(relay, fence, 'stopped');
      if (outcome.kind === 'restart') continue;

      // failed: back off, or give up after 10 minutes without success
      const now = new Date(this.clock.now());
      const current = await this.store.current(relayId);
      if (!current || !owns(current, fence)) return 'lost';
      const failingSince = outcome.wasLive || !current.failingSince ? now : current.failingSince;
      const attempts = outcome.wasLive ? 1 : current.attempts + 1;
      if (shouldGiveUp(failingSince, now)) {
        return this.finish(current, fence, 'errored', {
          attempts,
          lastError: outcome.error,
          nextRetryAt: null,
        });
      }
      const next = new Date(now.getTime() + retryDelayMs(attempts));
      this.metrics.ffmpegRestarted();
      const moved = await this.store.write(relayId, fence, 'retrying', {
        attempts,
        lastError: outcome.error,
        nextRetryAt: next,
        failingSince,
        bitrateKbps: null,
      });
      if (!moved) return 'lost';
    }
  }

  private async finish(
    relay: Relay,
    fence: RelayFence,
    to: 'stopped' | 'errored',
    patch: RelayPatch = {},
  ): Promise<RelayState | 'lost'> {
    const done = await this.store.write(relay.id, fence, to, { ...patch, bitrateKbps: null });
    await this.transports.release(relay.destinationId);
    return done ? to : 'lost';
  }

  /**
   * A run that lost its relay because the session ended (stopping a session's relays
   * moves them to a new generation) still leaves the rendition's files: they go unless
   * another run holds the relay now.
   */
  private async releaseIfOver(relayId: string): Promise<void> {
    try {
      const snap = await this.store.snapshot(relayId);
      if (snap && (!shouldRun(snap) || !ACTIVE_STATES.includes(snap.relay.state))) {
        await this.transports.release(snap.relay.destinationId);
      }
    } catch (err) {
      this.log.warn(`relay ${relayId}: files not released: ${(err as Error).message}`);
    }
  }

  /** Sleeps until `at`, watching for changes; a destination edit retries at once. */
  private async waitUntil(
    at: number,
    relayId: string,
    fence: RelayFence,
    snap: RelaySnapshot,
    signal: AbortSignal,
  ): Promise<'ready' | 'lost' | 'stop' | 'ended' | 'aborted'> {
    const version = snap.destination?.configVersion;
    while (this.clock.now() < at) {
      if (signal.aborted) return 'aborted';
      const p = await this.pulse(relayId, signal);
      if (p === 'aborted') return 'aborted';
      if (p === 'unavailable') continue;
      const verdict = verdictOf(p, fence);
      if (verdict !== 'ours') return verdict;
      if (p!.configVersion !== version) return 'ready';
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
      void this.pulses.next(relayId).then((p) => {
        signal.removeEventListener('abort', onAbort);
        resolve(p);
      });
    });
  }

  /**
   * One attempt: the pre-flight's plan, the transport opened for it, run (relay-attempt.ts)
   * while the rows allow and the plan stays the same.
   */
  private async attempt(
    snap: RelaySnapshot,
    fence: RelayFence,
    signal: AbortSignal,
    bytesBase: number,
    hooks: JobHooks,
    preflight: RelayPreflight,
  ) {
    const relay = snap.relay;
    const destination = snap.destination!;
    const plan = await preflight.plan(destination);
    if (plan === 'lost') return { outcome: { kind: 'lost' as const }, bytesSent: bytesBase };
    let transport;
    try {
      transport = await this.transports.open(destination, snap.session!, plan);
    } catch (err) {
      const error = scrub((err as Error).message, this.transports.secretsOf(destination));
      return { outcome: { kind: 'failed' as const, error, wasLive: false }, bytesSent: bytesBase };
    }
    return runAttempt({
      relay,
      configVersion: destination.configVersion,
      transport,
      bytesBase,
      now: () => this.clock.now(),
      pulse: () => this.pulse(relay.id, signal),
      verdict: (p) => verdictOf(p, fence),
      wentLive: async ({ bitrateKbps, bytesSent }) => {
        await this.store
          .write(relay.id, fence, 'live', {
            attempts: 0,
            lastError: null,
            nextRetryAt: null,
            failingSince: null,
            bitrateKbps,
            bytesSent: String(bytesSent),
          })
          .catch((err: Error) =>
            this.log.warn(`relay ${relay.id}: live not recorded: ${err.message}`),
          );
      },
      progress: ({ bitrateKbps, bytesSent }) =>
        this.pulses.reportProgress(
          relay.id,
          fence.generation,
          fence.runToken,
          bitrateKbps,
          bytesSent,
        ),
      jobProgress: (p) => void hooks.report(p).catch(() => undefined),
      replan: async () => {
        const next = await preflight.plan(destination);
        if (next === 'lost') return 'lost';
        if (next.key === plan.key) return 'same';
        this.log.log(`relay ${relay.id}: the ingest needs another output; restarting it`);
        return 'restart';
      },
    });
  }
}

/** This run still holds the relay (same generation and run token) and it is active. */
function owns(r: Pick<Relay, 'generation' | 'workerId' | 'state'>, fence: RelayFence): boolean {
  return (
    r.generation === fence.generation &&
    r.workerId === fence.runToken &&
    ACTIVE_STATES.includes(r.state)
  );
}

function shouldRun(s: RelaySnapshot): boolean {
  return !!s.session && s.session.status === 'live' && !!s.destination && s.destination.enabled;
}

/**
 * What the relay's rows say to its run: go on (`ours`), stop it (`stop`), the session's end
 * stopped it already (`ended`: the same generation, `stopped`, the session no longer live),
 * or another run holds it now (`lost`).
 */
function verdictOf(p: RelayPulse | null, fence: RelayFence): 'ours' | 'lost' | 'stop' | 'ended' {
  if (p && p.generation === fence.generation && p.state === 'stopped' && !p.sessionLive) {
    return 'ended';
  }
  if (!p || !owns(p, fence)) return 'lost';
  return p.sessionLive && p.destinationEnabled === true ? 'ours' : 'stop';
}
