import { HEADROOM } from './rtmp-protocol';

/**
 * Where an ingest's media payloads are received: fixed-size slabs that are used again,
 * instead of one fresh buffer per message.
 *
 * Why: a buffer per message (about 75 a second per stream) lives for a few milliseconds
 * and then waits for the next scavenge; at 20 creators that was ~20 MB of dead payload
 * at any moment, on top of a copy of every GOP for late joiners. Received into slabs,
 * the GOP cache is the slabs themselves (no copy) and the memory of a stream is what its
 * current GOP holds, used again from one GOP to the next.
 *
 * A slab is reused only when nothing can still read it:
 * - its holds (`refs`) are gone: the writer allocating from it, each message being
 *   received into it (released once the hub has dispatched it), each GOP-cache entry;
 * - and then (`retired`) every subscriber of the stream said it holds no payload any
 *   more (`HubSubscriber.busy`: its socket flushed). The hub checks that after each
 *   write-coalescer flush and on a short timer.
 * Anything else is never put back: a slab left held (a message a peer never finished, a
 * stream that ended, a subscriber that stays busy) is simply left to the garbage
 * collector, as a per-message buffer would be.
 */

/** Bytes per pooled slab; a larger message gets a slab of its own (never pooled). */
export const SLAB_BYTES = 128 * 1024;
/**
 * Free slabs are kept for reuse across streams up to this many (128 MB), and trimmed to
 * what was used: every TRIM_MS, the slabs that stayed free the whole time are dropped.
 * (Streams that started together retire their GOPs together: the pool must hold a burst
 * of them until their next GOPs take them again.)
 */
const MAX_FREE_SLABS = 1024;
const TRIM_MS = 10_000;
/** Retired slabs a stream keeps waiting for its subscribers (8 MB); older ones are dropped. */
const MAX_RETIRED_SLABS = 64;

const free: Buffer[] = [];
/** The fewest slabs free since the last trim. */
let lowWater = 0;
let trimTimer: NodeJS.Timeout | null = null;

function takeFree(): Buffer | undefined {
  const buf = free.pop();
  if (free.length < lowWater) lowWater = free.length;
  return buf;
}

function giveFree(buf: Buffer): void {
  if (free.length >= MAX_FREE_SLABS) return;
  free.push(buf);
  if (!trimTimer) {
    lowWater = free.length;
    trimTimer = setInterval(trim, TRIM_MS);
    trimTimer.unref();
  }
}

/** Drops the slabs nobody needed since the last trim. */
function trim(): void {
  free.splice(0, lowWater);
  lowWater = free.length;
  if (free.length === 0 && trimTimer) {
    clearInterval(trimTimer);
    trimTimer = null;
  }
}

/** Figures of the process's slabs (for tests and benchmarks). */
export const slabFigures = {
  allocated: 0,
  reused: 0,
  get free(): number {
    return free.length;
  },
};

export class PayloadSlab {
  /** Bytes handed out so far. */
  used = 0;
  /**
   * Holders (see the file comment): a pooled slab starts held by its writer (until the
   * writer moves on to the next one), a slab of one message by nobody until it is cut.
   */
  refs: number;

  constructor(
    readonly buf: Buffer,
    readonly pooled: boolean,
    private readonly writer: SlabWriter,
  ) {
    this.refs = pooled ? 1 : 0;
  }

  /** True when `length` more payload bytes (with headroom) fit. */
  fits(length: number): boolean {
    return this.used + HEADROOM + length <= this.buf.length;
  }

  /** The next `length` bytes (HEADROOM free bytes in front), held for the message. */
  cut(length: number): Buffer {
    const at = this.used + HEADROOM;
    this.used = at + length;
    this.refs += 1;
    return this.buf.subarray(at, at + length);
  }

  hold(): void {
    this.refs += 1;
  }

  release(): void {
    if (this.refs <= 0) throw new Error('payload slab released more often than held');
    this.refs -= 1;
    if (this.refs === 0) this.writer.retire(this);
  }
}

/** The slabs of one publication: allocates payloads, keeps retired slabs until recycled. */
export class SlabWriter {
  private current: PayloadSlab | null = null;
  private readonly retired: PayloadSlab[] = [];
  private closed = false;

  /** `onRetired` is called when a slab starts waiting for the subscribers. */
  constructor(private readonly onRetired: () => void) {}

  /** Retired slabs waiting (for tests). */
  get waiting(): number {
    return this.retired.length;
  }

  /**
   * The slab the next payload of `length` bytes goes in: `cut(length)` it for the
   * message (that holds the slab once: `release()` it once the message is handled).
   * Two steps rather than one call returning both, so that receiving a message
   * allocates nothing but the payload's view (this runs for every message).
   */
  slabFor(length: number): PayloadSlab {
    if (this.closed || HEADROOM + length > SLAB_BYTES) {
      return new PayloadSlab(Buffer.allocUnsafeSlow(HEADROOM + length), false, this);
    }
    const slab = this.current;
    if (slab && slab.fits(length)) return slab;
    const reused = takeFree();
    if (reused) slabFigures.reused += 1;
    else slabFigures.allocated += 1;
    this.current = new PayloadSlab(reused ?? Buffer.allocUnsafeSlow(SLAB_BYTES), true, this);
    slab?.release(); // the writer's own hold
    return this.current;
  }

  /** Called by a slab when its last hold is released. */
  retire(slab: PayloadSlab): void {
    if (this.closed || !slab.pooled) return;
    this.retired.push(slab);
    if (this.retired.length > MAX_RETIRED_SLABS) this.retired.shift();
    if (this.retired.length === 1) this.onRetired();
  }

  /** Every subscriber is done with what it was given: the retired slabs are free again. */
  recycle(): void {
    for (const slab of this.retired) {
      giveFree(slab.buf);
    }
    this.retired.length = 0;
  }

  /** The publication ended: nothing of it is reused (a subscriber may still be sending). */
  close(): void {
    this.closed = true;
    this.current = null;
    this.retired.length = 0;
  }
}
