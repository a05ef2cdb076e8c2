import { Logger } from '@nestjs/common';
import type { Writable } from 'node:stream';
import { amf } from './nms';
import { PayloadSlab, SlabWriter } from './payload-slabs';
import { ProtocolError, withHeadroom, type WireMedia } from './rtmp-protocol';

/**
 * The process's live streams, by internal name: one producer (an accepted RTMP publish,
 * a pull from another ingest node, an ffmpeg output) and any number of subscribers
 * (pushes to destinations, ffmpeg inputs, relay workers elsewhere playing it).
 *
 * Why not node-media-server's BroadcastServer: it builds an FLV tag and an RTMP message
 * (two copies) of every packet for subscribers that may not exist, keeps a GOP cache
 * bounded only by packet count, and is registered under the stream path a peer named.
 * Here a message is the payload the parser received it into (no copy: for an ingest, a
 * slab that is reused once nothing can read it, see payload-slabs.ts), framed for each
 * subscriber as it is written (RTMP or FLV, header bytes only), and the GOP cache is
 * bounded in bytes (and for an ingest, is the slabs themselves).
 */

export type MediaKind =
  'audio-header' | 'video-header' | 'keyframe' | 'frame' | 'audio' | 'metadata' | 'other';

export interface MediaMessage {
  /** 8 audio, 9 video, 18 data (AMF0). */
  readonly type: number;
  /** Milliseconds (RTMP's 32-bit clock). */
  readonly timestamp: number;
  /** Never modified once published; shared by every subscriber. */
  readonly payload: Buffer;
  readonly kind: MediaKind;
  /**
   * The whole message as RTMP chunks on message stream `streamId`, in one buffer built
   * once and shared by every subscriber on that stream id (destinations almost always
   * give stream id 1); null for another stream id (the caller frames it itself).
   */
  rtmp(streamId: number): Buffer | null;
}

export interface HubSubscriber {
  /**
   * Called synchronously for every message; must not throw (it is dropped if it does).
   * The payload may be reused once `deliver` returned and `busy()` says false: a
   * subscriber keeps it only in the Writable that `busy` watches, or copies it.
   */
  deliver(message: MediaMessage): void;
  /**
   * True while something it was given may still be read: bytes queued in its socket or
   * pipe (corked or not yet taken by the kernel). Without it, the subscriber is taken to
   * be done with every payload when `deliver` returns.
   */
  busy?(): boolean;
}

/** `busy` of a subscriber that queues payloads in `out` (a socket or a pipe). */
export function queuedIn(out: Writable): boolean {
  return !out.destroyed && out.writableLength > 0;
}

export interface StreamInfo {
  videoCodec: number;
  audioCodec: number;
  width: number;
  height: number;
  fps: number;
  /** Bytes of media received from the producer. */
  bytesIn: number;
  /** Time between the last two key frames (ms), measured from the stream; 0 until known. */
  keyframeIntervalMs: number;
  /** Longest key-frame interval seen so far (ms). */
  maxKeyframeIntervalMs: number;
}

/** A GOP larger than this is not cached (late joiners then wait for the next key frame). */
export const MAX_GOP_CACHE_BYTES = 16 * 1024 * 1024;
const MAX_GOP_MESSAGES = 8192;

const FOURCC_AV1 = 0x61763031; // 'av01'
const FOURCC_VP9 = 0x76703039; // 'vp09'
const FOURCC_HEVC = 0x68766331; // 'hvc1'

/**
 * node-media-server's `Flv.parserTag` flags of a message (0 audio sequence header, 1 audio
 * or other frame, 2 video sequence header, 3 key frame, 4 inter frame, 5 metadata, 6 HDR
 * metadata, undefined otherwise), by the same rules (legacy FLV and Enhanced RTMP), read
 * from the first bytes without building its packet object: this runs for every message
 * (an object each was a tenth of what the media path allocated). Where parserTag throws
 * (a video message too short for its own header), this throws too: the connection ends.
 * media-hub.spec.ts checks it agrees with parserTag on every short payload shape.
 */
