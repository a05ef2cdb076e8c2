import {
  aspectRatio,
  presetOf,
  type Aspect,
  type PresetConstraints,
} from '../destinations/destination-presets';
import type {
  Destination,
  DestinationProfile,
  TranscodeProfile,
} from '../destinations/destination.entity';
import { codecArgs, KEYFRAME_SECONDS, type OutputSpec, type VideoEncode } from './ffmpeg-command';
import {
  preflight,
  TOLERANCE,
  warningsOf,
  type Finding,
  type RelayWarning,
  type StreamFigures,
  type WarningCode,
} from './preflight';

/**
 * What a destination gets, decided from its preset, its profile and the ingest as
 * measured: passthrough, or the encode (`OutputSpec`, which `codecArgs` turns into
 * ffmpeg arguments), with the warnings that remain about what it receives. Pure.
 *
 * - passthrough: the ingest as it is; the warnings are the ingest's.
 * - `auto`: re-encodes the video when a video finding can be fixed (size, aspect, fps,
 *   key frames, bitrate, codec), the audio when an audio finding can (sample rate,
 *   codec), and copies the rest; nothing to fix is passthrough.
 * - an object: like `auto`, and each setting it names forces its part (video or audio)
 *   to be encoded with that value, overriding the preset.
 */

/** The parts a relay run re-encodes; a run never re-encodes fewer (no flapping). */
export interface Reencode {
  video: boolean;
  audio: boolean;
}

export interface ResolveInput {
  preset: PresetConstraints;
  profile: DestinationProfile;
  ingest: StreamFigures;
  /** The destination URL's scheme; null for the brand-site rendition. */
  scheme: 'rtmp' | 'rtmps' | null;
  /** What this relay run already re-encodes (auto keeps it: never fewer parts). */
  reencoding?: Reencode;
  /** The codes of the run's last check (hysteresis of the bitrate warnings). */
  previous?: readonly WarningCode[];
}

export interface ResolvedOutput {
  /** null: passthrough (no ffmpeg). */
  encode: OutputSpec | null;
  reencoding: Reencode;
  /** What is wrong with the ingest itself (what `auto` decided from). */
  findings: Finding[];
  /** What remains wrong with what the destination receives. */
  warnings: RelayWarning[];
}

/** The short side of the frame a transcode makes when the ingest's size is not known. */
const DEFAULT_SHORT_SIDE = 720;
const DEFAULT_AUDIO_KBPS = 128;
/** Custom transcodes resample to this, as they always did. */
const CUSTOM_AUDIO_RATE = 44100;

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * Video bitrate for a frame's short side and fps when the profile names none (a platform
 * transcode needs one: CBR, and the platform's range). The usual live ladder (commonly
 * documented: 360p ≈ 1 Mbps, 480p 1.5, 720p 3, 1080p 4.5, beyond 8), × 1.5 above 30 fps,
 * then clamped to the preset's range.
 */
export function ladderKbps(shortSide: number, fps: number | null): number {
  const base =
    shortSide <= 360
      ? 1000
      : shortSide <= 480
        ? 1500
        : shortSide <= 720
          ? 3000
          : shortSide <= 1080
            ? 4500
            : 8000;
  return fps !== null && fps > 30 + TOLERANCE.fps ? Math.round(base * 1.5) : base;
}

function clamp(n: number, range: { min: number | null; max: number | null }): number {
  return Math.min(range.max ?? n, Math.max(range.min ?? n, n));
}

/** A frame of `aspect` keeping the ingest's short side, within the preset's frame and maxHeight. */
export function frameFor(
  aspect: Aspect,
  ingest: Pick<StreamFigures, 'width' | 'height'>,
  preset: PresetConstraints,
  maxHeight: number | undefined,
): { width: number; height: number } {
  const ratio = aspectRatio(aspect);
  const short =
    ingest.width && ingest.height ? Math.min(ingest.width, ingest.height) : DEFAULT_SHORT_SIDE;
  let width = ratio >= 1 ? short * ratio : short;
  let height = ratio >= 1 ? short : short / ratio;
  const limits: number[] = [];
  if (preset.maxWidth && preset.maxHeight) {
    const long = Math.max(preset.maxWidth, preset.maxHeight);
    const shortMax = Math.min(preset.maxWidth, preset.maxHeight);
    limits.push(Math.max(width, height) > long ? long / Math.max(width, height) : 1);
    limits.push(Math.min(width, height) > shortMax ? shortMax / Math.min(width, height) : 1);
  }
  if (maxHeight !== undefined && height > maxHeight) limits.push(maxHeight / height);
  const scale = Math.min(1, ...limits);
  width *= scale;
  height *= scale;
  return { width: even(width), height: even(height) };
}

