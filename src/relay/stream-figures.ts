import type { MediaMessage } from '../media/media-hub';
import type { MediaService, MediaSubscription } from '../media/media.service';
import { UNKNOWN_FIGURES, type StreamFigures } from './preflight';
import type { StreamRef } from './relay-transports';

/**
 * The figures of a live stream as this process's hub holds it (the ingest here, or the
 * pull of it from another node), for the pre-flight check of the relays run here:
 *
 * - size, fps and the key-frame interval: what the hub measures (`MediaHub.info`);
 * - the codecs and the audio sample rate: from the sequence headers and the audio tags;
 * - how long the current GOP has lasted (so a 6 s GOP shows as "too long" after 2 s,
 *   not only once its next key frame comes) and the bitrate over the last 10 s: counted
 *   by one subscriber per stream, shared by every relay of it in this process.
 *
 * A stream is watched while a relay run of it holds a handle (refcounted).
 */

export interface FiguresHandle {
  figures(): StreamFigures;
  /** Resolves once the stream's video or audio header was seen, or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  release(): void;
}

/** Bitrate window: the average over the last 10 s, once 5 s have been seen. */
const BITRATE_WINDOW_MS = 10_000;
const BITRATE_MIN_SPAN_MS = 5000;

const AAC_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];
/** FLV SoundRate (2 bits) for formats without a sequence header (MP3…). */
const FLV_SOUND_RATES = [5512, 11025, 22050, 44100];
const AUDIO_FORMATS: Record<number, string> = {
  2: 'mp3',
  10: 'aac',
  11: 'speex',
  14: 'mp3',
  1: 'adpcm',
  3: 'pcm',
  6: 'nellymoser',
};
const VIDEO_CODEC_IDS: Record<number, string> = { 7: 'h264', 12: 'hevc', 13: 'av1' };
const FOURCCS: Record<string, string> = { avc1: 'h264', hvc1: 'hevc', av01: 'av1', vp09: 'vp9' };

/** The codec of an FLV video tag: legacy codec id, or the FourCC of enhanced RTMP. */
export function videoCodecOf(payload: Buffer): string | null {
  if (payload.length < 1) return null;
  const b = payload[0]!;
  if (b & 0x80) {
    if (payload.length < 5) return null;
    const fourcc = payload.subarray(1, 5).toString('latin1');
    return FOURCCS[fourcc] ?? fourcc;
  }
  const id = b & 0x0f;
  return VIDEO_CODEC_IDS[id] ?? `codec ${id}`;
}

/** The audio format of an FLV audio tag. */
export function audioCodecOf(payload: Buffer): string | null {
  if (payload.length < 1) return null;
  const format = payload[0]! >> 4;
  return AUDIO_FORMATS[format] ?? `format ${format}`;
}

/**
 * The sample rate of an FLV audio tag: for AAC, from its sequence header's
 * AudioSpecificConfig (object type: 5 bits, frequency index: 4 bits, or 24 explicit
 * bits); for other formats, the tag's SoundRate.
 */
export function audioSampleRateOf(payload: Buffer, isHeader: boolean): number | null {
  if (payload.length < 1) return null;
  const format = payload[0]! >> 4;
  if (format !== 10) return FLV_SOUND_RATES[(payload[0]! >> 2) & 0x03] ?? null;
  if (!isHeader || payload.length < 4 || payload[1] !== 0) return null;
  let objectType = payload[2]! >> 3;
  let bit = 5;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = payload[2 + (bit >> 3)];
      if (byte === undefined) return -1;
      v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  if (objectType === 31) objectType = 32 + read(6);
  const index = read(4);
  if (index === 15) {
    const explicit = read(24);
    return explicit > 0 ? explicit : null;
  }
  return AAC_RATES[index] ?? null;
}

