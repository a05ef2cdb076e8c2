import { randomBytes } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import type { MediaService } from '../media/media.service';
import { FLV_FILE_HEADER, writeFlvTag } from '../media/media-hub';
import type { PushRun } from '../media/rtmp-push';
import { scrub, secretsOfUrl } from './ffmpeg-command';
import type { FfmpegCommand } from './ffmpeg-command';
import type { FfmpegProcess, FfmpegRunner } from './ffmpeg-runner';

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

/** ffmpeg's stdin or a destination socket holding more than this: it cannot keep up. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface StreamRef {
  /** Internal name of the live stream (`/internal/<name>` on its ingest node). */
  streamName: string;
  /** The ingest node holding it (`rtmp://host:port`), pulled when not in this process. */
  ingestNode: string;
}

function pullFrom(media: MediaService, stream: StreamRef): string | null {
  return media.hasLocal(stream.streamName) ? null : stream.ingestNode;
}

/** Starts ffmpeg fed FLV over stdin from the in-process stream. */
function feedFfmpeg(
  runner: FfmpegRunner,
  media: MediaService,
  stream: StreamRef,
  command: FfmpegCommand,
): { proc: FfmpegProcess; overflowed: () => boolean; close(): void } {
  const proc = runner.start(command);
  let overflow = false;
  proc.stdin.write(FLV_FILE_HEADER);
  const sub = media.subscribe(stream.streamName, pullFrom(media, stream), {
    deliver: (m) => {
      if (overflow) return;
      if (proc.stdin.writableLength > MAX_BUFFERED_BYTES) {
        overflow = true;
        void proc.stop(500);
        return;
      }
      writeFlvTag(proc.stdin, m);
    },
  });
  return { proc, overflowed: () => overflow, close: () => sub.close() };
}

function exitText(exit: { error: string; code: number | null; signal: string | null }): string {
  return exit.error || `ffmpeg exited (${exit.code ?? exit.signal})`;
}

/**
 * Packages (the brand-site HLS rendition) with ffmpeg, fed FLV over stdin from the
 * in-process stream: ffmpeg never connects anywhere, and ends at EOF if this process dies.
 */
export function ffmpegTransport(
  runner: FfmpegRunner,
  media: MediaService,
  stream: StreamRef,
  command: FfmpegCommand,
): RelayTransport {
  const fed = feedFfmpeg(runner, media, stream, command);
  let stopped = false;
  const exited = fed.proc.exited.then((exit) => {
    fed.close();
    if (stopped) return null;
    if (fed.overflowed()) return 'destination too slow: output buffer overflow';
    return exitText(exit);
  });
  return {
    kind: 'ffmpeg',
    exited,
    onProgress: (listener) =>
      fed.proc.onProgress((p) =>
        listener({ bytes: p.totalSize, mark: p.outTimeMs, bitrateKbps: p.bitrateKbps }),
      ),
    stop: async () => {
      stopped = true;
      await fed.proc.stop();
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
 * A transcoded RTMP/RTMPS destination: ffmpeg reads the stream on stdin and writes FLV
 * on stdout, which becomes a stream of this process's hub that the worker pushes like a
 * passthrough. ffmpeg has no URL, no key, no network and no secret in its environment;
 * the push has TLS verification and the egress guard at connect time.
 */
export function transcodeTransport(
  runner: FfmpegRunner,
  media: MediaService,
  stream: StreamRef,
  command: FfmpegCommand,
  url: string,
  lookup: LookupFunction,
): RelayTransport {
  const fed = feedFfmpeg(runner, media, stream, command);
  const output = `transcode-${randomBytes(12).toString('hex')}`;
  const source = media.publishFlv(output, fed.proc.stdout);
  const run = media.push(output, null, { url, lookup }, MAX_BUFFERED_BYTES);
  const progress = pushProgress(run);
  const secrets = secretsOfUrl(url);
  let stopped = false;
  const exited = Promise.race([
    run.exited,
    fed.proc.exited.then((exit) =>
      fed.overflowed() ? 'destination too slow: output buffer overflow' : exitText(exit),
    ),
    source.ended.then((reason) => reason ?? 'encoder output ended'),
  ]).then(async (error) => {
    progress.stop();
    fed.close();
    await Promise.all([run.stop(), fed.proc.stop()]);
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