export function flvFlags(type: number, data: Buffer): number | undefined {
  if (type === 8) {
    const soundFormat = data[0]! >> 4;
    if (soundFormat === 9) return (data[0]! & 0x0f) === 0 ? 0 : 1; // Enhanced RTMP audio
    return soundFormat === 10 && data[1] === 0 ? 0 : 1;
  }
  if (type === 9) {
    const frameType = (data[0]! >> 4) & 0b0111;
    if ((data[0]! & 0x80) === 0) {
      if (data.length < 5) throw new ProtocolError('video message shorter than its header');
      if ((data[0]! & 0x0f) !== 7) return 4; // not H.264: every frame an inter frame
      return data[1] === 0 ? 2 : frameType === 1 ? 3 : 4;
    }
    if (data.length < 5) return undefined;
    const fourCC = data.readUInt32BE(1);
    if (fourCC !== FOURCC_AV1 && fourCC !== FOURCC_VP9 && fourCC !== FOURCC_HEVC) return undefined;
    const packetType = data[0]! & 0x0f;
    if (fourCC === FOURCC_HEVC && packetType === 1 && data.length < 8) {
      throw new ProtocolError('video message shorter than its header');
    }
    if (packetType === 0) return 2;
    if (packetType === 1 || packetType === 3) return frameType === 1 ? 3 : 4;
    return packetType === 4 ? 6 : undefined;
  }
  return type === 18 ? 5 : undefined;
}

function classify(m: WireMedia): MediaKind {
  if (m.payload.length === 0) return 'other';
  switch (flvFlags(m.type, m.payload)) {
    case 0:
      return 'audio-header';
    case 1:
      return m.type === 8 ? 'audio' : 'frame';
    case 2:
      return 'video-header';
    case 3:
      return 'keyframe';
    case 4:
      return 'frame';
    case 5:
      return 'metadata';
    default:
      return 'other';
  }
}

/**
 * How a message becomes RTMP chunks: its header written into the free bytes in front of
 * its payload ('headroom', no copy), the chunks copied into one buffer ('copy': no free
 * bytes, or a message over one chunk), or no shared framing at all ('separate': each
 * subscriber writes a header of its own before the payload; a late joiner's message
 * whose payload is a GOP entry in a slab, where the bytes in front belong to the live
 * message that other sockets may still be sending).
 */
type Framing = 'headroom' | 'copy' | 'separate';

/** A published message: fixed shape (the hot path stays monomorphic), framed lazily. */
class HubMessage implements MediaMessage {
  private framed: Buffer | null = null;
  private framedFor = -1;

  constructor(
    readonly type: number,
    readonly timestamp: number,
    readonly payload: Buffer,
    readonly kind: MediaKind,
    private readonly framing: Framing,
  ) {}

  rtmp(streamId: number): Buffer | null {
    if (this.framing === 'separate') return null;
    if (this.framed) return this.framedFor === streamId ? this.framed : null;
    this.framedFor = streamId;
    this.framed = frameRtmp(this, streamId, this.framing === 'headroom');
    return this.framed;
  }
}

const KINDS: readonly MediaKind[] = [
  'audio-header',
  'video-header',
  'keyframe',
  'frame',
  'audio',
  'metadata',
  'other',
];

/** Fields per message in `GopCache.index`: type, timestamp, kind, where, offset, length. */
const GOP_FIELDS = 6;
/** `where` of a message copied into the cache's own buffer (else: index into `slabs`). */
const OWN = -1;

/**
 * The current GOP (from its key frame on), for subscribers that join mid-stream: by
 * reference when the payload is in a slab (an ingest: see payload-slabs.ts, the slab is
 * held while the GOP lasts), else as a copy in one buffer the stream reuses from one GOP
 * to the next.
 *
 * Why not the live messages themselves: holding them kept every payload alive for up
 * to a GOP (2 s and more), long enough to survive two scavenges, so each one was
 * promoted to the old generation and died there; with 20 creators live that was ~7 MB/s
 * of payload freed only by full mark-compacts (28 % of the process's CPU, or with fewer
 * of them, tens of MB of dead buffers waiting). The index is numbers only.
 */
class GopCache {
  private buf: Buffer | null = null;
  private used = 0;
  private bytesCached = 0;
  private readonly index: number[] = [];
  private readonly slabs: PayloadSlab[] = [];
  private active = false;

