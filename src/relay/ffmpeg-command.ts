import type { Aspect } from '../destinations/destination-presets';
import type { Fit } from '../destinations/destination.entity';

/**
 * ffmpeg commands as plain data. Pure functions, no I/O: the relay decides what to run,
 * the FfmpegRunner adapter runs it. Tests assert the exact argument lists.
 */

/** A video encode, as output-plan.ts resolves it from the preset, profile and ingest. */
export interface VideoEncode {
  /** Into a frame of another aspect (crop, pad or blur), or null. */
  frame: { width: number; height: number; fit: Fit; aspect: Aspect } | null;
  /**
   * Scaled down to fit within this box (never up), the aspect kept; only a maxHeight:
   * the height capped (what custom profiles always did). null: the size is kept.
   */
  scale: { maxWidth: number | null; maxHeight: number } | null;
  fps: number | null;
  bitrateKbps: number | null;
  /** CBR: -b:v = -minrate = -maxrate, a one-second buffer, HRD signalling. */
  constantBitrate: boolean;
  keyframeSeconds: number;
}

export interface AudioEncode {
  bitrateKbps: number;
  sampleRate: number;
}

/** What an encode does to each part: copy it, encode it, or drop the video. */
export interface OutputSpec {
  video: 'copy' | 'none' | VideoEncode;
  audio: 'copy' | AudioEncode;
}

export type RelayOutput =
  /**
   * FLV on ffmpeg's stdout, pushed to the destination by the worker's own RTMP client
   * (the same as passthrough): ffmpeg never sees the push URL or its key, never resolves
   * the destination's host itself (the egress guard does, at connect time), and RTMPS is
   * verified by Node's TLS.
   */
  | { kind: 'flv-stdout' }
  /**
   * HLS into the scratch folder `dir` (index.m3u8 + segments), published from there by
   * the HlsPublisher. `keepSegments`: ffmpeg deletes none (the publisher deletes each
   * one once stored; recordings).
   */
  | {
      kind: 'hls';
      dir: string;
      segmentSeconds?: number;
      listSize?: number;
      keepSegments?: boolean;
    };

/**
 * The input is always FLV on ffmpeg's stdin, written by the relay from the in-process
 * stream: ffmpeg never connects to the ingest, and it ends at EOF if its worker dies.
 */
export interface RelayCommandSpec {
  output: RelayOutput;
  /** null: stream copy. */
  encode: OutputSpec | null;
  /**
   * Probe the input for up to a second of media instead of the first 4 KB: for streams
   * without sequence headers first (MP3 audio has none), whose later tracks the small
   * probe misses. Costs start-up time; recordings, not live outputs, use it.
   */
  thoroughProbe?: boolean;
}

export interface FfmpegCommand {
  args: string[];
}

/** Key frames every 2 s, as platforms ask, whatever the fps (when the preset names none). */
export const KEYFRAME_SECONDS = 2;

const GLOBAL = [
  '-hide_banner',
  '-nostdin',
  '-loglevel',
  'error',
  // Progress on fd 3: stdout carries the FLV output.
  '-progress',
  'pipe:3',
  '-stats_period',
  '0.5',
];

// Live FLV from stdin. A small probe is enough: FLV names its streams in the header and
// the sequence headers arrive first. Not `-fflags nobuffer`: measured here, it drops the
// GOP's key frame and the sink waits ~2 s longer for video.
// A thorough probe (recordings) reads up to 2 MB or 1 s of media instead.
const inputArgs = (thorough: boolean) => [
  ...(thorough
    ? ['-probesize', '2000000', '-analyzeduration', '1000000']
    : ['-probesize', '4096', '-analyzeduration', '0']),
  ...['-f', 'flv', '-i', 'pipe:0'],
];

/** `9/16` for ffmpeg's expressions. */
const ratioExpr = (aspect: Aspect) => aspect.replace(':', '/');

/**
 * The filter graph of a video encode. Frame changes: `crop` takes the middle of the
 * picture at the frame's aspect and scales it to the frame; `pad` scales the picture to
 * fit and centres it on black; `blur` puts the fitted picture over a copy of itself scaled
 * to fill, blurred (at a quarter of the size: the same look for a sixteenth of the work).
 */
