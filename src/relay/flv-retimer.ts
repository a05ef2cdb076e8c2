import { Transform, type TransformCallback } from 'node:stream';

/**
 * Keeps the timestamps of an encoder's FLV output going forward across restarts of the
 * encoder: each new ffmpeg starts its output near 0, and the destinations pushed from it
 * are still connected, so its tags are shifted to carry on just after the last one sent
 * (`GAP_MS` later). The first run is passed through unchanged.
 *
 * FLV: a 9-byte header and a 4-byte PreviousTagSize0, then tags of an 11-byte header
 * (type, 24-bit data size, 24-bit timestamp + 8 extended bits, 24-bit stream id), the
 * data, and a 4-byte size. Only the timestamp bytes of each tag header are rewritten;
 * the data streams through as it comes.
 */

/** What the retimers of one encoder share across its runs. */
export interface RetimeState {
  /** The latest timestamp written (ms), or -1 before any. */
  lastMs: number;
}

export const GAP_MS = 40;
const FILE_HEADER_BYTES = 9 + 4;
const TAG_HEADER_BYTES = 11;

export class FlvRetimer extends Transform {
  private pending = Buffer.alloc(0);
  private headerLeft = FILE_HEADER_BYTES;
  /** Bytes of the current tag's data (and its trailing size) still to pass through. */
  private bodyLeft = 0;
  private offset: number | null = null;

  constructor(private readonly state: RetimeState) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const out: Buffer[] = [];
    while (buf.length > 0) {
      if (this.headerLeft > 0) {
        const n = Math.min(this.headerLeft, buf.length);
        out.push(buf.subarray(0, n));
        this.headerLeft -= n;
        buf = buf.subarray(n);
      } else if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, buf.length);
        out.push(buf.subarray(0, n));
        this.bodyLeft -= n;
        buf = buf.subarray(n);
      } else if (buf.length < TAG_HEADER_BYTES) {
        this.pending = Buffer.from(buf);
        break;
      } else {
        const header = Buffer.from(buf.subarray(0, TAG_HEADER_BYTES));
        const size = header.readUIntBE(1, 3);
        const ts = (header.readUIntBE(4, 3) | (header[7]! << 24)) >>> 0;
        const shifted = this.shift(ts);
        header.writeUIntBE(shifted & 0xffffff, 4, 3);
        header[7] = (shifted >>> 24) & 0xff;
        out.push(header);
        this.bodyLeft = size + 4;
        buf = buf.subarray(TAG_HEADER_BYTES);
      }
    }
    done(null, out.length === 1 ? out[0] : Buffer.concat(out));
  }

  private shift(ts: number): number {
    if (this.offset === null) {
      // The first tag of this run: carry on after what the previous run wrote.
      const last = this.state.lastMs;
      this.offset = last < 0 ? 0 : Math.max(0, last + GAP_MS - ts);
    }
    const shifted = (ts + this.offset) >>> 0;
    if (shifted > this.state.lastMs) this.state.lastMs = shifted;
    return shifted;
  }
}
