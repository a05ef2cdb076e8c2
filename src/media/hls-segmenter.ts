import { open, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { renderLocalPlaylist } from './hls-playlist';
import type { HubSubscriber, MediaMessage } from './media-hub';
import type { MediaClock } from './media-clock';
import {
  parseAacConfig,
  parseAvcConfig,
  TsMuxer,
  type AacConfig,
  type AvcConfig,
} from './mpegts-muxer';

/** More than this waiting to be written to the scratch folder: the disk cannot keep up. */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Audio messages before any H.264 key frame after which the stream is not one this takes. */
const AUDIO_BEFORE_VIDEO_LIMIT = 300;
const FLV_AVC = 7;
const FLV_AAC = 10;

export interface HlsSegmenterOptions {
  /** Cut at the first key frame after this many seconds. */
  segmentSeconds: number;
  /** Segments listed in the scratch playlist (older ones stay on disk for the publisher). */
  listSize: number;
  clock?: MediaClock | null;
}

interface OpenSegment {
  name: string;
  file: Promise<FileHandle>;
  startMs: number;
}

/**
 * Packages a hub stream as HLS, in this process, without re-encoding: H.264 and AAC from
 * the FLV messages into MPEG-TS segments cut at key frames, and the scratch playlist
 * (`index.m3u8`, in the form ffmpeg's HLS muxer writes) rewritten after each segment is
 * complete, for an HlsPublisher to store. A subscriber of the hub: `deliver` never throws
 * and never waits; the file writes run behind it, in order.
 *
 * A stream that is not H.264 (+ AAC) fails it with `unsupported` set: the caller packages
 * that one with ffmpeg instead.
 */
export class HlsSegmenter implements HubSubscriber {
  private video: AvcConfig | null = null;
  private audio: AacConfig | null = null;
  private muxer: TsMuxer | null = null;
  private segment: OpenSegment | null = null;
  private sequence = 0;
  private readonly listed: Array<{ name: string; durationSeconds: number }> = [];
  private firstListed = 0;
  private io: Promise<void> = Promise.resolve();
  private pending = 0;
  private audioBeforeVideo = 0;
  private lastVideoMs = -1;
  private lastFrameMs = 0;
  private closed = false;
  private failure: string | null = null;
  private failWith: (message: string) => void = () => undefined;
  private bytesOut = 0;
  /** Set when the stream is not one this segmenter packages (the caller uses ffmpeg). */
  unsupported = false;
  /** Resolves with the reason when it stops on its own (unsupported stream, disk error). */
  readonly failed = new Promise<string>((resolve) => (this.failWith = resolve));

  constructor(
    private readonly dir: string,
    private readonly options: HlsSegmenterOptions,
  ) {}

  get error(): string | null {
    return this.failure;
  }

  /** Bytes of MPEG-TS written to the scratch folder so far. */
  get bytes(): number {
    return this.bytesOut;
  }

  deliver(m: MediaMessage): void {
    if (this.closed || this.failure) return;
    const p = m.payload;
    switch (m.kind) {
      case 'video-header':
        return this.videoHeader(p);
      case 'audio-header':
        return this.audioHeader(p);
      case 'keyframe':
      case 'frame':
        return m.type === 9 ? this.videoFrame(m, m.kind === 'keyframe') : this.audioFrame(m);
      case 'audio':
        return this.audioFrame(m);
      default:
        return; // metadata and the rest: not in the transport stream
    }
  }

  /** Resolves when what was delivered so far is written (or failed). */
  written(): Promise<void> {
    return this.io;
  }

  /** Ends the input: the segment in progress is completed and the playlist ended. */
  async close(): Promise<void> {
    if (this.closed) return this.io;
    this.closed = true;
    if (this.segment && !this.failure) {
      this.endSegment(this.lastVideoMs + this.lastFrameMs, true);
    } else if (!this.failure) {
      this.queue(() => this.writePlaylist(true));
    }
    await this.io;
  }

  private videoHeader(p: Buffer): void {
    if (p.length < 5 || p[0]! & 0x80 || (p[0]! & 0x0f) !== FLV_AVC) {
      return this.fail('the video is not H.264 (AVC)', true);
    }
    const config = parseAvcConfig(p.subarray(5));
    if (!config) return this.fail('malformed AVC sequence header', true);
    this.video = config;
    this.muxer?.setVideo(config);
  }

  private audioHeader(p: Buffer): void {
    if (p.length < 2 || p[0]! >> 4 !== FLV_AAC) return this.fail('the audio is not AAC', true);
    const config = parseAacConfig(p.subarray(2));
    if (!config) return this.fail('an AAC configuration ADTS cannot carry', true);
    this.audio = config;
    this.muxer?.setAudio(config);
  }

  private videoFrame(m: MediaMessage, key: boolean): void {
    const p = m.payload;
    if (p.length < 5 || p[1] !== 1) return; // end of sequence, or empty
    if (!this.muxer) {
      if (!key) return; // segments start with a key frame
      if (!this.video) return this.fail('H.264 frames before their sequence header', true);
      this.muxer = new TsMuxer({
        video: this.video,
        audio: this.audio,
        onChunk: (chunk) => this.writeChunk(chunk),
      });
      this.startSegment(m.timestamp);
    } else if (key && m.timestamp - this.segment!.startMs >= this.options.segmentSeconds * 1000) {
      this.endSegment(m.timestamp, false);
      this.startSegment(m.timestamp);
    }
    this.options.clock?.observe(m, Date.now());
    if (m.timestamp > this.lastVideoMs) {
      if (this.lastVideoMs >= 0) this.lastFrameMs = m.timestamp - this.lastVideoMs;
      this.lastVideoMs = m.timestamp;
    }
    this.muxer.writeVideo(m.timestamp, p.readIntBE(2, 3), key, p.subarray(5));
  }

  private audioFrame(m: MediaMessage): void {
    const p = m.payload;
    if (p.length < 2) return;
    if (p[0]! >> 4 !== FLV_AAC) return this.fail('the audio is not AAC', true);
    if (p[1] !== 1) return;
    if (!this.muxer) {
      // Audio before the first key frame is dropped; audio alone is for ffmpeg.
      if (++this.audioBeforeVideo > AUDIO_BEFORE_VIDEO_LIMIT && !this.video) {
        this.fail('no H.264 video', true);
      }
      return;
    }
    this.options.clock?.observe(m, Date.now());
    this.muxer.writeAudio(m.timestamp, p.subarray(2));
  }

  private startSegment(atMs: number): void {
    const name = `seg_${String(this.sequence).padStart(6, '0')}.ts`;
    this.sequence += 1;
    const path = join(this.dir, name);
    const file = open(path, 'w');
    file.catch(() => undefined); // failures surface through the write queue
    this.segment = { name, file, startMs: atMs };
    this.muxer!.writeTables();
  }

  private endSegment(endMs: number, final: boolean): void {
    const segment = this.segment!;
    this.muxer!.flush(); // its last chunk goes to this segment
    this.segment = null;
    const seconds = Math.max(0.001, (endMs - segment.startMs) / 1000);
    this.queue(async () => {
      await (await segment.file).close();
      this.listed.push({ name: segment.name, durationSeconds: seconds });
      while (this.listed.length > this.options.listSize) {
        this.listed.shift();
        this.firstListed += 1;
      }
      await this.writePlaylist(final);
    });
  }

  private writeChunk(chunk: Buffer): void {
    const segment = this.segment;
    if (!segment) return;
    this.pending += chunk.length;
    if (this.pending > MAX_PENDING_BYTES) return this.fail('the scratch folder is too slow', false);
    this.queue(async () => {
      const fh = await segment.file;
      let at = 0;
      while (at < chunk.length) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
      this.pending -= chunk.length;
      this.bytesOut += chunk.length;
    });
  }

  private async writePlaylist(final: boolean): Promise<void> {
    const text = renderLocalPlaylist({
      sequence: this.firstListed,
      segments: this.listed,
      targetSeconds: this.options.segmentSeconds,
      ended: final,
    });
    const path = join(this.dir, 'index.m3u8');
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path); // the publisher never reads half a playlist
  }

  private queue(step: () => Promise<void>): void {
    this.io = this.io.then(step).catch((err: Error) => this.fail(err.message, false));
  }

  private fail(reason: string, unsupported: boolean): void {
    if (this.failure) return;
    this.failure = reason;
    this.unsupported = unsupported;
    this.failWith(reason);
    const segment = this.segment;
    this.segment = null;
    if (segment) void segment.file.then((fh) => fh.close()).catch(() => undefined);
  }
}
