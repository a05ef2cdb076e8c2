/**
 * HLS playlists as data, pure: the scratch playlist a packager (ffmpeg's muxer, or the
 * in-process HlsSegmenter) writes in a worker's scratch folder (rendered and parsed), and the playlists Castbridge publishes through the storage driver (rendered),
 * each segment with its EXT-X-PROGRAM-DATE-TIME and each pin as one EXT-X-DATERANGE.
 */

/** A segment of ffmpeg's local playlist. */
export interface LocalSegment {
  /** ffmpeg's media sequence number of the segment. */
  sequence: number;
  /** File name in the scratch folder. */
  name: string;
  durationSeconds: number;
}

export interface LocalPlaylist {
  segments: LocalSegment[];
  /** ffmpeg wrote EXT-X-ENDLIST: it finished (its input ended). */
  ended: boolean;
}

/** Parses the playlist ffmpeg's HLS muxer writes (`index.m3u8` in the scratch folder). */
export function parseLocalPlaylist(text: string): LocalPlaylist {
  let sequence = 0;
  let duration: number | null = null;
  const segments: LocalSegment[] = [];
  let ended = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) sequence = Number(line.slice(22)) || 0;
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#') && duration !== null) {
      segments.push({ sequence, name: line, durationSeconds: duration });
      sequence += 1;
      duration = null;
    }
  }
  return { segments, ended };
}

/**
 * The scratch playlist in the form ffmpeg's HLS muxer writes it (what parseLocalPlaylist
 * reads): the listed segments, numbered from `sequence`; ENDLIST once `ended`.
 */
export function renderLocalPlaylist(spec: {
  sequence: number;
  segments: ReadonlyArray<{ name: string; durationSeconds: number }>;
  targetSeconds: number;
  ended: boolean;
}): string {
  const longest = Math.max(spec.targetSeconds, ...spec.segments.map((s) => s.durationSeconds));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(longest)}`,
    `#EXT-X-MEDIA-SEQUENCE:${spec.sequence}`,
  ];
  for (const s of spec.segments) lines.push(`#EXTINF:${s.durationSeconds.toFixed(6)},`, s.name);
  if (spec.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** A segment as published. */
export interface PublishedSegment {
  /** Its URI in the playlist (a name in the playlist's folder). */
  uri: string;
  durationSeconds: number;
  /** Wall-clock time of its first frame at the ingest (ms since the epoch). */
  startedAt: number;
  /** A new encoder run starts here (a worker took the recording over). */
  discontinuity: boolean;
}

/** A pin as it lies on the timeline. */
export interface PinRange {
  productId: string;
  pinnedAt: number;
  unpinnedAt: number | null;
}

export interface PlaylistSpec {
  /** live: a sliding window; event: a recording under way; vod: a finished recording. */
  type: 'live' | 'event' | 'vod';
  segments: PublishedSegment[];
  /** Media sequence number of the first segment listed. */
  mediaSequence: number;
  pins: PinRange[];
}

export const PIN_CLASS = 'com.castbridge.pin';

const iso = (ms: number) => new Date(ms).toISOString();

/** The DATERANGE id of a pin: stable across rewrites of the playlist. */
export function pinRangeId(p: PinRange): string {
  return `pin-${p.productId}-${p.pinnedAt}`;
}

/**
 * The pins a playlist carries: every pin still open or unpinned after its first
 * segment started (a live window carries the pins its viewers can still reach).
 */
export function pinsInWindow(pins: PinRange[], windowStart: number | null): PinRange[] {
  return pins
    .filter((p) => windowStart === null || p.unpinnedAt === null || p.unpinnedAt >= windowStart)
    .sort((a, b) => a.pinnedAt - b.pinnedAt);
}

export function renderPlaylist(spec: PlaylistSpec): string {
  const { segments } = spec;
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.durationSeconds)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${target}`];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${spec.mediaSequence}`);
  if (spec.type !== 'live') lines.push(`#EXT-X-PLAYLIST-TYPE:${spec.type.toUpperCase()}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const windowStart = spec.type === 'live' ? (segments[0]?.startedAt ?? null) : null;
  const pins = segments.length ? pinsInWindow(spec.pins, windowStart) : [];
  segments.forEach((s, i) => {
    if (s.discontinuity && i > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${iso(s.startedAt)}`);
    // DATERANGE tags follow the first PROGRAM-DATE-TIME (RFC 8216 4.4.5.1).
    if (i === 0) {
      for (const p of pins) {
        const end = p.unpinnedAt !== null ? `,END-DATE="${iso(p.unpinnedAt)}"` : '';
        lines.push(
          `#EXT-X-DATERANGE:ID="${pinRangeId(p)}",CLASS="${PIN_CLASS}",START-DATE="${iso(p.pinnedAt)}"${end},X-PRODUCT-ID="${p.productId}"`,
        );
      }
    }
    lines.push(`#EXTINF:${s.durationSeconds.toFixed(6)},`, s.uri);
  });
  if (spec.type === 'vod') lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Seconds of media in these segments. */
export function totalSeconds(segments: Array<{ durationSeconds: number }>): number {
  return segments.reduce((t, s) => t + s.durationSeconds, 0);
}

/**
 * Where the wall-clock moment `atMs` lies in a recording's own timeline (seconds from its
 * start, as a player seeks): inside the segment that covers it, or at the start of the
 * next one when it falls where nothing was recorded (a worker handover).
 */
export function offsetInRecording(
  segments: ReadonlyArray<{ startedAt: number; durationSeconds: number }>,
  atMs: number,
): number {
  let t = 0;
  for (const s of segments) {
    const end = s.startedAt + s.durationSeconds * 1000;
    if (atMs < s.startedAt) return t;
    if (atMs < end) return t + (atMs - s.startedAt) / 1000;
    t += s.durationSeconds;
  }
  return t;
}
