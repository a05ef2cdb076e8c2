import { Logger } from '@nestjs/common';
import type { Destination, DestinationProfile } from '../destinations/destination.entity';
import type { MetricsService } from '../ops/metrics.service';
import type { Clock } from './clock';
import type { Relay, RelayState } from './relay.entity';
import { NO_OUTPUT_MS } from './relay-attempt';
import type { RelayFence, RelayPatch } from './relay-states';
import type { RelaySession, RelaySnapshot, RelayStore } from './relay-store';
import { RelaySupervisor } from './relay-supervisor.service';
import type { RelayTransportFactory } from './relay-transport-factory';
import type { RelayTransport, TransportProgress } from './relay-transports';
import type { DestinationPlan } from './output-plan';
import { UNKNOWN_FIGURES, type RelayWarning, type StreamFigures } from './preflight';
import { GOOD_720P } from './preflight.fixtures';
import type { FiguresHandle } from './stream-figures';
import type { RelayPulse, RelayPulses } from './relay-watch';

/**
 * The supervisor with fakes of everything around it — rows in memory, transports the test
 * drives, a shared poll that advances a fake clock by one second per look — so its state
 * machine is checked without Postgres, ffmpeg or sockets.
 */

class FakeClock implements Clock {
  t = Date.parse('2026-12-02T10:00:00Z');
  now(): number {
    return this.t;
  }
}

class FakeTransport implements RelayTransport {
  readonly kind = 'push' as const;
  private listeners: Array<(p: TransportProgress) => void> = [];
  private settle: (e: string | null) => void = () => undefined;
  stopped = false;
  readonly exited = new Promise<string | null>((r) => (this.settle = r));
  onProgress(l: (p: TransportProgress) => void): void {
    this.listeners.push(l);
  }
  emit(p: Partial<TransportProgress>): void {
    for (const l of this.listeners) l({ bytes: 1000, mark: 1, bitrateKbps: 800, ...p });
  }
  fail(error: string): void {
    this.settle(error);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.settle(null);
  }
}

class FakeTransports implements RelayTransportFactory {
  readonly opened: FakeTransport[] = [];
  readonly plans: DestinationPlan[] = [];
  released: string[] = [];
  watching = 0;
  figures: StreamFigures = UNKNOWN_FIGURES;
  openError: Error | null = null;
  onOpen: (t: FakeTransport) => void = () => undefined;
  watch(): FiguresHandle {
    this.watching += 1;
    return {
      figures: () => this.figures,
      ready: async () => undefined,
      release: () => (this.watching -= 1),
    };
  }
  async open(_d: Destination, _s: RelaySession, plan: DestinationPlan): Promise<RelayTransport> {
    this.plans.push(plan);
    if (this.openError) throw this.openError;
    const t = new FakeTransport();
    this.opened.push(t);
    setImmediate(() => this.onOpen(t)); // after the attempt listens to it
    return t;
  }
  async release(destinationId: string): Promise<void> {
    this.released.push(destinationId);
  }
  secretsOf(): string[] {
    return ['rtmp://live.example.com/app/SECRET-KEY', 'SECRET-KEY'];
  }
}

/** One relay row, its session and destination, with the store's fencing rules. */
class FakeStore {
  relay: Relay;
  session: RelaySession = { id: 's1', status: 'live', streamName: 'n', ingestNode: 'rtmp://x:1' };
  destination = {
    id: 'd1',
    enabled: true,
    configVersion: 1,
    kind: 'social_platform',
    preset: 'custom',
    profile: null,
    url: 'rtmp://live.example.com/app',
  } as Destination;
  transitions: Array<{ from: RelayState; to: RelayState }> = [];
  writesByRun = 0;

