import { aspectRatio, type PresetConstraints } from '../destinations/destination-presets';

/**
 * The pre-flight check: what a stream is (the ingest as measured, or what a transcode
 * makes of it) against a destination's constraints. Pure: the relay run calls it with the
 * figures its hub stream measures, at the start of every attempt and on every poll.
 */

/** What is known of a stream; null: not known (yet). */
export interface StreamFigures {
  /** `h264`, `hevc`…; `none` when the stream has no video (audio only). */
  videoCodec: string | null;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  /** Time between key frames (ms): measured, or at least how long the current GOP lasts. */
  keyframeIntervalMs: number | null;
  /** Audio and video (kbps). */
  bitrateKbps: number | null;
  audioSampleRate: number | null;
}

export const UNKNOWN_FIGURES: StreamFigures = {
  videoCodec: null,
  audioCodec: null,
  width: null,
  height: null,
  fps: null,
  keyframeIntervalMs: null,
  bitrateKbps: null,
  audioSampleRate: null,
};

export const WARNING_CODES = [
  'SCHEME_NOT_ALLOWED',
  'VIDEO_CODEC_NOT_SUPPORTED',
  'AUDIO_CODEC_NOT_SUPPORTED',
  'RESOLUTION_TOO_HIGH',
  'ASPECT_MISMATCH',
  'FPS_TOO_HIGH',
  'KEYFRAME_INTERVAL_TOO_LONG',
  'BITRATE_TOO_HIGH',
  'BITRATE_TOO_LOW',
  'AUDIO_SAMPLE_RATE',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** A relay's warning, as API.md shows it. */
export interface RelayWarning {
  code: WarningCode;
  message: string;
}

/**
 * A warning and what fixes it: re-encoding the `video` or the `audio` (what `auto` does),
 * or nothing a transcode can do (null: the URL's scheme, a bitrate too low to be worth
 * encoding again).
 */
export interface Finding extends RelayWarning {
  fix: 'video' | 'audio' | null;
}

/** Margins that keep measurement noise from raising warnings. */
export const TOLERANCE = {
  /** A key frame interval this much over the preset's is too long. */
  keyframeMs: 100,
  /** Aspects within 2 % are the same (854×480 is 16:9). */
  aspect: 0.02,
  /** 29.97 is 30 fps. */
  fps: 0.5,
  /**
   * The ingest's bitrate counts audio and peaks: over the video maximum by more than
   * 10 % is too high (under the minimum by more than 10 %, too low). Once warned, a
   * bitrate stays warned until it is back within the limit itself, so that a stream
   * hovering at the limit does not flap.
   */
  bitrate: 0.1,
} as const;

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The findings for `figures` against `preset`. `scheme` is the destination URL's (null
 * for the brand-site rendition); `previous` the codes of the last check of the same
 * relay (for the bitrate's hysteresis).
 */
export function preflight(
  figures: StreamFigures,
  preset: PresetConstraints,
  scheme: 'rtmp' | 'rtmps' | null,
  previous: readonly WarningCode[] = [],
): Finding[] {
  const out: Finding[] = [];
  const name = preset.name;
  if (preset.id === 'custom') return out;

  if (preset.scheme === 'rtmps' && scheme === 'rtmp') {
    out.push({
      code: 'SCHEME_NOT_ALLOWED',
      message: `${name} takes RTMPS only: the destination's URL is rtmp://`,
      fix: null,
    });
  }

  const video = figures.videoCodec !== 'none';
  if (video && figures.videoCodec && figures.videoCodec !== 'h264') {
    out.push({
      code: 'VIDEO_CODEC_NOT_SUPPORTED',
      message: `the video is ${figures.videoCodec}; ${name} takes H.264`,
      fix: 'video',
    });
  }
  if (figures.audioCodec && figures.audioCodec !== 'aac') {
    out.push({
      code: 'AUDIO_CODEC_NOT_SUPPORTED',
      message: `the audio is ${figures.audioCodec}; ${name} takes AAC`,
      fix: 'audio',
    });
  }

  const { width: w, height: h } = figures;
  if (video && w && h) {
    if (preset.maxWidth && preset.maxHeight) {
      const [maxLong, maxShort] = [
        Math.max(preset.maxWidth, preset.maxHeight),
        Math.min(preset.maxWidth, preset.maxHeight),
      ];
      if (Math.max(w, h) > maxLong || Math.min(w, h) > maxShort) {
        out.push({
          code: 'RESOLUTION_TOO_HIGH',
          message: `the video is ${w}×${h}; ${name} takes at most ${preset.maxWidth}×${preset.maxHeight}`,
          fix: 'video',
        });
      }
    }
    if (preset.aspect) {
      const want = aspectRatio(preset.aspect);
      if (Math.abs(w / h - want) / want > TOLERANCE.aspect) {
        out.push({
          code: 'ASPECT_MISMATCH',
          message: `the video is ${w}×${h}; ${name} shows ${preset.aspect}`,
          fix: 'video',
        });
      }
    }
  }

  if (video && figures.fps && preset.maxFps && figures.fps > preset.maxFps + TOLERANCE.fps) {
    out.push({
      code: 'FPS_TOO_HIGH',
      message: `the video is ${round1(figures.fps)} fps; ${name} takes at most ${preset.maxFps}`,
      fix: 'video',
    });
  }

  const k = preset.keyframeIntervalSeconds;
  if (
    video &&
    k &&
    figures.keyframeIntervalMs !== null &&
    figures.keyframeIntervalMs > k * 1000 + TOLERANCE.keyframeMs
  ) {
    out.push({
      code: 'KEYFRAME_INTERVAL_TOO_LONG',
      message: `key frames every ${round1(figures.keyframeIntervalMs / 1000)} s; ${name} asks for one every ${k} s`,
      fix: 'video',
    });
  }

  const kbps = figures.bitrateKbps;
  const { min, max } = preset.videoBitrateKbps;
  if (video && kbps !== null) {
    const highLimit = previous.includes('BITRATE_TOO_HIGH') ? 1 : 1 + TOLERANCE.bitrate;
    const lowLimit = previous.includes('BITRATE_TOO_LOW') ? 1 : 1 - TOLERANCE.bitrate;
    if (max !== null && kbps > max * highLimit) {
      out.push({
        code: 'BITRATE_TOO_HIGH',
        message: `the stream is ${kbps} kbps; ${name} takes at most ${max} kbps of video`,
        fix: 'video',
      });
    } else if (min !== null && kbps < min * lowLimit) {
      out.push({
        code: 'BITRATE_TOO_LOW',
        message: `the stream is ${kbps} kbps; ${name} asks for at least ${min} kbps of video`,
        fix: null,
      });
    }
  }

  const rate = figures.audioSampleRate;
  if (rate && preset.acceptedAudioSampleRates && !preset.acceptedAudioSampleRates.includes(rate)) {
    out.push({
      code: 'AUDIO_SAMPLE_RATE',
      message: `the audio is sampled at ${rate} Hz; ${name} takes ${preset.acceptedAudioSampleRates.join(' or ')} Hz`,
      fix: 'audio',
    });
  }
  return out;
}

/** Warnings as stored and shown (the fix is the relay's business). */
export function warningsOf(findings: readonly Finding[]): RelayWarning[] {
  return findings.map(({ code, message }) => ({ code, message }));
}

/**
 * Warnings change when their codes do. A message carries the figures of when its warning
 * was raised; a bitrate that moves while it stays too high is not a change (it would be
 * a new event every second).
 */
export function sameWarnings(a: readonly RelayWarning[], b: readonly RelayWarning[]): boolean {
  const codes = (ws: readonly RelayWarning[]) =>
    ws
      .map((w) => w.code)
      .sort()
      .join(',');
  return codes(a) === codes(b);
}
