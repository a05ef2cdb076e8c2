import type { LookupFunction } from 'node:net';
import type { MediaClock } from '../media/media-clock';
import type { MediaService } from '../media/media.service';
import type { PushRun } from '../media/rtmp-push';
import type { EncoderLease } from './encoder-pool';
import { scrub, secretsOfUrl } from './ffmpeg-command';
import type { FfmpegCommand } from './ffmpeg-command';
import { exitText, feedFfmpeg, MAX_BUFFERED_BYTES, OVERFLOW_TEXT } from './ffmpeg-feed';
import type { FfmpegRunner } from './ffmpeg-runner';
import type { HlsPublisher } from './hls-publisher';

/** What a running relay reports, whatever carries it. */
export interface TransportProgress {
  /** Bytes sent to the destination so far in this attempt. */
  bytes: number;
  /** Grows while media is going out (ffmpeg: output clock; push: media bytes). */
  mark: number;
  bitrateKbps: number | null;
}

/** One attempt of a relay: started, reporting, ending with an error or stopped by us. */
export interface RelayTransport {
  readonly kind: 'push' | 'ffmpeg';
  onProgress(listener: (p: TransportProgress) => void): void;
  /** An error text, or null when `stop()` ended it. */
  readonly exited: Promise<string | null>;
  stop(): Promise<void>;
}

export interface StreamRef {
  /** Internal name of the live stream (`/internal/<name>` on its ingest node). */
  streamName: string;
  /** The ingest node holding it (`rtmp://host:port`), pulled when not in this process. */
  ingestNode: string;
}

/** Where to pull `stream` from: null when this process holds its ingest. */
export function pullFrom(media: MediaService, stream: StreamRef): string | null {
  return media.hasLocal(stream.streamName) ? null : stream.ingestNode;
}

export interface PackagerSample {
  outTimeMs: number;
  bytes: number;
}

/**
 * A packaging ffmpeg's progress. Its HLS muxer writes files, so ffmpeg reports neither a
 * size nor a bitrate (`N/A`): the bytes are then the media packaged for viewers (what was
 * fed), and the bitrate is theirs over the output clock since the last sample.
 */
export function packagerProgress(
  p: { totalSize: number; outTimeMs: number; bitrateKbps: number | null },
  fedBytes: number,
  last: PackagerSample,
): { progress: TransportProgress; sample: PackagerSample } {
  const bytes = p.totalSize > 0 ? p.totalSize : fedBytes;
  const dt = p.outTimeMs - last.outTimeMs;
  const measured = dt > 0 ? Math.round(((bytes - last.bytes) * 8) / dt) : null;
  const bitrateKbps = p.bitrateKbps ?? measured;
  const sample = dt > 0 ? { outTimeMs: p.outTimeMs, bytes } : last;
  return { progress: { bytes, mark: p.outTimeMs, bitrateKbps }, sample };
}

/**
 * Packages (the brand-site HLS rendition) with ffmpeg, fed FLV over stdin from the
 * in-process stream: the ingest itself, or — when the rendition is transcoded — the
 * shared encode of `lease`, which it then only packages. ffmpeg never connects anywhere,
 * and ends at EOF if this process dies.
 */
export function ffmpegTransport(
  runner: FfmpegRunner,
  media: MediaService,
  stream: StreamRef,
  command: FfmpegCommand,
  lease: EncoderLease | null = null,
  clock: MediaClock | null = null,
): RelayTransport {
  const fed = lease
    ? feedFfmpeg(runner, media, lease.output, null, command, clock)
    : feedFfmpeg(runner, media, stream.streamName, pullFrom(media, stream), command, clock);
  let stopped = false;
  const exited = Promise.race([
    fed.proc.exited.then((exit) => (fed.overflowed() ? OVERFLOW_TEXT : exitText(exit))),
    lease?.failed ?? new Promise<string>(() => undefined),
  ]).then(async (error) => {
    fed.close();
    await fed.proc.stop();
    await lease?.release();
    return stopped ? null : error;
  });
  let last: PackagerSample = { outTimeMs: 0, bytes: 0 };
  return {
    kind: 'ffmpeg',
    exited,
    onProgress: (listener) =>
      fed.proc.onProgress((p) => {
        const r = packagerProgress(p, fed.mediaBytes(), last);
        last = r.sample;
        listener(r.progress);
      }),
    stop: async () => {
      stopped = true;
      await fed.proc.stop();
      await exited;
    },
  };
}