  constructor(clock: FakeClock) {
    this.relay = {
      id: 'r1',
      partnerId: 'p1',
      sessionId: 's1',
      destinationId: 'd1',
      state: 'starting',
      attempts: 0,
      lastError: null,
      nextRetryAt: null,
      since: new Date(clock.now()),
      failingSince: null,
      bitrateKbps: null,
      bytesSent: '0',
      generation: 1,
      workerId: null,
      warnings: [],
      updatedAt: new Date(clock.now()),
    };
  }

  async claim(_id: string, fence: RelayFence) {
    const r = this.relay;
    if (r.generation !== fence.generation || !['starting', 'live', 'retrying'].includes(r.state)) {
      return null;
    }
    r.workerId = fence.runToken;
    return { bytesSent: Number(r.bytesSent) };
  }
  async current() {
    return { ...this.relay };
  }
  async snapshot(): Promise<RelaySnapshot> {
    return {
      relay: { ...this.relay },
      session: { ...this.session },
      destination: { ...this.destination },
    };
  }
  async write(_id: string, fence: RelayFence, to: RelayState, patch: RelayPatch) {
    const r = this.relay;
    if (r.generation !== fence.generation || r.workerId !== fence.runToken) return null;
    this.writesByRun += 1;
    Object.assign(r, patch);
    if (r.state !== to) this.transitions.push({ from: r.state, to });
    r.state = to;
    return { ...r };
  }
  warningWrites: RelayWarning[][] = [];
  async writeWarnings(_id: string, fence: RelayFence, warnings: RelayWarning[]) {
    const r = this.relay;
    if (r.generation !== fence.generation || r.workerId !== fence.runToken) return null;
    this.warningWrites.push(warnings);
    r.warnings = warnings;
    return true;
  }
  pulse(): RelayPulse {
    return {
      state: this.relay.state,
      generation: this.relay.generation,
      workerId: this.relay.workerId,
      sessionLive: this.session.status === 'live',
      destinationEnabled: this.destination.enabled,
      configVersion: this.destination.configVersion,
    };
  }
}

/** Each look at the rows takes a second of fake time (the real poll is every second). */
class FakePulses implements RelayPulses {
  progress: number[] = [];
  constructor(
    private readonly store: FakeStore,
    private readonly clock: FakeClock,
    private readonly beforeEach: () => void = () => undefined,
  ) {}
  async next(): Promise<RelayPulse> {
    await new Promise((r) => setImmediate(r));
    this.clock.t += 1000;
    this.beforeEach();
    return this.store.pulse();
  }
  reportProgress(_r: string, _g: number, _t: string, _b: number | null, bytes: number): void {
    this.progress.push(bytes);
  }
}

function setup(opts: { onLook?: (look: number) => void } = {}) {
  const clock = new FakeClock();
  const store = new FakeStore(clock);
  const transports = new FakeTransports();
  let looks = 0;
  const pulses = new FakePulses(store, clock, () => opts.onLook?.(++looks));
  const metrics = { ffmpegRestarted: jest.fn() } as unknown as MetricsService;
  const supervisor = new RelaySupervisor(
    store as unknown as RelayStore,
    transports,
    pulses,
    clock,
    metrics,
  );
  const controller = new AbortController();
  const run = () => supervisor.run('r1', 1, controller.signal);
  return { clock, store, transports, pulses, metrics, supervisor, controller, run };
}