  get bytes(): number {
    return this.active ? this.bytesCached : 0;
  }

  get messages(): number {
    return this.active ? this.index.length / GOP_FIELDS : 0;
  }

  /** Starts a new GOP at key frame `m` (whose payload is in `slab`, if any). */
  start(m: MediaMessage, slab: PayloadSlab | null): void {
    this.clear();
    this.active = true;
    this.add(m, slab);
  }

  add(m: MediaMessage, slab: PayloadSlab | null): void {
    if (!this.active) return;
    const len = m.payload.length;
    if (this.bytesCached + len > MAX_GOP_CACHE_BYTES || this.messages >= MAX_GOP_MESSAGES) {
      this.clear(); // too big to cache: late joiners wait for the next key frame
      return;
    }
    let where = OWN;
    let offset = 0;
    if (slab) {
      where = this.slabs.lastIndexOf(slab);
      if (where < 0) {
        slab.hold();
        where = this.slabs.push(slab) - 1;
      }
      offset = m.payload.byteOffset - slab.buf.byteOffset;
    } else {
      if (!this.buf || this.used + len > this.buf.length) {
        const size = Math.min(
          MAX_GOP_CACHE_BYTES,
          Math.max(64 * 1024, Math.ceil((this.used + len) * 1.25)),
        );
        const grown = Buffer.allocUnsafeSlow(size);
        if (this.buf) this.buf.copy(grown, 0, 0, this.used);
        this.buf = grown;
      }
      m.payload.copy(this.buf, this.used);
      offset = this.used;
      this.used += len;
    }
    this.index.push(m.type, m.timestamp, KINDS.indexOf(m.kind), where, offset, len);
    this.bytesCached += len;
  }

  clear(): void {
    this.active = false;
    this.used = 0;
    this.bytesCached = 0;
    this.index.length = 0;
    for (const slab of this.slabs) slab.release();
    this.slabs.length = 0;
  }

  /** Releases the buffer too (the stream ended). */
  reset(): void {
    this.clear();
    this.buf = null;
  }

  /**
   * The cached messages for a late joiner: a GOP entry in a slab as it is (the slab is
   * held by the GOP, then reused only once every subscriber, this one too, is done with
   * it), one in the cache's own buffer (which the next GOP overwrites) as a copy.
   */
  snapshot(): MediaMessage[] {
    const out: MediaMessage[] = [];
    if (!this.active) return out;
    const index = this.index;
    for (let i = 0; i < index.length; i += GOP_FIELDS) {
      const where = index[i + 3]!;
      const offset = index[i + 4]!;
      const len = index[i + 5]!;
      let payload: Buffer;
      if (where === OWN) {
        payload = withHeadroom(len);
        this.buf!.copy(payload, 0, offset, offset + len);
      } else payload = this.slabs[where]!.buf.subarray(offset, offset + len);
      out.push(
        new HubMessage(
          index[i]!,
          index[i + 1]!,
          payload,
          KINDS[index[i + 2]!]!,
          where === OWN ? 'headroom' : 'separate',
        ),
      );
    }
    return out;
  }
}

class HubStream {
  producer: string | null = null;
  metadata: MediaMessage | null = null;
  audioHeader: MediaMessage | null = null;
  videoHeader: MediaMessage | null = null;
  readonly gop = new GopCache();
  lastKeyframeAt = -1;
  readonly subscribers = new Set<HubSubscriber>();
  /** Subscribers gone while still busy: their queued bytes may be in the slabs. */
  readonly departed = new Set<HubSubscriber>();
  /** The producer's payload slabs (an ingest), null otherwise or when it ended. */
  slabs: SlabWriter | null = null;
  info: StreamInfo = HubStream.emptyInfo();

  static emptyInfo(): StreamInfo {
    return {
      videoCodec: 0,
      audioCodec: 0,
      width: 0,
      height: 0,
      fps: 0,
      bytesIn: 0,
      keyframeIntervalMs: 0,
      maxKeyframeIntervalMs: 0,
    };
  }

