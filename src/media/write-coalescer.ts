import type { Writable } from 'node:stream';
import { SharedWindow } from './shared-window';

/**
 * Coalesces the writes to many sockets into one system call per socket per window: the
 * first write to a socket in a window corks it, and one timer shared by every socket
 * uncorks them all when the window ends (Node then hands the kernel each socket's batch
 * with one writev).
 *
 * Why: a relay writes each RTMP message as it arrives (about 75 a second for a 30 fps
 * stream with AAC audio), one write(2) per message per destination; on a virtual
 * machine a system call is dear, and with 20 creators × 3 destinations the kernel's
 * part was the largest part of the process's CPU (bench/multistream: 8,200 system calls a
 * second without coalescing, 5,200 with a 50 ms window, and 13 % less CPU). Holding a
 * message for at most `windowMs` (one or two frames) is invisible in a live stream whose
 * ingests and players buffer seconds; the order of messages never changes.
 */
export class WriteCoalescer {
  /** The sockets corked in the current window; uncorked together when it ends. */
  private readonly corked: SharedWindow<Writable>;

  /** `afterFlush` runs once the sockets of a window were uncorked (all of them at once). */
  constructor(
    private readonly windowMs: number,
    afterFlush: (() => void) | null = null,
  ) {
    this.corked = new SharedWindow(windowMs, (out) => out.uncork(), afterFlush);
  }

  /**
   * Puts `out` in the current window (corked until it ends): what is written to it next
   * goes out with the rest of the window. A call, not a callback: this runs for every
   * message to every destination, and a closure each was the media path's largest
   * allocation.
   */
  enter(out: Writable): void {
    if (this.windowMs > 0 && this.corked.add(out)) out.cork();
  }

  /** Ends the window of `out` now (before it is closed or checked). */
  flush(out: Writable): void {
    if (this.corked.remove(out)) out.uncork();
  }

  /** Sockets corked in the current window (for tests). */
  get pending(): number {
    return this.corked.size;
  }
}
