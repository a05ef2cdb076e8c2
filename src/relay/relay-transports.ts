import type { LookupFunction } from 'node:net';
import type { RtmpServerAdapter } from '../ingest/rtmp-server.adapter';
import { scrub, secretsOfUrl } from './ffmpeg-command';
import type { FfmpegCommand } from './ffmpeg-command';
import type { FfmpegRunner } from './ffmpeg-runner';

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

function pullFrom(media: RtmpServerAdapter, stream: StreamRef): string | null {
  return media.hasLocal(stream.streamName) ? null : stream.ingestNode;
}

/**
 * Transcodes or packages (HLS) with ffmpeg, fed FLV over stdin from the in-process
 * stream: ffmpeg never connects to the ingest, and ends at EOF if this process dies.
 */
export function ffmpegTransport(
  runner: FfmpegRunner,
  media: RtmpServerAdapter,
  stream: StreamRef,
  command: FfmpegCommand,
): RelayTransport {
  const proc = runner.start(command);
  let stopped = false;
  let overflow = false;
  const sub = media.subscribe(stream.streamName, pullFrom(media, stream), (chunk) => {
    if (overflow) return;
    if (proc.stdin.writableLength > MAX_BUFFERED_BYTES) {
      overflow = true;
      void proc.stop(500);
      return;
    }
    proc.stdin.write(chunk);
  });
  const exited = proc.exited.then((exit) => {
    sub.close();
    if (stopped) return null;
    if (overflow) return 'destination too slow: output buffer overflow';
    return exit.error || `ffmpeg exited (${exit.code ?? exit.signal})`;
  });
  return {
    kind: 'ffmpeg',
    exited,
    onProgress: (listener) =>
      proc.onProgress((p) =>
        listener({ bytes: p.totalSize, mark: p.outTimeMs, bitrateKbps: p.bitrateKbps }),
      ),
    stop: async () => {
      stopped = true;
      await proc.stop();
    },
  };
}

/**
 * Passthrough to an RTMP/RTMPS destination from inside this process (no ffmpeg): the
 * ingest's RTMP messages are written to the destination's socket as they are.
 */
export function pushTransport(
  media: RtmpServerAdapter,
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
  const listeners: Array<(p: TransportProgress) => void> = [];
  let last = { at: Date.now(), bytes: 0 };
  const timer = setInterval(() => {
    const s = run.stats();
    const now = Date.now();
    const kbps = Math.round(((s.bytesWritten - last.bytes) * 8) / Math.max(1, now - last.at));
    last = { at: now, bytes: s.bytesWritten };
    for (const l of listeners) l({ bytes: s.bytesWritten, mark: s.mediaBytes, bitrateKbps: kbps });
  }, 500);
  // A server may echo the stream name (the key) in its refusal: never let it through.
  const secrets = secretsOfUrl(url);
  const exited = run.exited.then((error) => {
    clearInterval(timer);
    return error === null ? null : scrub(error, secrets);
  });
  return {
    kind: 'push',
    exited,
    onProgress: (l) => listeners.push(l),
    stop: () => run.stop(),
  };
}