function needsAspectChange(
  aspect: Aspect,
  ingest: Pick<StreamFigures, 'width' | 'height'>,
): boolean | null {
  if (!ingest.width || !ingest.height) return null;
  const want = aspectRatio(aspect);
  return Math.abs(ingest.width / ingest.height - want) / want > TOLERANCE.aspect;
}

/** The size after scaling down into a box (never up), even numbers. */
function fitInto(
  w: number,
  h: number,
  box: { maxWidth: number | null; maxHeight: number | null },
): { width: number; height: number } {
  const s = Math.min(1, box.maxWidth ? box.maxWidth / w : 1, box.maxHeight ? box.maxHeight / h : 1);
  return s === 1 ? { width: w, height: h } : { width: even(w * s), height: even(h * s) };
}

function videoEncode(
  preset: PresetConstraints,
  profile: TranscodeProfile,
  ingest: StreamFigures,
): { video: VideoEncode; size: { width: number; height: number } | null; fps: number | null } {
  const platform = preset.id !== 'custom';
  const target: Aspect | null =
    profile.aspect === 'source' ? null : (profile.aspect ?? preset.aspect);
  // An aspect the profile names is always made; the preset's only when the ingest is
  // known to differ (unknown: decided again once the ingest's size is known).
  const convert =
    target !== null && (profile.aspect !== undefined || needsAspectChange(target, ingest) === true);

  let frame: VideoEncode['frame'] = null;
  let scale: VideoEncode['scale'] = null;
  let size: { width: number; height: number } | null = null;
  if (convert && target) {
    const f = frameFor(target, ingest, preset, profile.maxHeight);
    frame = { ...f, fit: profile.fit ?? 'pad', aspect: target };
    size = f;
  } else {
    if (preset.maxWidth && preset.maxHeight) {
      // The preset's frame, turned to the ingest's orientation (a portrait ingest on a
      // 16:9 preset keeps its orientation when the aspect is left alone).
      const long = Math.max(preset.maxWidth, preset.maxHeight);
      const short = Math.min(preset.maxWidth, preset.maxHeight);
      const portrait =
        ingest.width && ingest.height
          ? ingest.height > ingest.width
          : preset.maxHeight > preset.maxWidth;
      scale = {
        maxWidth: portrait ? short : long,
        maxHeight: Math.min(portrait ? long : short, profile.maxHeight ?? Infinity),
      };
    } else if (profile.maxHeight !== undefined) {
      scale = { maxWidth: null, maxHeight: profile.maxHeight };
    }
    if (ingest.width && ingest.height) {
      size = scale
        ? fitInto(ingest.width, ingest.height, scale)
        : { width: ingest.width, height: ingest.height };
    }
  }

  const fps =
    profile.fps ??
    (preset.maxFps && ingest.fps && ingest.fps > preset.maxFps + TOLERANCE.fps
      ? preset.maxFps
      : null);
  const outFps = fps ?? ingest.fps;
  const shortSide = size ? Math.min(size.width, size.height) : DEFAULT_SHORT_SIDE;
  const bitrateKbps =
    profile.videoBitrateKbps ??
    (platform ? clamp(ladderKbps(shortSide, outFps), preset.videoBitrateKbps) : null);
  return {
    video: {
      frame,
      scale,
      fps,
      bitrateKbps,
      constantBitrate: preset.constantBitrate && bitrateKbps !== null,
      keyframeSeconds: preset.keyframeIntervalSeconds ?? KEYFRAME_SECONDS,
    },
    size,
    fps: outFps,
  };
}

const VIDEO_SETTINGS = ['maxHeight', 'fps', 'videoBitrateKbps'] as const;

