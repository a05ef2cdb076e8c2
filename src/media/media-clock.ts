import type { MediaMessage } from './media-hub';

/**
 * When the frames of a stream were at the ingest, in wall-clock time: the offset between
 * the publisher's timestamps and the clock, the smallest `arrival − timestamp` seen
 * (messages from the GOP cache arrive late, live ones on time; none arrives early), and
 * the timestamp of the first media message fed to a packager (where its output starts).
 */
export class MediaClock {
  private offset: number | null = null;
  private first: number | null = null;

  observe(m: Pick<MediaMessage, 'timestamp' | 'kind'>, arrivalMs: number): void {
    // Sequence headers and metadata keep the time they were first sent (a late joiner
    // gets them first, stamped at the start of the stream): not media on the timeline.
    if (m.kind !== 'keyframe' && m.kind !== 'frame' && m.kind !== 'audio') return;
    const o = arrivalMs - m.timestamp;
    if (this.offset === null || o < this.offset) this.offset = o;
    this.first ??= m.timestamp;
  }

  /** Wall-clock ms of the moment `seconds` into the packager's output; null before media. */
  at(seconds: number): number | null {
    if (this.offset === null || this.first === null) return null;
    return Math.round(this.offset + this.first + seconds * 1000);
  }
}
