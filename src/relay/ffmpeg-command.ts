import type { TranscodeProfile } from '../destinations/destination.entity';

/**
 * ffmpeg commands as plain data. Pure functions, no I/O: the relay decides what to run,
 * the FfmpegRunner adapter runs it. Tests assert the exact argument lists.
 */

export type RelayOutput =
  /**
   * FLV on ffmpeg's stdout, pushed to the destination by the worker's own RTMP client
   * (the same as passthrough): ffmpeg never sees the push URL or its key, never resolves
   * the destination's host itself (the egress guard does, at connect time), and RTMPS is
   * verified by Node's TLS.
   */
  | { kind: 'flv-stdout' }
  /** HLS rendition into `dir` (index.m3u8 + segments). */
  | { kind: 'hls'; dir: string; segmentSeconds?: number; listSize?: number };

/**
 * The input is always FLV on ffmpeg's stdin, written by the relay from the in-process
 * stream: ffmpeg never connects to the ingest, and it ends at EOF if its worker dies.
 */
export interface RelayCommandSpec {
  output: RelayOutput;
  profile: TranscodeProfile | null;
}

export interface FfmpegCommand {
  args: string[];
}

/** Key frames every 2 s, as platforms ask, whatever the fps. */
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
const INPUT = ['-probesize', '4096', '-analyzeduration', '0', '-f', 'flv', '-i', 'pipe:0'];

/** Codec arguments: copy what the profile does not ask to change. */
export function codecArgs(profile: TranscodeProfile | null): string[] {
  const map = ['-map', '0:v:0?', '-map', '0:a:0?'];
  if (!profile) return [...map, '-c', 'copy'];
  const video =
    profile.maxHeight !== undefined ||
    profile.fps !== undefined ||
    profile.videoBitrateKbps !== undefined;
  const args = [...map];
  if (video) {
    const filters: string[] = [];
    // Never upscale; keep the width even for yuv420p.
    if (profile.maxHeight !== undefined) filters.push(`scale=-2:'min(ih,${profile.maxHeight})'`);
    if (profile.fps !== undefined) filters.push(`fps=${profile.fps}`);
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
    );
    if (filters.length) args.push('-vf', filters.join(','));
    if (profile.videoBitrateKbps !== undefined) {
      const b = profile.videoBitrateKbps;
      args.push('-b:v', `${b}k`, '-maxrate', `${b}k`, '-bufsize', `${b * 2}k`);
    }
    args.push(
      '-force_key_frames',
      `expr:gte(t,n_forced*${KEYFRAME_SECONDS})`,
      '-sc_threshold',
      '0',
    );
  } else {
    args.push('-c:v', 'copy');
  }
  if (profile.audioBitrateKbps !== undefined) {
    args.push('-c:a', 'aac', '-b:a', `${profile.audioBitrateKbps}k`, '-ar', '44100');
  } else {
    args.push('-c:a', 'copy');
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
    'delete_segments+independent_segments+temp_file',
    '-hls_segment_filename',
    `${output.dir}/seg_%06d.ts`,
    `${output.dir}/index.m3u8`,
  ];
}

export function buildRelayCommand(spec: RelayCommandSpec): FfmpegCommand {
  return { args: [...GLOBAL, ...INPUT, ...codecArgs(spec.profile), ...outputArgs(spec.output)] };
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
