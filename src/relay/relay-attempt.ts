import type { Relay } from './relay.entity';
import type { RelayPulse } from './relay-watch';
import type { RelayTransport } from './relay-transports';

/** An attempt that writes nothing for this long has failed (sink stalled, no input). */
export const NO_OUTPUT_MS = 15_000;
/** Job progress (the dashboard) reported at most this often per relay. */
export const JOB_PROGRESS_MS = 5000;

export type Outcome =
  | { kind: 'lost' } // another run (or the orchestrator) owns the relay now
  | { kind: 'stop' } // session ended, destination disabled/deleted
  | { kind: 'ended' } // the session ended and its end stopped this relay already
  | { kind: 'restart' } // destination edited: run it again with the new settings
  | { kind: 'failed'; error: string; wasLive: boolean }
  | { kind: 'aborted' }; // this worker is shutting down: hand the relay over

/** What one attempt needs around it (the supervisor gives it; tests give fakes). */
export interface AttemptContext {
  relay: Relay;
  /** The destination's config version when the attempt started (an edit restarts it). */
  configVersion: number;
  transport: RelayTransport;
  /** Bytes the relay had sent before this attempt (its counter carries on). */
  bytesBase: number;
  now(): number;
  /** The relay's rows at the next shared poll (or 'aborted' when the worker stops). */
  pulse(): Promise<RelayPulse | null | 'unavailable' | 'aborted'>;
  /** Is this run still the relay's, and should it run? */
  verdict(p: RelayPulse): 'ours' | 'lost' | 'stop' | 'ended';
  /** The first media went out: the relay is live (fenced write with its event). */
  wentLive(p: { bitrateKbps: number | null; bytesSent: number }): Promise<void>;
  /** Progress while live, written in batches by the watch. */
  progress(p: { bitrateKbps: number | null; bytesSent: number }): void;
  /** Progress for the job (dashboard), at most every JOB_PROGRESS_MS. */
  jobProgress(p: Record<string, unknown>): void;
  /**
   * The pre-flight at each poll: `restart` when the destination's output should change
   * (the ingest changed what it needs), `lost` when the run lost the relay meanwhile.
   */
  replan?(): Promise<'same' | 'restart' | 'lost'>;
}

/**
 * One attempt of a relay: the transport runs while the relay's rows say it should; it
 * ends when the transport exits (failed), the run lost the relay, the session or
 * destination says stop, the destination was edited or the ingest changed what it needs
 * (restart), the worker shuts down, or nothing went out for NO_OUTPUT_MS.
 */
export async function runAttempt(
  c: AttemptContext,
): Promise<{ outcome: Outcome; bytesSent: number }> {
  const { transport, relay } = c;
  let wasLive = false;
  let bytes = c.bytesBase;
  let lastJobProgress = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let lastOutputAt = c.now();
  let mark = 0;
  transport.onProgress((p) => {
    const now = c.now();
    if (p.mark > mark) lastOutputAt = now;
    mark = Math.max(mark, p.mark);
    bytes = c.bytesBase + p.bytes;
    if (!wasLive && p.mark > 0) {
      wasLive = true;
      lastJobProgress = now;
      const sent = bytes;
      writing = writing.then(() => c.wentLive({ bitrateKbps: p.bitrateKbps, bytesSent: sent }));
    } else if (wasLive) {
      c.progress({ bitrateKbps: p.bitrateKbps, bytesSent: bytes });
      if (now - lastJobProgress >= JOB_PROGRESS_MS) {
        lastJobProgress = now;
        c.jobProgress({
          destinationId: relay.destinationId,
          via: transport.kind,
          state: 'live',
          bitrateKbps: p.bitrateKbps,
          bytesSent: bytes,
        });
      }
    }
  });

  const state: { outcome: Outcome | null; exited: boolean } = { outcome: null, exited: false };
  const watch = (async () => {
    while (!state.outcome && !state.exited) {
      const p = await c.pulse();
      if (state.outcome || state.exited) return;
      if (p === 'aborted') {
        state.outcome = { kind: 'aborted' };
        break;
      }
      if (c.now() - lastOutputAt > NO_OUTPUT_MS) {
        state.outcome = { kind: 'failed', error: 'no output for 15 s', wasLive };
        break;
      }
      if (p === 'unavailable') continue; // Postgres away: keep streaming, look again later
      const verdict = p ? c.verdict(p) : 'lost';
      if (verdict === 'lost') state.outcome = { kind: 'lost' };
      else if (verdict === 'stop') state.outcome = { kind: 'stop' };
      else if (verdict === 'ended') state.outcome = { kind: 'ended' };
      else if (p && p.configVersion !== c.configVersion) state.outcome = { kind: 'restart' };
      else if (c.replan) {
        const next = await c.replan();
        if (state.outcome || state.exited) return;
        if (next === 'lost') state.outcome = { kind: 'lost' };
        else if (next === 'restart') state.outcome = { kind: 'restart' };
      }
    }
    await transport.stop();
  })();

  const error = await transport.exited;
  state.exited = true;
  const outcome: Outcome = state.outcome ?? { kind: 'failed', error: error ?? 'stopped', wasLive };
  await watch.catch(() => undefined);
  await writing;
  return { outcome, bytesSent: bytes };
}
