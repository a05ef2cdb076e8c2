/**
 * An MPEG transport stream (ISO/IEC 13818-1) muxer for what an RTMP stream carries:
 * H.264 in AVCC form (FLV's AVCPacketType 1 payloads) and raw AAC frames, written as
 * 188-byte packets into chunk buffers handed out when full. No re-encode and no per-packet
 * allocation: a frame is copied once, straight into its packets, as Annex B (an AUD,
 * SPS/PPS before key frames, start codes in place of the length prefixes).
 *
 * Why not a library: ffmpeg costs a process per recording (bench/recording: +8–13 % of a
 * core, 14–41 MB), and mediabunny 1.61's MpegTsOutputFormat, the well-kept JS muxer,
 * took 3.9 % of a core per 3 Mbps stream (a promise and a bit writer per packet) and holds
 * a whole GOP to infer decode times, which FLV already gives. Its packets are checked in
 * mpegts-muxer.spec.ts, and its output by ffprobe and ffmpeg's decoder (every frame, no
 * warning) in test/integration/hls-segmenter.spec.ts and the recording e2e tests.
 */

export const TS_PACKET = 188;
const PAT_PID = 0x0000;
const PMT_PID = 0x1000;
export const VIDEO_PID = 0x0100;
export const AUDIO_PID = 0x0101;
/** 90 kHz clock; timestamps wrap at 2^33. */
const TS_CLOCK_WRAP = 2 ** 33;
/** Presentation starts this far in (ffmpeg's default mux delay), so that PTS − CTS ≥ 0. */
const TIME_OFFSET_90K = 126_000;

const AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const START_CODE = Buffer.from([0, 0, 0, 1]);

/** The parameter sets of an AVCDecoderConfigurationRecord (FLV's AVC sequence header). */
export interface AvcConfig {
  /** Bytes of each NAL unit's length prefix (1, 2 or 4). */
  lengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
}

/** ISO/IEC 14496-15 5.2.4.1; null when it is not one. */
export function parseAvcConfig(record: Buffer): AvcConfig | null {
  if (record.length < 7 || record[0] !== 1) return null;
  const lengthSize = (record[4]! & 0x03) + 1;
  if (lengthSize === 3) return null;
  let o = 5;
  const read = (count: number, into: Buffer[]): boolean => {
    for (let i = 0; i < count; i++) {
      if (o + 2 > record.length) return false;
      const len = record.readUInt16BE(o);
      o += 2;
      if (o + len > record.length || len === 0) return false;
      into.push(Buffer.from(record.subarray(o, o + len)));
      o += len;
    }
    return true;
  };
  const sps: Buffer[] = [];
  const pps: Buffer[] = [];
  if (!read(record[o++]! & 0x1f, sps)) return null;
  if (o >= record.length || !read(record[o++]!, pps)) return null;
  if (!sps.length || !pps.length) return null;
  return { lengthSize, sps, pps };
}

/** The ADTS header fields of an AudioSpecificConfig (FLV's AAC sequence header). */
export interface AacConfig {
  /** ADTS profile: audio object type − 1 (0 Main, 1 LC, 2 SSR, 3 LTP). */
  profile: number;
  frequencyIndex: number;
  channels: number;
}

