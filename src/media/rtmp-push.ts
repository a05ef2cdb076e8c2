import type { MediaHub } from './media-hub';
import { writeRtmpMessage } from './media-hub';
import { connectRtmp, RtmpConnection, RtmpEndpoint } from './rtmp-client';
import { DESTINATION_LIMITS } from './rtmp-protocol';

/**
 * Publishes a hub stream to an RTMP/RTMPS destination from this process: each message is
 * written as it is (header bytes per destination, the payload shared), on the stream id
 * the server gave us, with Nagle off. A destination is dropped (and its relay retried)
 * when it falls too far behind (`maxBufferedBytes` queued) or stops reading (nothing
 * handed to the kernel for `stallMs` while data waits).
 */

export interface PushOptions {
  maxBufferedBytes: number;
  /** No write progress for this long while data waits: the destination stopped reading. */
  stallMs?: number;
}

export interface PushRun {
  /** Resolves when the push ended: an error text, or null when stopped by us. */
  exited: Promise<string | null>;
  stats(): { bytesWritten: number; mediaBytes: number };
  stop(): Promise<void>;
}

export const DEFAULT_STALL_MS = 5000;
const STALL_CHECK_MS = 1000;

/** Connects, publishes, then forwards `subscribe`'s messages until stopped or failed. */
export function startPush(
  hub: MediaHub,
  streamName: string,
  endpoint: RtmpEndpoint,
  options: PushOptions,
): PushRun {
  let stopped = false;
  let mediaBytes = 0;
  let conn: RtmpConnection | null = null;
  let unsubscribe: (() => void) | null = null;
  let stallTimer: NodeJS.Timeout | null = null;
  let settle: (error: string | null) => void = () => undefined;
  const connecting = connectRtmp(endpoint, DESTINATION_LIMITS);

  const exited = new Promise<string | null>((resolve) => {
    let done = false;
    settle = (error) => {
      if (done) return;
      done = true;
      unsubscribe?.();
      unsubscribe = null;
      if (stallTimer) clearInterval(stallTimer);
      stallTimer = null;
      connecting.cancel();
      resolve(stopped ? null : error);
    };
  });

  const run = async () => {
    const c = await connecting.connection;
    conn = c;
    void c.closed.then((reason) => settle(reason ?? 'destination closed the connection'));
    await c.step('RTMP connect', () => c.client.sendConnect());
    const streamId = await c.step('RTMP createStream', () => c.client.sendCreateStream());
    await c.step('RTMP publish', () => c.client.sendPublish(c.streamName));
    if (stopped) return;
    c.client.startHeartbeat();
    const socket = c.socket;
    unsubscribe = hub.subscribe(streamName, {
      deliver: (m) => {
        if (socket.writableLength > options.maxBufferedBytes) {
          settle('destination too slow: output buffer overflow');
          return;
        }
        writeRtmpMessage(socket, m, streamId);
        mediaBytes += m.payload.length;
      },
    });
    // Write progress: what the kernel took (bytesWritten counts what is still queued too).
    let lastDispatched = -1;
    let lastProgressAt = Date.now();
    const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    stallTimer = setInterval(() => {
      const dispatched = socket.bytesWritten - socket.writableLength;
      const now = Date.now();
      if (dispatched !== lastDispatched || socket.writableLength === 0) {
        lastDispatched = dispatched;
        lastProgressAt = now;
      } else if (now - lastProgressAt >= stallMs) {
        settle(
          `destination stopped reading (no write progress for ${Math.round(stallMs / 1000)} s)`,
        );
      }
    }, STALL_CHECK_MS);
  };
  run().catch((err: Error) => settle(err.message || 'connection failed'));

  return {
    exited,
    stats: () => ({ bytesWritten: conn?.socket.bytesWritten ?? 0, mediaBytes }),
    stop: async () => {
      stopped = true;
      settle(null);
      await exited;
    },
  };
}