  reset(): void {
    this.slabs?.close();
    this.slabs = null;
    this.departed.clear();
    this.metadata = this.audioHeader = this.videoHeader = null;
    this.gop.reset();
    this.lastKeyframeAt = -1;
  }
}

/** What a producer holds: write messages into the stream, then end it. */
export interface Publication {
  readonly name: string;
  /** Where a parser receives this stream's payloads (see payload-slabs.ts). */
  readonly payloads: SlabWriter;
  write(message: WireMedia): void;
  end(): void;
}

/** Hubs with slabs waiting for their subscribers to flush. */
const recycling = new Set<MediaHub>();

/**
 * Lets every hub put back the slabs its subscribers are done with: called after a write
 * coalescer flushed its sockets (the one moment they are all uncorked).
 */
export function recycleSlabs(): void {
  for (const hub of recycling) hub.recycle();
}

/** How often the hub checks its subscribers while slabs wait (when no flush says so). */
const RECYCLE_CHECK_MS = 20;

export class MediaHub {
  private readonly log = new Logger(MediaHub.name);
  private readonly streams = new Map<string, HubStream>();
  private readonly waiting = new Set<HubStream>();
  private recycleTimer: NodeJS.Timeout | null = null;

  /** True while `name` has a producer in this process. */
  has(name: string): boolean {
    return !!this.streams.get(name)?.producer;
  }

  /** Producer kind of `name`, or null. */
  producerOf(name: string): string | null {
    return this.streams.get(name)?.producer ?? null;
  }