/**
 * The brand-site rendition: ffmpeg packages into this worker's scratch folder (as
 * `ffmpegTransport`), and `publisher` stores each finished segment and the playlist
 * through the storage driver. Storage failing fails the attempt (the relay retries).
 */
export function hlsTransport(
  packager: RelayTransport,
  publisher: HlsPublisher,
  cleanup: () => Promise<void>,
): RelayTransport {
  let stopped = false;
  publisher.start();
  const storageFailed = publisher.failed.then(async (message) => {
    await packager.stop();
    return `storage: ${message}`;
  });
  const exited = Promise.race([packager.exited, storageFailed]).then(async (error) => {
    await packager.stop();
    await publisher.finish(false);
    await cleanup();
    return stopped ? null : error;
  });
  return {
    kind: 'ffmpeg',
    exited,
    onProgress: (listener) => packager.onProgress(listener),
    stop: async () => {
      stopped = true;
      await packager.stop();
      await exited;
    },
  };
}

/** How often a push's progress (bytes, bitrate) is sampled. */
export const PUSH_PROGRESS_MS = 500;

/** Progress of a push, sampled every PUSH_PROGRESS_MS. */
function pushProgress(run: PushRun): {
  onProgress(l: (p: TransportProgress) => void): void;
  stop(): void;
} {
  const listeners: Array<(p: TransportProgress) => void> = [];
  let last = { at: Date.now(), bytes: 0 };
  const timer = setInterval(() => {
    const s = run.stats();
    const now = Date.now();
    const kbps = Math.round(((s.bytesWritten - last.bytes) * 8) / Math.max(1, now - last.at));
    last = { at: now, bytes: s.bytesWritten };
    for (const l of listeners) l({ bytes: s.bytesWritten, mark: s.mediaBytes, bitrateKbps: kbps });
  }, PUSH_PROGRESS_MS);
  return { onProgress: (l) => listeners.push(l), stop: () => clearInterval(timer) };
}

/**
 * Passthrough to an RTMP/RTMPS destination from inside this process (no ffmpeg): the
 * ingest's messages are written to the destination's socket as they are.
 */
export function pushTransport(
  media: MediaService,
  stream: StreamRef,
  url: string,
  lookup: LookupFunction,
): RelayTransport {
  const run = media.push(
    stream.streamName,
    pullFrom(media, stream),
    { url, lookup },
    MAX_BUFFERED_BYTES,
  );
  const progress = pushProgress(run);
  // A server may echo the stream name (the key) in its refusal: never let it through.
  const secrets = secretsOfUrl(url);
  const exited = run.exited.then((error) => {
    progress.stop();
    return error === null ? null : scrub(error, secrets);
  });
  return { kind: 'push', exited, onProgress: progress.onProgress, stop: () => run.stop() };
}

/**
 * A transcoded RTMP/RTMPS destination: pushed like a passthrough, from the encode it
 * leases (encoder-pool.ts: one ffmpeg for every destination of the stream with the same
 * output). ffmpeg has no URL, no key, no network and no secret in its environment; the
 * push has TLS verification and the egress guard at connect time. This destination
 * failing or stopping gives its lease back and touches neither the encoder nor the
 * others; the encoder giving up fails it.
 */
export function transcodeTransport(
  media: MediaService,
  lease: EncoderLease,
  url: string,
  lookup: LookupFunction,
): RelayTransport {
  const run = media.push(lease.output, null, { url, lookup }, MAX_BUFFERED_BYTES);
  const progress = pushProgress(run);
  const secrets = secretsOfUrl(url);
  let stopped = false;
  const exited = Promise.race([run.exited, lease.failed]).then(async (error) => {
    progress.stop();
    await Promise.all([run.stop(), lease.release()]);
    return stopped || error === null ? null : scrub(error, secrets);
  });
  return {
    kind: 'ffmpeg',
    exited,
    onProgress: progress.onProgress,
    stop: async () => {
      stopped = true;
      await run.stop();
      await exited;
    },
  };
}
