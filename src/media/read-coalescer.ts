import { SharedWindow } from './shared-window';

/** What a read coalescer needs of a socket (net.Socket and tls.TLSSocket have it). */
export interface PausableSocket {
  readonly destroyed: boolean;
  /** Bytes read but not yet emitted (a TLS socket's decrypted records; 0 with onread). */
  readonly readableLength: number;
  pause(): unknown;
  resume(): unknown;
}

/**
 * Batches the reads of publishers' sockets: after a read, a publishing socket is paused,
 * and one timer shared by every socket resumes them together when the window ends (what
 * arrived meanwhile waits in the kernel and is read at once).
 *
 * Why: ffmpeg and OBS write each RTMP chunk as it is ready, so a 30 fps publisher woke
 * the process 40–75 times a second, each wake-up a read, an epoll round and the parser's
 * entry for a few kilobytes; with 20 creators that was the largest part of the process's
 * CPU left after the writes were coalesced (bench/multistream). Resumed together, the
 * sockets are read in one turn of the event loop, one read each. Holding a publisher's
 * bytes for at most `windowMs` is invisible in a live stream whose players buffer
 * seconds, and TCP holds them (a window's worth is well inside a socket's receive buffer).
 * The caller holds a socket only after a read that came up short (a full one may have
 * left more waiting), so a backlog or a high bitrate is read on at once.
 */
export class ReadCoalescer {
  /** The sockets paused in the current window; resumed together when it ends. */
  private readonly paused: SharedWindow<PausableSocket>;

  constructor(private readonly windowMs: number) {
    this.paused = new SharedWindow(windowMs, (s) => {
      if (!s.destroyed) s.resume();
    });
  }

  /**
   * `socket` was just read: nothing more is read from it until the window ends. While
   * it still has chunks buffered (a stream emits them one by one), they are let through
   * first: paused in the middle, it would give one chunk per window.
   */
  hold(socket: PausableSocket): void {
    if (this.windowMs <= 0 || socket.destroyed || socket.readableLength > 0) return;
    if (this.paused.add(socket)) socket.pause();
  }

  /** `socket` closed (or is paused for another reason now): it is not resumed by us. */
  forget(socket: PausableSocket): void {
    this.paused.remove(socket);
  }

  /** Sockets paused in the current window (for tests). */
  get holding(): number {
    return this.paused.size;
  }
}
