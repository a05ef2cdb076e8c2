import { PassThrough } from 'node:stream';
import { FLV_FILE_HEADER, writeFlvTag, type MediaMessage } from '../media/media-hub';
import { MediaService } from '../media/media.service';
import { EncoderPool } from './encoder-pool';
import type { FfmpegCommand, OutputSpec } from './ffmpeg-command';
import type { FfmpegExit, FfmpegProcess, FfmpegRunner } from './ffmpeg-runner';
import { FlvRetimer, GAP_MS } from './flv-retimer';

const keyframe = () => Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(64, 1)]);
const msg = (timestamp: number): MediaMessage => ({
  type: 9,
  timestamp,
  payload: keyframe(),
  kind: 'keyframe',
  rtmp: () => null,
});

/** FLV bytes: the file header, then a key frame at each of these times. */
function flv(times: number[]): Buffer {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  out.write(FLV_FILE_HEADER);
  for (const t of times) writeFlvTag(out, msg(t));
  return Buffer.concat(chunks);
}

/** Timestamps of the tags in FLV bytes. */
function tagTimes(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 13; at + 11 <= bytes.length;) {
    const size = bytes.readUIntBE(at + 1, 3);
    out.push((bytes.readUIntBE(at + 4, 3) | (bytes[at + 7]! << 24)) >>> 0);
    at += 11 + size + 4;
  }
  return out;
}

async function through(r: FlvRetimer, bytes: Buffer, chunk: number): Promise<Buffer> {
  const got: Buffer[] = [];
  r.on('data', (c: Buffer) => got.push(c));
  for (let i = 0; i < bytes.length; i += chunk) r.write(bytes.subarray(i, i + chunk));
  r.end();
  await new Promise((res) => r.once('end', res));
  return Buffer.concat(got);
}

describe('FlvRetimer', () => {
  it('passes the first run through as it is, whatever the chunking', async () => {
    const bytes = flv([0, 40, 1000, 2000]);
    for (const chunk of [1, 7, 11, 4096]) {
      const out = await through(new FlvRetimer({ lastMs: -1 }), bytes, chunk);
      expect(out.equals(bytes)).toBe(true);
    }
  });

  it('carries a restarted encoder on just after the last timestamp written', async () => {
    const state = { lastMs: -1 };
    await through(new FlvRetimer(state), flv([0, 1000, 2500]), 5);
    expect(state.lastMs).toBe(2500);
    const out = await through(new FlvRetimer(state), flv([0, 1000]), 3);
    expect(tagTimes(out)).toEqual([2500 + GAP_MS, 3500 + GAP_MS]);
  });
});

class FakeProcess implements FfmpegProcess {
  static nextPid = 1000;
  readonly pid = FakeProcess.nextPid++;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  private settle: (e: FfmpegExit) => void = () => undefined;
  readonly exited = new Promise<FfmpegExit>((r) => (this.settle = r));
  stoppedByUs = false;
  constructor(readonly command: FfmpegCommand) {
    this.stdin.resume();
  }
  onProgress(): void {}
  produce(times: number[]): void {
    this.stdout.write(flv(times));
  }
  die(error = 'Conversion failed!'): void {
    this.stdout.end();
    this.settle({ code: 1, signal: null, error });
  }
  async stop(): Promise<FfmpegExit> {
    this.stoppedByUs = true;
    this.stdout.end();
    this.settle({ code: null, signal: 'SIGTERM', error: '' });
    return this.exited;
  }
}

class FakeRunner {
  readonly started: FakeProcess[] = [];
  start(command: FfmpegCommand): FfmpegProcess {
    const p = new FakeProcess(command);
    this.started.push(p);
    return p;
  }
}

const SPEC_A: OutputSpec = { video: 'copy', audio: { bitrateKbps: 128, sampleRate: 48000 } };
const SPEC_B: OutputSpec = { video: 'none', audio: 'copy' };
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function setup(share = true) {
  const runner = new FakeRunner();
  const media = new MediaService();
  const input = media.hub.publish('in', 'ingest')!;
  const pool = new EncoderPool(runner as unknown as FfmpegRunner, media, {
    share,
    restartDelayMs: 5,
  });
  const source = { streamName: 'in', pullFrom: null };
  return { runner, media, input, pool, source };
}

describe('EncoderPool', () => {
  it('one encoder per distinct output of a stream, refcounted', async () => {
    const { runner, pool, source } = setup();
    const a = pool.acquire(source, SPEC_A);
    const b = pool.acquire(source, SPEC_A);
    const c = pool.acquire(source, SPEC_B);
    expect(runner.started).toHaveLength(2);
    expect(a.output).toBe(b.output);
    expect(c.output).not.toBe(a.output);
    expect(a.pid()).toBe(b.pid());
    // One leaving (failed, removed) touches neither the encoder nor the other.
    await a.release();
    await a.release();
    expect(runner.started[0]!.stoppedByUs).toBe(false);
    await b.release();
    expect(runner.started[0]!.stoppedByUs).toBe(true);
    expect(pool.size).toBe(1);
    await c.release();
    expect(pool.size).toBe(0);
  });

  it('without sharing (benchmarks), one encoder per lease', async () => {
    const { runner, pool, source } = setup(false);
    const a = pool.acquire(source, SPEC_A);
    const b = pool.acquire(source, SPEC_A);
    expect(runner.started).toHaveLength(2);
    expect(a.output).not.toBe(b.output);
    await Promise.all([a.release(), b.release()]);
  });

  it('restarts a failed ffmpeg for the leases it has, under the same output name, timestamps going on', async () => {
    const { runner, media, pool, source } = setup();
    const a = pool.acquire(source, SPEC_A);
    const b = pool.acquire(source, SPEC_A);
    const seen: number[] = [];
    const unsubscribe = media.hub.subscribe(a.output, { deliver: (m) => seen.push(m.timestamp) });
    let failed = false;
    void a.failed.then(() => (failed = true));
    const first = runner.started[0]!;
    first.produce([0, 1000, 2000]);
    await tick();
    first.die();
    await tick(30);
    expect(runner.started).toHaveLength(2);
    expect(a.pid()).toBe(runner.started[1]!.pid);
    runner.started[1]!.produce([0, 1000]);
    await tick();
    expect(seen).toEqual([0, 1000, 2000, 2000 + GAP_MS, 3000 + GAP_MS]);
    expect(failed).toBe(false);
    unsubscribe();
    await Promise.all([a.release(), b.release()]);
    expect(runner.started[1]!.stoppedByUs).toBe(true);
  });

  it('an encoder that fails before producing anything fails its leases; the next lease starts afresh', async () => {
    const { runner, pool, source } = setup();
    const a = pool.acquire(source, SPEC_A);
    runner.started[0]!.die('Error initializing filter');
    expect(await a.failed).toBe('Error initializing filter');
    expect(pool.size).toBe(0);
    const b = pool.acquire(source, SPEC_A);
    expect(runner.started).toHaveLength(2);
    expect(b.output).not.toBe(a.output);
    await Promise.all([a.release(), b.release()]);
    expect(runner.started[1]!.stoppedByUs).toBe(true);
  });

  it('feeds the encoder the input stream as FLV', async () => {
    const { runner, input, pool, source } = setup();
    const lease = pool.acquire(source, SPEC_A);
    const stdin: Buffer[] = [];
    runner.started[0]!.stdin.on('data', (c: Buffer) => stdin.push(c));
    input.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false });
    await tick();
    const bytes = Buffer.concat(stdin);
    expect(bytes.length).toBeGreaterThan(64);
    expect(runner.started[0]!.command.args).toContain('pipe:1');
    await lease.release();
  });
});
