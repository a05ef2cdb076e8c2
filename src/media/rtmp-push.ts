import type { MediaHub } from './media-hub';
import { queuedIn, recycleSlabs, writeRtmpMessage } from './media-hub';
import { connectRtmp, RtmpConnection, RtmpEndpoint } from './rtmp-client';
import { DESTINATION_LIMITS } from './rtmp-protocol';
import { WriteCoalescer } from './write-coalescer';

/**
 * Publishes a hub stream to an RTMP/RTMPS destination from this process: each message is
 * written as it is (header bytes per destination, the payload shared), on the stream id
 * the server gave us, with Nagle off. A destination is dropped (and its relay retried)
 * when it falls too far behind (`maxBufferedBytes` queued) or stops reading, seen from
 * write progress in two ways (see `StallWatch`).
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
/**
 * Longest time a message waits so that writes to a destination are batched (one writev
 * per destination per window instead of one write per message): see WriteCoalescer.
 */
export const PUSH_COALESCE_MS = 50;
const coalescer = new WriteCoalescer(PUSH_COALESCE_MS, recycleSlabs);
export const STALL_CHECK_MS = 1000;
/**
 * The acknowledgement window we ask servers for (RTMP Window Acknowledgement Size): a
 * server acknowledges every 128 KiB it has read, so a server that stopped reading shows
 * within seconds, long before the kernel's send and receive buffers (megabytes) are full.
 */
export const ACK_WINDOW = 128 * 1024;

/**
 * Write progress of one destination socket, sampled every second:
 * - RTMP: once the server has acknowledged anything, an acknowledgement is overdue when
 *   we handed the kernel more than two windows since the last one; overdue for `stallMs`
 *   means the server stopped reading;
 * - TCP: data waits in our buffer and the kernel took nothing for `stallMs` (servers that
 *   never acknowledge, once the kernel's buffers are full).
 */
export class StallWatch {
  private lastDispatched = -1;
  private lastProgressAt: number;
  private acks = 0;
  private dispatchedAtAck = 0;
  private overdueSince: number | null = null;

  constructor(
    private readonly stallMs: number,
    now = Date.now(),
  ) {
    this.lastProgressAt = now;
  }

  /** Returns why the destination is stalled, or null. */
  check(s: { dispatched: number; pending: number; acks: number }, now = Date.now()): string | null {
    if (s.dispatched !== this.lastDispatched || s.pending === 0) {
      this.lastDispatched = s.dispatched;
      this.lastProgressAt = now;
    } else if (now - this.lastProgressAt >= this.stallMs) {
      return `destination stopped reading (no write progress for ${Math.round(this.stallMs / 1000)} s)`;
    }
    if (s.acks !== this.acks) {
      this.acks = s.acks;
      this.dispatchedAtAck = s.dispatched;
      this.overdueSince = null;
    } else if (this.acks > 0 && s.dispatched - this.dispatchedAtAck > 2 * ACK_WINDOW) {
      this.overdueSince ??= now;
      if (now - this.overdueSince >= this.stallMs) {
        return `destination stopped reading (no acknowledgement for ${Math.round(this.stallMs / 1000)} s)`;
      }
    }
    return null;
  }
}

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
      if (conn) coalescer.flush(conn.socket);
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
    c.client.sendWindowACK(ACK_WINDOW);
    const socket = c.socket;
    unsubscribe = hub.subscribe(streamName, {
      deliver: (m) => {
        if (socket.writableLength > options.maxBufferedBytes) {
          settle('destination too slow: output buffer overflow');
          return;
        }
        coalescer.enter(socket);
        writeRtmpMessage(socket, m, streamId);
        mediaBytes += m.payload.length;
      },
      busy: () => queuedIn(socket),
    });
    const watch = new StallWatch(options.stallMs ?? DEFAULT_STALL_MS);
    stallTimer = setInterval(() => {
      // bytesWritten counts what is still queued in Node too: the kernel took the rest.
      const stalled = watch.check({
        dispatched: socket.bytesWritten - socket.writableLength,
        pending: socket.writableLength,
        acks: c.client.acksReceived,
      });
      if (stalled) settle(stalled);
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