describe('RelaySupervisor', () => {
  it('goes live on the first media out, and stops (releasing its output) when the session ends', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 3) t.store.session.status = 'ended';
      },
    });
    t.transports.onOpen = (tr) => tr.emit({ mark: 1, bytes: 500 });
    const result = await t.run();
    expect(result).toBe('stopped');
    expect(t.store.transitions).toEqual([
      { from: 'starting', to: 'live' },
      { from: 'live', to: 'stopped' },
    ]);
    expect(t.transports.opened[0]!.stopped).toBe(true);
    expect(t.transports.released).toEqual(['d1']);
    expect(t.store.relay.bytesSent).toBe('500');
  });

  it('retries a failed attempt with backoff from ~1 s, then goes live again', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 8) t.store.session.status = 'ended';
      },
    });
    t.transports.onOpen = (tr) => {
      if (t.transports.opened.length === 1) tr.fail('connection refused');
      else tr.emit({});
    };
    const failedAt = t.clock.now();
    const result = await t.run();
    expect(result).toBe('stopped');
    expect(t.store.transitions.map((x) => x.to)).toEqual(['retrying', 'live', 'stopped']);
    expect(t.transports.opened).toHaveLength(2);
    expect(t.metrics.ffmpegRestarted).toHaveBeenCalledTimes(1);
    // The second attempt waited out the backoff (1 s ± 25 %) on the fake clock.
    expect(t.store.relay.attempts).toBe(0);
    expect(t.clock.now() - failedAt).toBeGreaterThanOrEqual(750);
  });

  it('counts consecutive failures and gives up (errored) after 10 minutes without success', async () => {
    const t = setup();
    t.transports.onOpen = (tr) => tr.fail('connection refused');
    const result = await t.run();
    expect(result).toBe('errored');
    expect(t.store.relay.state).toBe('errored');
    expect(t.store.relay.lastError).toBe('connection refused');
    expect(t.store.relay.nextRetryAt).toBeNull();
    // Exponential backoff capped at 30 s: a few dozen attempts in 10 minutes, not hundreds.
    expect(t.transports.opened.length).toBeGreaterThan(10);
    expect(t.transports.opened.length).toBeLessThan(60);
    expect(t.store.relay.attempts).toBe(t.transports.opened.length);
  });

  it("a session's end that stopped the relay itself is an end, not a lost relay: logged as such, output released", async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 3) {
          // What SessionsService.end does in one transaction: the session and every relay.
          t.store.session.status = 'ended';
          t.store.relay.state = 'stopped';
        }
      },
    });
    const logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      t.transports.onOpen = (tr) => tr.emit({ mark: 1, bytes: 500 });
      const result = await t.run();
      expect(result).toBe('stopped');
      expect(t.store.writesByRun).toBe(1); // live; the end wrote `stopped`, not this run
      expect(t.transports.released).toEqual(['d1']);
      const lines = logged.mock.calls.map((c) => String(c[0]));
      expect(lines).toContain('relay r1: session ended: relay stopped');
      expect(lines.filter((l) => l.includes('lost'))).toEqual([]);
    } finally {
      logged.mockRestore();
    }
  });

  it('never writes again once another run (or the orchestrator) took the relay', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 2) t.store.relay.generation = 2; // the orchestrator restarted it
      },
    });
    t.transports.onOpen = (tr) => tr.emit({});
    const result = await t.run();
    expect(result).toBe('lost');
    expect(t.store.writesByRun).toBe(1); // live, before it lost the relay
    expect(t.transports.opened[0]!.stopped).toBe(true);
  });

  it('a destination edit restarts this relay only: a new attempt, no retrying', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 2) t.store.destination.configVersion = 2;
        if (n === 5) t.store.session.status = 'ended';
      },
    });
    t.transports.onOpen = (tr) => tr.emit({});
    expect(await t.run()).toBe('stopped');
    expect(t.transports.opened).toHaveLength(2);
    expect(t.transports.opened[0]!.stopped).toBe(true);
    expect(t.store.transitions.map((x) => x.to)).toEqual(['live', 'stopped']);
  });

  it('a worker shutdown aborts the attempt and leaves the relay live for another worker', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 2) t.controller.abort();
      },
    });
    t.transports.onOpen = (tr) => tr.emit({});
    expect(await t.run()).toBe('live');
    expect(t.store.relay.state).toBe('live');
    expect(t.transports.opened[0]!.stopped).toBe(true);
  });

  it('fails an attempt that sends nothing for 15 s', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 24) t.store.session.status = 'ended'; // before the second one goes quiet
      },
    });
    t.transports.onOpen = (tr) => {
      if (t.transports.opened.length === 1)
        tr.emit({ mark: 1 }); // then silence
      else tr.emit({});
    };
    expect(await t.run()).toBe('stopped');
    expect(t.store.transitions.map((x) => x.to)).toEqual(['live', 'retrying', 'live', 'stopped']);
    expect(NO_OUTPUT_MS).toBe(15_000);
  });

  it('a job for a generation already running here adopts the run (no second claim)', async () => {
    const t = setup({
      onLook: (n) => {
        if (n === 3) t.store.session.status = 'ended';
      },
    });
    t.transports.onOpen = (tr) => tr.emit({});
    const [a, b] = await Promise.all([t.run(), t.run()]);
    expect([a, b]).toEqual(['stopped', 'stopped']);
    expect(t.transports.opened).toHaveLength(1);
  });

  it('scrubs the push URL and key out of an error opening the transport', async () => {
    const t = setup();
    t.transports.openError = new Error('cannot resolve rtmp://live.example.com/app/SECRET-KEY');
    await t.run(); // gives up after 10 minutes of failures
    expect(t.store.relay.lastError).toBe('cannot resolve ****');
    expect(t.store.relay.lastError).not.toContain('SECRET-KEY');
  });

  describe('pre-flight', () => {
    const GOOD = GOOD_720P;
    /** The fake destination on a platform preset (its URL RTMPS), with this profile. */
    const onFacebook = (t: ReturnType<typeof setup>, profile: DestinationProfile) => {
      Object.assign(t.store.destination, { preset: 'facebook', profile, url: 'rtmps://x/app' });
      t.transports.figures = GOOD;
      t.transports.onOpen = (tr) => tr.emit({});
    };

    it('writes the warnings (fenced) when they change, once per change, and lets go of the stream', async () => {
      const t = setup({
        onLook: (n) => {
          if (n === 2) t.transports.figures = { ...GOOD, keyframeIntervalMs: 6000 };
          if (n === 5) t.transports.figures = GOOD;
          if (n === 8) t.store.session.status = 'ended';
        },
      });
      onFacebook(t, null);
      expect(await t.run()).toBe('stopped');
      expect(t.store.warningWrites.map((w) => w.map((x) => x.code))).toEqual([
        ['KEYFRAME_INTERVAL_TOO_LONG'],
        [],
      ]);
      // Passthrough stays passthrough whatever the warnings: one attempt.
      expect(t.transports.opened).toHaveLength(1);
      expect(t.transports.watching).toBe(0);
    });

    it('"auto" restarts the destination alone into an encode when the ingest needs one, and stays there', async () => {
      const t = setup({
        onLook: (n) => {
          if (n === 2) t.transports.figures = { ...GOOD, keyframeIntervalMs: 6000 };
          if (n === 5) t.transports.figures = GOOD; // back to fitting: the run keeps encoding
          if (n === 9) t.store.session.status = 'ended';
        },
      });
      onFacebook(t, 'auto');
      expect(await t.run()).toBe('stopped');
      expect(t.transports.plans.map((p) => p.key === 'passthrough')).toEqual([true, false]);
      expect(t.transports.opened[0]!.stopped).toBe(true);
      expect(t.store.transitions.map((x) => x.to)).toEqual(['live', 'stopped']);
      // The encode fixes it: nothing stays warned.
      expect(t.store.warningWrites).toEqual([]);
    });

    it('a run that lost the relay while writing its warnings stops', async () => {
      const t = setup({
        onLook: (n) => {
          if (n === 2) {
            t.store.relay.generation = 2;
            t.transports.figures = { ...GOOD, keyframeIntervalMs: 6000 };
          }
        },
      });
      onFacebook(t, null);
      expect(await t.run()).toBe('lost');
      expect(t.store.warningWrites).toEqual([]);
    });
  });
});
