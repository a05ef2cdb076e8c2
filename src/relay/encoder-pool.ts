import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { MediaService } from '../media/media.service';
import { buildRelayCommand, codecArgs, type OutputSpec } from './ffmpeg-command';
import { exitText, feedFfmpeg, OVERFLOW_TEXT } from './ffmpeg-feed';
import type { FfmpegProcess, FfmpegRunner } from './ffmpeg-runner';
import { FlvRetimer, type RetimeState } from './flv-retimer';

/**
 * One encoder per distinct output: destinations of a stream whose encode has the same
 * codec arguments share one ffmpeg, published into this process's hub (`publishFlv`) and
 * pushed from there to each of them (`MediaService.push`), or packaged by the brand-site
 * rendition's ffmpeg. Each destination holds a lease:
 *
 * - a destination failing or leaving gives its lease back: the encoder and the others go
 *   on; the encoder stops when its last lease is given back;
 * - ffmpeg itself failing restarts it for the leases it has (its output keeps its name in
 *   the hub, so the destinations' pushes stay connected; FlvRetimer keeps the timestamps
 *   going forward), after a delay that grows while it keeps failing;
 * - an encoder that fails before it produced anything cannot run (bad input, a filter
 *   ffmpeg refuses): its leases fail with ffmpeg's error, and each destination's relay
 *   retries on its own backoff.
 */

export interface EncoderLease {
  /** The hub stream the encode is published as. */
  readonly output: string;
  /** Resolves with an error text when the encoder gives up (never when it is healthy). */
  readonly failed: Promise<string>;
  /** The running ffmpeg's pid (diagnostics, tests). */
  pid(): number | undefined;
  release(): Promise<void>;
}

export interface EncoderSource {
  /** Hub stream name of the input. */
  streamName: string;
  /** Where to pull it from when another node holds it (null: here). */
  pullFrom: string | null;
}

export interface EncoderPoolOptions {
  /** false: one encoder per lease (benchmarks compare both). */
  share: boolean;
  /** First restart delay after ffmpeg failed; doubles while it keeps failing (cap 10 s). */
  restartDelayMs?: number;
  onRestart?: () => void;
}

const MAX_RESTART_DELAY_MS = 10_000;
/** Running this long resets the restart delay. */
const HEALTHY_MS = 30_000;

class Encoder {
  private readonly log = new Logger('EncoderPool');
  readonly output = `encode-${randomBytes(12).toString('hex')}`;
  refs = 0;
  private proc: FfmpegProcess | null = null;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private delayMs: number;
  private readonly retime: RetimeState = { lastMs: -1 };
  private giveUp: (error: string) => void = () => undefined;
  readonly failed = new Promise<string>((resolve) => (this.giveUp = resolve));
  private stopped: Promise<void> = Promise.resolve();

  constructor(
    private readonly runner: FfmpegRunner,
    private readonly media: MediaService,
    private readonly source: EncoderSource,
    private readonly encode: OutputSpec,
    private readonly options: EncoderPoolOptions,
    private readonly forget: () => void,
  ) {
    this.delayMs = options.restartDelayMs ?? 500;
  }

  pid(): number | undefined {
    return this.proc?.pid;
  }

  start(): void {
    const command = buildRelayCommand({ output: { kind: 'flv-stdout' }, encode: this.encode });
    const fed = feedFfmpeg(
      this.runner,
      this.media,
      this.source.streamName,
      this.source.pullFrom,
      command,
    );
    const proc = fed.proc;
    this.proc = proc;
    const startedAt = Date.now();
    let produced = false;
    const retimed = proc.stdout.pipe(new FlvRetimer(this.retime));
    retimed.once('data', () => (produced = true));
    const published = this.media.publishFlv(this.output, retimed);
    this.stopped = proc.exited.then(async (exit) => {
      fed.close();
      await published.ended; // the name is free again for the next run
      if (this.stopping) return;
      const error = fed.overflowed() ? OVERFLOW_TEXT : exitText(exit);
      if (!produced) {
        this.log.warn(`encoder ${this.output.slice(0, 14)}… cannot run: ${error}`);
        this.forget();
        this.giveUp(error);
        return;
      }
      if (Date.now() - startedAt > HEALTHY_MS) this.delayMs = this.options.restartDelayMs ?? 500;
      this.log.warn(
        `encoder ${this.output.slice(0, 14)}… failed (${error}); restarting it for ${this.refs} destination(s) in ${this.delayMs} ms`,
      );
      this.options.onRestart?.();
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopping) this.start();
      }, this.delayMs);
      this.delayMs = Math.min(MAX_RESTART_DELAY_MS, this.delayMs * 2);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.proc?.stop();
    await this.stopped;
  }
}

export class EncoderPool {
  private readonly encoders = new Map<string, Encoder>();

  constructor(
    private readonly runner: FfmpegRunner,
    private readonly media: MediaService,
    private readonly options: EncoderPoolOptions,
  ) {}

  /** Encoders running (or waiting to restart) now. */
  get size(): number {
    return this.encoders.size;
  }

  /** A lease on the encoder of `encode` from `source`, started if none runs yet. */
  acquire(source: EncoderSource, encode: OutputSpec): EncoderLease {
    const args = codecArgs(encode).join('\0');
    const key = this.options.share
      ? `${source.streamName}\n${args}`
      : `${source.streamName}\n${args}\n${randomBytes(8).toString('hex')}`;
    let encoder = this.encoders.get(key);
    if (!encoder) {
      const created: Encoder = new Encoder(
        this.runner,
        this.media,
        source,
        encode,
        this.options,
        () => {
          if (this.encoders.get(key) === created) this.encoders.delete(key);
        },
      );
      encoder = created;
      this.encoders.set(key, created);
      created.start();
    }
    const held = encoder;
    held.refs += 1;
    let released = false;
    return {
      output: held.output,
      failed: held.failed,
      pid: () => held.pid(),
      release: async () => {
        if (released) return;
        released = true;
        held.refs -= 1;
        if (held.refs > 0) return;
        if (this.encoders.get(key) === held) this.encoders.delete(key);
        await held.stop();
      },
    };
  }
}