class Watched {
  refs = 0;
  sub: MediaSubscription | null = null;
  videoCodec: string | null = null;
  audioCodec: string | null = null;
  audioSampleRate: number | null = null;
  keyframeAt: number | null = null;
  lastVideoAt: number | null = null;
  /** Media bytes seen live (not the catch-up a new subscriber is given). */
  bytes = 0;
  live = false;
  samples: Array<{ at: number; bytes: number }> = [];
  headerSeen = false;
  private readonly waiters = new Set<() => void>();

  deliver(m: MediaMessage): void {
    if (this.live) this.bytes += m.payload.length;
    if (m.type === 9) {
      if (m.kind === 'video-header') {
        this.videoCodec = videoCodecOf(m.payload);
        this.seen();
      }
      if (m.kind === 'keyframe' || m.kind === 'frame') {
        // A key frame starts a GOP; time going back (the producer started again) forgets it.
        if (m.kind === 'keyframe') this.keyframeAt = m.timestamp;
        else if (this.keyframeAt !== null && m.timestamp < this.keyframeAt) this.keyframeAt = null;
        this.lastVideoAt = m.timestamp;
      }
    } else if (m.type === 8) {
      const header = m.kind === 'audio-header';
      if (header || this.audioCodec === null) {
        this.audioCodec = audioCodecOf(m.payload);
        this.audioSampleRate = audioSampleRateOf(m.payload, header) ?? this.audioSampleRate;
        this.seen();
      }
    }
  }

  /** How long the current GOP has lasted, in stream time. */
  currentGopMs(): number | null {
    if (this.keyframeAt === null || this.lastVideoAt === null) return null;
    return Math.max(0, this.lastVideoAt - this.keyframeAt);
  }

  bitrateKbps(now: number): number | null {
    const last = this.samples.at(-1);
    if (!last || now - last.at >= 1000) this.samples.push({ at: now, bytes: this.bytes });
    while (this.samples.length > 2 && now - this.samples[1]!.at >= BITRATE_WINDOW_MS) {
      this.samples.shift();
    }
    const first = this.samples[0]!;
    const span = now - first.at;
    if (span < BITRATE_MIN_SPAN_MS) return null;
    return Math.round(((this.bytes - first.bytes) * 8) / span);
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.headerSeen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private seen(): void {
    if (this.headerSeen) return;
    this.headerSeen = true;
    for (const w of [...this.waiters]) w();
  }
}

export class StreamFigureWatch {
  private readonly streams = new Map<string, Watched>();

  constructor(
    private readonly media: MediaService,
    private readonly now: () => number = Date.now,
  ) {}

  watch(stream: StreamRef): FiguresHandle {
    const name = stream.streamName;
    let w = this.streams.get(name);
    if (!w) {
      const watched = new Watched();
      w = watched;
      this.streams.set(name, watched);
      const pullFrom = this.media.hasLocal(name) ? null : stream.ingestNode;
      watched.sub = this.media.subscribe(name, pullFrom, { deliver: (m) => watched.deliver(m) });
      watched.live = true; // what came before this line was the catch-up (cached GOP)
    }
    const held = w;
    held.refs += 1;
    let released = false;
    return {
      figures: () => this.figuresOf(name, held),
      ready: (ms) => held.ready(ms),
      release: () => {
        if (released) return;
        released = true;
        held.refs -= 1;
        if (held.refs === 0 && this.streams.get(name) === held) {
          this.streams.delete(name);
          held.sub?.close();
        }
      },
    };
  }

  private figuresOf(name: string, w: Watched): StreamFigures {
    const info = this.media.hub.info(name);
    if (!info) return { ...UNKNOWN_FIGURES };
    const gop = w.currentGopMs();
    const measured = Math.max(info.keyframeIntervalMs, gop ?? 0);
    return {
      videoCodec:
        w.videoCodec ?? (info.videoCodec ? (VIDEO_CODEC_IDS[info.videoCodec] ?? null) : null),
      audioCodec: w.audioCodec,
      width: info.width || null,
      height: info.height || null,
      fps: info.fps || null,
      keyframeIntervalMs: measured > 0 ? measured : null,
      bitrateKbps: w.bitrateKbps(this.now()),
      audioSampleRate: w.audioSampleRate,
    };
  }
}