export function resolveOutput(input: ResolveInput): ResolvedOutput {
  const { preset, ingest, scheme } = input;
  const findings = preflight(ingest, preset, scheme, input.previous);
  const none: Reencode = { video: false, audio: false };
  if (input.profile === null) {
    return { encode: null, reencoding: none, findings, warnings: warningsOf(findings) };
  }
  const profile: TranscodeProfile = input.profile === 'auto' ? {} : input.profile;
  const keepsAspect = profile.aspect === 'source';
  const fixes = (part: 'video' | 'audio') =>
    findings.some((f) => f.fix === part && !(keepsAspect && f.code === 'ASPECT_MISMATCH'));
  const floor = input.reencoding ?? none;
  const audioOnly = profile.audioOnly === true;
  const reencoding: Reencode = {
    video:
      !audioOnly &&
      (floor.video ||
        fixes('video') ||
        VIDEO_SETTINGS.some((k) => profile[k] !== undefined) ||
        (profile.aspect !== undefined && profile.aspect !== 'source')),
    audio: floor.audio || fixes('audio') || profile.audioBitrateKbps !== undefined,
  };
  if (!audioOnly && !reencoding.video && !reencoding.audio) {
    return { encode: null, reencoding, findings, warnings: warningsOf(findings) };
  }

  // What the destination receives: the ingest, with what the encode changes.
  const delivered: StreamFigures = { ...ingest };
  let video: OutputSpec['video'] = audioOnly ? 'none' : 'copy';
  let videoKbps: number | null = null;
  if (audioOnly) {
    delivered.videoCodec = 'none';
  } else if (reencoding.video) {
    const v = videoEncode(preset, profile, ingest);
    video = v.video;
    videoKbps = v.video.bitrateKbps;
    Object.assign(delivered, {
      videoCodec: 'h264',
      width: v.size?.width ?? null,
      height: v.size?.height ?? null,
      fps: v.fps,
      keyframeIntervalMs: v.video.keyframeSeconds * 1000,
    });
  }
  let audio: OutputSpec['audio'] = 'copy';
  if (reencoding.audio) {
    const accepted = preset.acceptedAudioSampleRates;
    const sampleRate =
      preset.id === 'custom'
        ? CUSTOM_AUDIO_RATE
        : ingest.audioSampleRate && (!accepted || accepted.includes(ingest.audioSampleRate))
          ? ingest.audioSampleRate
          : (preset.audioSampleRate ?? CUSTOM_AUDIO_RATE);
    audio = { bitrateKbps: profile.audioBitrateKbps ?? DEFAULT_AUDIO_KBPS, sampleRate };
    Object.assign(delivered, { audioCodec: 'aac', audioSampleRate: sampleRate });
  }
  // The encode's bitrate when it sets one (with its audio); otherwise the ingest's stands.
  if (videoKbps !== null) {
    delivered.bitrateKbps = videoKbps;
  } else if (reencoding.video) {
    delivered.bitrateKbps = null; // an encode without a target: not known until measured
  }
  const remaining = preflight(delivered, preset, scheme, input.previous);
  return {
    encode: { video, audio },
    reencoding,
    findings,
    warnings: warningsOf(remaining),
  };
}

/** A destination's resolved output, with the key of its encode (equal keys: one encoder). */
export interface DestinationPlan extends ResolvedOutput {
  /** `passthrough`, or the encode's codec arguments. */
  key: string;
}

export function schemeOf(url: string | null): 'rtmp' | 'rtmps' | null {
  if (!url) return null;
  return url.toLowerCase().startsWith('rtmps:') ? 'rtmps' : 'rtmp';
}

/** `resolveOutput` for a destination as stored. */
export function planDestination(
  d: Pick<Destination, 'preset' | 'profile' | 'url'>,
  ingest: StreamFigures,
  run: Pick<ResolveInput, 'reencoding' | 'previous'> = {},
): DestinationPlan {
  const resolved = resolveOutput({
    preset: presetOf(d.preset),
    profile: d.profile,
    ingest,
    scheme: schemeOf(d.url),
    ...run,
  });
  return {
    ...resolved,
    key: resolved.encode ? codecArgs(resolved.encode).join(' ') : 'passthrough',
  };
}