  info(name: string): StreamInfo | null {
    const s = this.streams.get(name);
    return s?.producer ? { ...s.info } : null;
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * Takes `name` as its producer; null when it has one already. `producer` says what it
   * is (for `producerOf`: only ingest publishes may be played by other nodes).
   */
  publish(name: string, producer: string): Publication | null {
    let s = this.streams.get(name);
    if (s?.producer) return null;
    if (!s) {
      s = new HubStream();
      this.streams.set(name, s);
    }
    const stream = s;
    stream.producer = producer;
    stream.reset();
    stream.info = HubStream.emptyInfo();
    const payloads = new SlabWriter(() => this.wait(stream));
    stream.slabs = payloads;
    let ended = false;
    return {
      name,
      payloads,
      write: (m) => {
        if (!ended) this.dispatch(stream, m);
      },
      end: () => {
        if (ended) return;
        ended = true;
        stream.producer = null;
        stream.reset();
        this.dropIfEmpty(name, stream);
      },
    };
  }

  /**
   * Subscribes to `name` (whether or not it has a producer yet): the cached metadata,
   * sequence headers and current GOP are delivered at once, then live messages.
   */
  subscribe(name: string, subscriber: HubSubscriber): () => void {
    let s = this.streams.get(name);
    if (!s) {
      s = new HubStream();
      this.streams.set(name, s);
    }
    const stream = s;
    const catchUp = [
      stream.metadata,
      stream.audioHeader,
      stream.videoHeader,
      ...stream.gop.snapshot(),
    ];
    stream.subscribers.add(subscriber);
    for (const m of catchUp) {
      if (m && stream.subscribers.has(subscriber)) this.deliverTo(stream, subscriber, m);
    }
    return () => {
      if (stream.subscribers.delete(subscriber)) this.depart(stream, subscriber);
      this.dropIfEmpty(name, stream);
    };
  }

  /**
   * Puts back the slabs of every stream whose subscribers (and those gone while busy)
   * are all done with what they were given; the others wait for the next check.
   */
  recycle(): void {
    for (const stream of this.waiting) {
      const writer = stream.slabs;
      if (writer && !this.anyBusy(stream)) writer.recycle();
      if (!writer || writer.waiting === 0) this.waiting.delete(stream);
    }
    if (this.waiting.size === 0) {
      recycling.delete(this);
      if (this.recycleTimer) clearInterval(this.recycleTimer);
      this.recycleTimer = null;
    }
  }

  private wait(stream: HubStream): void {
    this.waiting.add(stream);
    recycling.add(this);
    if (!this.recycleTimer) {
      this.recycleTimer = setInterval(() => this.recycle(), RECYCLE_CHECK_MS);
      this.recycleTimer.unref();
    }
  }

  private anyBusy(stream: HubStream): boolean {
    for (const sub of stream.departed) {
      if (isBusy(sub)) return true;
      stream.departed.delete(sub);
    }
    for (const sub of stream.subscribers) if (isBusy(sub)) return true;
    return false;
  }

  private depart(stream: HubStream, sub: HubSubscriber): void {
    if (stream.slabs && isBusy(sub)) stream.departed.add(sub);
  }

  private dropIfEmpty(name: string, stream: HubStream): void {
    if (!stream.producer && stream.subscribers.size === 0 && this.streams.get(name) === stream) {
      this.streams.delete(name);
    }
  }

  private dispatch(stream: HubStream, wire: WireMedia): void {
    const kind = classify(wire);
    let slab = wire.slab ?? null;
    let payload = wire.payload;
    let headroom = wire.headroom;
    if (slab && (kind === 'metadata' || kind === 'audio-header' || kind === 'video-header')) {
      // Kept for the whole stream: out of the slab, which is reused.
      payload = withHeadroom(payload.length);
      wire.payload.copy(payload);
      headroom = true;
      slab = null;
    }
    const m = new HubMessage(
      wire.type,
      wire.timestamp,
      payload,
      kind,
      headroom ? 'headroom' : 'copy',
    );
    stream.info.bytesIn += m.payload.length;
    switch (m.kind) {
      case 'metadata':
        stream.metadata = m;
        this.readMetadata(stream, m);
        break;
      case 'audio-header':
        stream.audioHeader = m;
        break;
      case 'video-header':
        stream.videoHeader = m;
        break;
      case 'keyframe':
        if (stream.lastKeyframeAt >= 0 && m.timestamp > stream.lastKeyframeAt) {
          const interval = m.timestamp - stream.lastKeyframeAt;
          stream.info.keyframeIntervalMs = interval;
          stream.info.maxKeyframeIntervalMs = Math.max(stream.info.maxKeyframeIntervalMs, interval);
        }
        stream.lastKeyframeAt = m.timestamp;
        stream.gop.start(m, slab);
        break;
      default:
        stream.gop.add(m, slab);
    }
    for (const sub of stream.subscribers) this.deliverTo(stream, sub, m);
  }

  private deliverTo(stream: HubStream, sub: HubSubscriber, m: MediaMessage): void {
    try {
      sub.deliver(m);
    } catch (err) {
      if (stream.subscribers.delete(sub)) this.depart(stream, sub);
      this.log.warn(`subscriber dropped: ${(err as Error).message}`);
    }
  }

  private readMetadata(stream: HubStream, m: MediaMessage): void {
    try {
      const data = amf.decodeAmf0Data(m.payload);
      const obj = data.dataObj as Record<string, unknown> | undefined;
      if (!obj || typeof obj !== 'object') return;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      const codec = (v: unknown) =>
        typeof v === 'string'
          ? v === 'avc1'
            ? 7
            : v === 'hvc1'
              ? 12
              : v === 'mp4a'
                ? 10
                : 0
          : num(v);
      stream.info.videoCodec = codec(obj.videocodecid);
      stream.info.audioCodec = codec(obj.audiocodecid);
      stream.info.width = num(obj.width);
      stream.info.height = num(obj.height);
      stream.info.fps = num(obj.framerate);
    } catch {
      // Metadata a publisher made up is passed on as it is; it only informs the API.
    }
  }
}

function isBusy(sub: HubSubscriber): boolean {
  try {
    return sub.busy?.() === true;
  } catch {
    return true; // a subscriber that cannot say keeps its slabs from being reused
  }
}

// --- framing for subscribers ------------------------------------------------------------

/** Outgoing chunk size we announce to destinations and relay readers (what NMS uses). */
export const OUT_CHUNK_SIZE = 0xffff;
const CHUNK_STREAM: Record<number, number> = { 8: 4, 9: 5, 18: 6 };

/** The RTMP type-0 header of a message (16 bytes with an extended timestamp). */
function rtmpHeader(
  into: Buffer,
  at: number,
  m: MediaMessage,
  cid: number,
  streamId: number,
): void {
  const extended = m.timestamp >= 0xffffff;
  into[at] = cid;
  into.writeUIntBE(extended ? 0xffffff : m.timestamp, at + 1, 3);
  into.writeUIntBE(m.payload.length, at + 4, 3);
  into[at + 7] = m.type;
  into.writeUInt32LE(streamId >>> 0, at + 8);
  if (extended) into.writeUInt32BE(m.timestamp >>> 0, at + 12);
}

/**
 * The message as RTMP chunks in one buffer. A payload that fits one chunk and has its
 * headroom free (what the parser and the FLV source give) gets its header written in
 * front of it: no copy. Otherwise (a key frame over 64 KiB) the chunks are copied once.
 */
function frameRtmp(m: MediaMessage, streamId: number, headroom: boolean): Buffer {
  const cid = CHUNK_STREAM[m.type] ?? 6;
  const extended = m.timestamp >= 0xffffff;
  const headerLength = extended ? 16 : 12;
  const payload = m.payload;
  if (headroom && payload.length <= OUT_CHUNK_SIZE) {
    const whole = Buffer.from(
      payload.buffer,
      payload.byteOffset - headerLength,
      headerLength + payload.length,
    );
    rtmpHeader(whole, 0, m, cid, streamId);
    return whole;
  }
  const pieces = Math.max(1, Math.ceil(payload.length / OUT_CHUNK_SIZE));
  const sepLength = extended ? 5 : 1;
  const out = Buffer.allocUnsafe(headerLength + payload.length + (pieces - 1) * sepLength);
  rtmpHeader(out, 0, m, cid, streamId);
  let at = headerLength;
  for (let off = 0; off < payload.length; off += OUT_CHUNK_SIZE) {
    if (off > 0) {
      out[at] = 0xc0 | cid;
      if (extended) out.writeUInt32BE(m.timestamp >>> 0, at + 1);
      at += sepLength;
    }
    at += payload.copy(out, at, off, Math.min(payload.length, off + OUT_CHUNK_SIZE));
  }
  return out;
}

/**
 * Writes a message as RTMP chunks on message stream `streamId`: the shared buffer the
 * message framed once for that stream id, or (another id) header bytes of its own and
 * the payload slices of the shared buffer.
 */
export function writeRtmpMessage(out: Writable, m: MediaMessage, streamId: number): void {
  const framed = m.rtmp(streamId);
  if (framed) {
    out.write(framed);
    return;
  }
  const cid = CHUNK_STREAM[m.type] ?? 6;
  const extended = m.timestamp >= 0xffffff;
  const header = Buffer.allocUnsafe(extended ? 16 : 12);
  rtmpHeader(header, 0, m, cid, streamId);
  out.cork();
  out.write(header);
  const payload = m.payload;
  if (payload.length <= OUT_CHUNK_SIZE) {
    if (payload.length) out.write(payload);
  } else {
    const sep = Buffer.allocUnsafe(extended ? 5 : 1);
    sep[0] = 0xc0 | cid;
    if (extended) sep.writeUInt32BE(m.timestamp >>> 0, 1);
    for (let off = 0; off < payload.length; off += OUT_CHUNK_SIZE) {
      if (off > 0) out.write(sep);
      out.write(payload.subarray(off, Math.min(payload.length, off + OUT_CHUNK_SIZE)));
    }
  }
  out.uncork();
}

export const FLV_FILE_HEADER = Buffer.from([
  0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
]);

/** Writes a message as an FLV tag (11-byte tag header, payload, 4-byte back pointer). */
export function writeFlvTag(out: Writable, m: MediaMessage): void {
  const size = m.payload.length;
  const header = Buffer.allocUnsafe(11);
  header[0] = m.type;
  header.writeUIntBE(size, 1, 3);
  header.writeUIntBE(m.timestamp & 0xffffff, 4, 3);
  header[7] = (m.timestamp >>> 24) & 0xff;
  header.writeUIntBE(0, 8, 3);
  const trailer = Buffer.allocUnsafe(4);
  trailer.writeUInt32BE(11 + size, 0);
  out.cork();
  out.write(header);
  if (size) out.write(m.payload);
  out.write(trailer);
  out.uncork();
}