export function videoFilters(v: VideoEncode): string | null {
  const fps = v.fps !== null ? `fps=${v.fps}` : null;
  if (v.frame) {
    const { width: W, height: H, fit, aspect } = v.frame;
    const fitted = `scale=${W}:${H}:force_original_aspect_ratio=decrease:force_divisible_by=2`;
    let graph: string;
    if (fit === 'crop') {
      const r = ratioExpr(aspect);
      graph = `crop='trunc(min(iw,ih*${r})/2)*2':'trunc(min(ih,iw/(${r}))/2)*2',scale=${W}:${H},setsar=1`;
    } else if (fit === 'pad') {
      graph = `${fitted},pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
    } else {
      const [w4, h4] = [Math.max(2, Math.round(W / 8) * 2), Math.max(2, Math.round(H / 8) * 2)];
      graph =
        `split[bg][fg];` +
        `[bg]scale=${w4}:${h4}:force_original_aspect_ratio=increase,crop=${w4}:${h4},boxblur=8:2,scale=${W}:${H}[blurred];` +
        `[fg]${fitted}[fitted];` +
        `[blurred][fitted]overlay=(W-w)/2:(H-h)/2,setsar=1`;
    }
    return fps ? `${fps},${graph}` : graph;
  }
  const filters: string[] = [];
  if (v.scale) {
    const { maxWidth, maxHeight } = v.scale;
    // Never upscale; keep the width even for yuv420p.
    filters.push(
      maxWidth === null
        ? `scale=-2:'min(ih,${maxHeight})'`
        : `scale='min(iw,${maxWidth})':'min(ih,${maxHeight})':force_original_aspect_ratio=decrease:force_divisible_by=2`,
    );
  }
  if (fps) filters.push(fps);
  return filters.length ? filters.join(',') : null;
}

function videoArgs(v: VideoEncode): string[] {
  const args = [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
  ];
  const filters = videoFilters(v);
  if (filters) args.push('-vf', filters);
  if (v.bitrateKbps !== null) {
    const b = v.bitrateKbps;
    if (v.constantBitrate) {
      args.push('-b:v', `${b}k`, '-minrate', `${b}k`, '-maxrate', `${b}k`, '-bufsize', `${b}k`);
      args.push('-nal-hrd', 'cbr');
    } else {
      args.push('-b:v', `${b}k`, '-maxrate', `${b}k`, '-bufsize', `${b * 2}k`);
    }
  }
  args.push('-force_key_frames', `expr:gte(t,n_forced*${v.keyframeSeconds})`, '-sc_threshold', '0');
  return args;
}

/** Codec arguments of an encode; null copies both streams. */
export function codecArgs(encode: OutputSpec | null): string[] {
  if (!encode) return ['-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy'];
  const args =
    encode.video === 'none' ? ['-map', '0:a:0?', '-vn'] : ['-map', '0:v:0?', '-map', '0:a:0?'];
  if (encode.video === 'copy') args.push('-c:v', 'copy');
  else if (encode.video !== 'none') args.push(...videoArgs(encode.video));
  if (encode.audio === 'copy') args.push('-c:a', 'copy');
  else {
    const a = encode.audio;
    args.push('-c:a', 'aac', '-b:a', `${a.bitrateKbps}k`, '-ar', String(a.sampleRate));
  }
  return args;
}

function outputArgs(output: RelayOutput): string[] {
  if (output.kind === 'flv-stdout') {
    return ['-f', 'flv', '-flvflags', 'no_duration_filesize', 'pipe:1'];
  }
  const seg = output.segmentSeconds ?? 1;
  return [
    '-f',
    'hls',
    '-hls_time',
    String(seg),
    '-hls_list_size',
    String(output.listSize ?? 6),
    '-hls_flags',
    output.keepSegments
      ? 'independent_segments+temp_file'
      : 'delete_segments+independent_segments+temp_file',
    '-hls_segment_filename',
    `${output.dir}/seg_%06d.ts`,
    `${output.dir}/index.m3u8`,
  ];
}

export function buildRelayCommand(spec: RelayCommandSpec): FfmpegCommand {
  const input = inputArgs(spec.thoroughProbe ?? false);
  return { args: [...GLOBAL, ...input, ...codecArgs(spec.encode), ...outputArgs(spec.output)] };
}

/** The parts of a push URL that reveal the key: the whole URL and its last path segment. */
export function secretsOfUrl(url: string): string[] {
  const out = [url];
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    if (last && last.length >= 4) out.push(last, decodeURIComponent(last));
  } catch {
    /* not a URL: the whole string is still scrubbed */
  }
  return [...new Set(out)];
}

/** Replaces every secret in `text` with `****`. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s) out = out.split(s).join('****');
  }
  return out;
}
