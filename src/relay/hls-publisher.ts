import { Logger } from '@nestjs/common';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseLocalPlaylist,
  PinRange,
  PublishedSegment,
  renderPlaylist,
} from '../media/hls-playlist';
import type { MediaClock } from '../media/media-clock';
import { mediaContentType, MediaStorage } from '../storage/media-storage';

/** How often the scratch playlist is read for new segments. */
export const HLS_PUBLISH_POLL_MS = 200;

export interface PublishedFile extends PublishedSegment {
  /** Storage key. */
  key: string;
  bytes: number;
}

export interface HlsPublishTarget {
  storage: MediaStorage;
  /** Storage folder, ending with `/`. */
  prefix: string;
  type: 'live' | 'recording';
  /** Live: segments kept in the playlist (and in storage). */
  listSize: number;
  /** The session's pins (written as EXT-X-DATERANGE). */
  pins(): Promise<PinRange[]>;
  /** Recordings: what was published by earlier runs (this run continues after them). */
  earlier?: PublishedFile[];
  /** Recordings: a segment is in storage; throwing stops the publisher (fence lost). */
  onSegment?(segment: PublishedFile, sequence: number): Promise<void>;
}

/**
 * Publishes what ffmpeg's HLS muxer writes into a scratch folder of this worker through
 * the storage driver, segment by segment as each one is complete: the segment first, then
 * the playlist (rendered here, with PROGRAM-DATE-TIME from the stream's MediaClock and a
 * DATERANGE per pin). Its local file is deleted once stored.
 */
export class HlsPublisher {
  private readonly log = new Logger(HlsPublisher.name);
  private readonly published: PublishedFile[];
  private readonly firstNew: number;
  /** ffmpeg sequence numbers already published in this run. */
  private doneUpTo = -1;
  /** Seconds of this run's output already published (where the next segment starts). */
  private runSeconds = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private dropped = 0;
  private lastPins: PinRange[] = [];
  /** Live: names are unique per run (players may cache a segment forever). */
  private readonly runTag = Date.now().toString(36);
  private failWith: (message: string) => void = () => undefined;
  /** Resolves with the error when storing fails (the publisher then stops). */
  readonly failed = new Promise<string>((resolve) => (this.failWith = resolve));

  constructor(
    private readonly scratch: string,
    private readonly target: HlsPublishTarget,
    private readonly clock: MediaClock,
  ) {
    this.published = [...(target.earlier ?? [])];
    this.firstNew = this.published.length;
  }

  /** The segments in storage (recordings: all of them). */
  get segments(): readonly PublishedFile[] {
    return this.published;
  }

  /** Bytes stored by this run. */
  get bytes(): number {
    return this.published.slice(this.firstNew).reduce((t, s) => t + s.bytes, 0);
  }

  get error(): Error | null {
    return this.failure;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.step(false));
    }, HLS_PUBLISH_POLL_MS);
  }

  /** Publishes what ffmpeg left (call after it exited) and stops; the last playlist. */
  async finish(final: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
    await this.step(final);
  }

  private async step(final: boolean): Promise<void> {
    if (this.failure) return;
    try {
      let text: string;
      try {
        text = await readFile(join(this.scratch, 'index.m3u8'), 'utf8');
      } catch {
        if (final) await this.writePlaylist(true);
        return; // ffmpeg has written no segment yet
      }
      const local = parseLocalPlaylist(text);
      let changed = false;
      for (const seg of local.segments) {
        if (seg.sequence <= this.doneUpTo) continue;
        await this.publish(seg.name, seg.durationSeconds);
        this.doneUpTo = seg.sequence;
        changed = true;
      }
      if (changed || final) await this.writePlaylist(final);
    } catch (err) {
      this.failure = err as Error;
      this.failWith((err as Error).message);
      this.log.warn(`publishing ${this.target.prefix}: ${(err as Error).message}`);
    }
  }

  private async publish(name: string, durationSeconds: number): Promise<void> {
    const path = join(this.scratch, name);
    const sequence = this.published.length;
    const n = String(sequence).padStart(6, '0');
    const uri = this.target.type === 'live' ? `seg_${this.runTag}_${n}.ts` : `seg_${n}.ts`;
    const key = `${this.target.prefix}${uri}`;
    const startedAt = this.clock.at(this.runSeconds) ?? Date.now();
    this.runSeconds += durationSeconds;
    const bytes = await this.target.storage.putFile(key, path, mediaContentType(uri));
    await rm(path, { force: true });
    const file: PublishedFile = {
      uri,
      key,
      bytes,
      durationSeconds,
      startedAt,
      discontinuity: sequence === this.firstNew && sequence > 0,
    };
    await this.target.onSegment?.(file, sequence);
    this.published.push(file);
    if (this.target.type === 'live') {
      // Keep the window and two more (a player may still fetch them), delete the rest.
      const keep = this.target.listSize + 2;
      while (this.published.length - this.dropped > keep) {
        const old = this.published[this.dropped]!;
        this.dropped += 1;
        await this.target.storage.delete(old.key).catch(() => undefined);
      }
    }
  }

  private async writePlaylist(final: boolean): Promise<void> {
    // Postgres away for a moment: the pins last read (the media must not stop for it).
    const pins = await this.target.pins().then(
      (p) => (this.lastPins = p),
      (err: Error) => {
        this.log.warn(`pins of ${this.target.prefix}: ${err.message}`);
        return this.lastPins;
      },
    );
    const live = this.target.type === 'live';
    const first = live ? Math.max(0, this.published.length - this.target.listSize) : 0;
    const body = renderPlaylist({
      type: live ? 'live' : final ? 'vod' : 'event',
      segments: this.published.slice(first),
      mediaSequence: first,
      pins,
    });
    if (!this.published.length && !final) return;
    await this.target.storage.put(
      `${this.target.prefix}index.m3u8`,
      Buffer.from(body),
      mediaContentType('index.m3u8'),
    );
  }
}