/** ISO/IEC 14496-3 1.6.2.1; null when ADTS cannot carry it. */
export function parseAacConfig(asc: Buffer): AacConfig | null {
  if (asc.length < 2) return null;
  let objectType = asc[0]! >> 3;
  const frequencyIndex = ((asc[0]! & 0x07) << 1) | (asc[1]! >> 7);
  const channels = (asc[1]! >> 3) & 0x0f;
  if (frequencyIndex > 12 || channels === 0 || channels > 7) return null;
  // HE-AAC (SBR 5, PS 29) signalled explicitly: ADTS carries the core, LC; the decoder
  // finds the extension in the stream.
  if (objectType === 5 || objectType === 29) objectType = 2;
  if (objectType < 1 || objectType > 4) return null;
  return { profile: objectType - 1, frequencyIndex, channels };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 of a PSI section. */
export function crc32Mpeg(data: Buffer): number {
  let crc = 0xffffffff;
  for (const b of data) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** A PSI section (table id … last section number, then its body), with length and CRC. */
function psiSection(tableId: number, idExt: number, body: number[]): Buffer {
  const head = [tableId, 0, 0, idExt >> 8, idExt & 0xff, 0xc1, 0x00, 0x00];
  const section = Buffer.from([...head, ...body, 0, 0, 0, 0]);
  const length = section.length - 3; // after the length field, CRC included
  section[1] = 0xb0 | (length >> 8);
  section[2] = length & 0xff;
  section.writeUInt32BE(crc32Mpeg(section.subarray(0, section.length - 4)), section.length - 4);
  return section;
}

function encodeTimestamp(out: Buffer, o: number, prefix: number, t: number): void {
  const hi = Math.floor(t / 2 ** 30) & 0x07; // bits 32..30
  const lo = t % 2 ** 30;
  out[o] = (prefix << 4) | (hi << 1) | 1;
  out[o + 1] = (lo >>> 22) & 0xff;
  out[o + 2] = (((lo >>> 15) & 0x7f) << 1) | 1;
  out[o + 3] = (lo >>> 7) & 0xff;
  out[o + 4] = ((lo & 0x7f) << 1) | 1;
}

const wrap90k = (ms: number) => (Math.round(ms * 90) + TIME_OFFSET_90K) % TS_CLOCK_WRAP;

export interface TsMuxerOptions {
  video: AvcConfig | null;
  audio: AacConfig | null;
  /** Size of the buffers handed to `onChunk` (a multiple of 188 is used). */
  chunkBytes?: number;
  /** A full (or flushed) chunk: the muxer no longer touches it. */
  onChunk(chunk: Buffer): void;
}

export class TsMuxer {
  private readonly chunkBytes: number;
  private chunk: Buffer;
  private used = 0;
  private readonly cc = new Map<number, number>();
  private readonly pat: Buffer;
  private readonly pmt: Buffer;
  /** The pieces of the PES payload being written (views, not copies). */
  private readonly pieces: Buffer[] = [];
  private readonly adts = Buffer.alloc(7);
  /** PES header bytes (at most 19). */
  private readonly pesHeader = Buffer.alloc(19);

  private video: AvcConfig | null;
  private audio: AacConfig | null;

  constructor(private readonly options: TsMuxerOptions) {
    if (!options.video && !options.audio) throw new Error('a transport stream needs a track');
    this.video = options.video;
    this.audio = options.audio;
    this.chunkBytes =
      Math.max(1, Math.floor((options.chunkBytes ?? 64 * 1024) / TS_PACKET)) * TS_PACKET;
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    const pcrPid = options.video ? VIDEO_PID : AUDIO_PID;
    const streams: number[] = [];
    if (options.video) streams.push(0x1b, 0xe0 | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0xf0, 0x00);
    if (options.audio) streams.push(0x0f, 0xe0 | (AUDIO_PID >> 8), AUDIO_PID & 0xff, 0xf0, 0x00);
    this.pat = psiSection(0x00, 1, [0x00, 0x01, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff]);
    this.pmt = psiSection(0x02, 1, [0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00, ...streams]);
  }

  /** New parameter sets (a new sequence header mid-stream), for the next key frames. */
  setVideo(config: AvcConfig): void {
    if (this.video) this.video = config;
  }

  /** A new AAC configuration; ignored when the PMT has no audio track. */
  setAudio(config: AacConfig): void {
    if (this.audio) this.audio = config;
  }

  /** PAT and PMT: at the start of every segment, so that each one plays on its own. */
  writeTables(): void {
    this.writeSection(PAT_PID, this.pat);
    this.writeSection(PMT_PID, this.pmt);
  }

  /**
   * One H.264 access unit: `nalus` is FLV's AVCC payload (after the 5-byte video tag
   * header), `dtsMs` the tag's timestamp and `ctsMs` its composition time offset.
   * Returns false for a malformed payload (nothing written).
   */
  writeVideo(dtsMs: number, ctsMs: number, key: boolean, nalus: Buffer): boolean {
    const config = this.video;
    if (!config) return false;
    const size = config.lengthSize;
    // Annex B: an AUD, the parameter sets before a key frame, each NAL unit after a start
    // code (the stream's own AUDs dropped). Checked whole before anything is written.
    const pieces = this.pieces;
    pieces.length = 0;
    pieces.push(AUD);
    if (key) {
      for (const p of config.sps) pieces.push(START_CODE, p);
      for (const p of config.pps) pieces.push(START_CODE, p);
    }
    for (let o = 0; o < nalus.length;) {
      if (o + size > nalus.length) return false;
      const len = nalus.readUIntBE(o, size);
      if (len === 0 || o + size + len > nalus.length) return false;
      if ((nalus[o + size]! & 0x1f) !== 9) {
        pieces.push(START_CODE, nalus.subarray(o + size, o + size + len));
      }
      o += size + len;
    }
    const dts = wrap90k(dtsMs);
    const pts = wrap90k(dtsMs + ctsMs);
    this.writePes(VIDEO_PID, 0xe0, pts, ctsMs !== 0 ? dts : null, pieces, key, dts);
    return true;
  }

  /** One raw AAC frame (FLV's AACPacketType 1 payload, after the 2-byte audio tag header). */
  writeAudio(ptsMs: number, frame: Buffer): boolean {
    const config = this.audio;
    if (!config || frame.length === 0 || frame.length + 7 > 0x1fff) return false;
    const len = frame.length + 7;
    const a = this.adts;
    a[0] = 0xff;
    a[1] = 0xf1; // MPEG-4, layer 0, no CRC
    a[2] = (config.profile << 6) | (config.frequencyIndex << 2) | (config.channels >> 2);
    a[3] = ((config.channels & 0x03) << 6) | (len >> 11);
    a[4] = (len >> 3) & 0xff;
    a[5] = ((len & 0x07) << 5) | 0x1f;
    a[6] = 0xfc;
    const pieces = this.pieces;
    pieces.length = 0;
    pieces.push(a, frame);
    const pts = wrap90k(ptsMs);
    const pcr = this.video ? null : pts;
    this.writePes(AUDIO_PID, 0xc0, pts, null, pieces, false, pcr);
    return true;
  }

  /** Hands out what is buffered (a segment ends). */
  flush(): void {
    if (this.used === 0) return;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
    this.options.onChunk(full);
  }

  private packet(): Buffer {
    if (this.used === this.chunkBytes) this.flush();
    const p = this.chunk.subarray(this.used, this.used + TS_PACKET);
    this.used += TS_PACKET;
    return p;
  }

  private nextCc(pid: number): number {
    const c = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (c + 1) & 0x0f);
    return c;
  }

  private writeSection(pid: number, section: Buffer): void {
    const p = this.packet();
    p[0] = 0x47;
    p[1] = 0x40 | (pid >> 8);
    p[2] = pid & 0xff;
    p[3] = 0x10 | this.nextCc(pid);
    p[4] = 0; // pointer field
    section.copy(p, 5);
    p.fill(0xff, 5 + section.length);
  }

  private writePes(
    pid: number,
    streamId: number,
    pts: number,
    dts: number | null,
    pieces: readonly Buffer[],
    randomAccess: boolean,
    pcr: number | null,
  ): void {
    let total = 0;
    for (const piece of pieces) total += piece.length;
    const h = this.pesHeader;
    const headerData = dts === null ? 5 : 10;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = streamId;
    const pesLength = 3 + headerData + total;
    // Video PES may be unbounded (0); audio ones always fit.
    h.writeUInt16BE(streamId === 0xe0 || pesLength > 0xffff ? 0 : pesLength, 4);
    h[6] = streamId === 0xe0 ? 0x84 : 0x80; // data alignment on video access units
    h[7] = dts === null ? 0x80 : 0xc0;
    h[8] = headerData;
    encodeTimestamp(h, 9, dts === null ? 0x2 : 0x3, pts);
    if (dts !== null) encodeTimestamp(h, 14, 0x1, dts);
    const headerLength = 9 + headerData;

    let sent = -headerLength; // bytes of payload written; negative while in the PES header
    let first = true;
    let piece = 0; // the piece being copied, and the bytes of it already copied
    let pieceAt = 0;
    while (sent < total) {
      const p = this.packet();
      p[0] = 0x47;
      p[1] = (first ? 0x40 : 0) | (pid >> 8);
      p[2] = pid & 0xff;
      // The adaptation field: PCR and the random access flag on the first packet.
      let adaptation = 0; // its bytes after the length byte
      let flags = 0;
      if (first) {
        if (randomAccess) flags |= 0x40;
        if (pcr !== null) flags |= 0x10;
        if (flags) adaptation = 1 + (pcr !== null ? 6 : 0);
      }
      const left = total - sent; // header remainder counts as payload here
      const room = TS_PACKET - 4 - (adaptation ? 1 + adaptation : 0);
      // Short of a full packet: the adaptation field is stuffed so that the packet ends
      // with the payload (without one before, its length byte alone is 1 byte of it).
      const stuffing = left < room ? room - left : 0;
      const hasAdaptation = adaptation > 0 || stuffing > 0;
      p[3] = (hasAdaptation ? 0x30 : 0x10) | this.nextCc(pid);
      let w = 4;
      if (hasAdaptation) {
        const afLength = adaptation ? adaptation + stuffing : stuffing - 1;
        p[w++] = afLength;
        if (afLength > 0) {
          p[w++] = flags;
          if (flags & 0x10) {
            // PCR: the 33-bit base, 6 reserved bits, a 9-bit extension of 0.
            p[w++] = Math.floor(pcr! / 2 ** 25) & 0xff;
            p[w++] = (pcr! >>> 17) & 0xff;
            p[w++] = (pcr! >>> 9) & 0xff;
            p[w++] = (pcr! >>> 1) & 0xff;
            p[w++] = ((pcr! & 1) << 7) | 0x7e;
            p[w++] = 0x00;
          }
          const end = 5 + afLength;
          p.fill(0xff, w, end);
          w = end;
        }
      }
      // Payload: the rest of the PES header, then the frame.
      let n = TS_PACKET - w;
      if (sent < 0) {
        const fromHeader = Math.min(-sent, n);
        h.copy(p, w, headerLength + sent, headerLength + sent + fromHeader);
        w += fromHeader;
        sent += fromHeader;
        n -= fromHeader;
      }
      while (n > 0) {
        const from = pieces[piece]!;
        const copied = from.copy(p, w, pieceAt, Math.min(from.length, pieceAt + n));
        w += copied;
        n -= copied;
        sent += copied;
        pieceAt += copied;
        if (pieceAt === from.length) {
          piece += 1;
          pieceAt = 0;
        }
      }
      first = false;
    }
  }
}
