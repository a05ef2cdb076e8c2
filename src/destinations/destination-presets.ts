/**
 * Destination presets: the output constraints of each platform, from ONE table. Every
 * number carries its source: the platform's published ingest guidance where a page says
 * it, "commonly documented" where the figure is what encoder guides and the platforms'
 * own tools repeat but no platform page we can cite states it. The pages:
 *
 * - [YT] YouTube, "Choose live encoder settings, bitrates, and resolutions",
 *   https://support.google.com/youtube/answer/2853702
 * - [FB] Meta, Live Video API reference, "Recommended Settings",
 *   https://developers.facebook.com/docs/live-video-api/reference
 * - [TW] Twitch, "Broadcast Requirements",
 *   https://help.twitch.tv/customer/portal/articles/1253460-broadcast-requirements
 * - [TWC] Twitch Creator Camp, "Broadcast Recommendations",
 *   https://www.twitch.tv/creatorcamp/en/paths/going-live/broadcast-recommendations/
 * - [IG] Instagram's Live Producer announcement (2022, since taken down; as reported by
 *   the press): 9:16, 720 × 1280, 30 fps (60 supported), 2,250–6,000 kbps, 44.1 kHz
 *
 * A constraint that is null is not constrained (the `custom` preset constrains nothing).
 * A destination's `profile` fields override its preset (`resolveOutput` in
 * relay/output-plan.ts); the pre-flight check (relay/preflight.ts) compares the ingest
 * with these figures.
 */

export const PRESET_IDS = [
  'custom',
  'youtube',
  'facebook',
  'instagram',
  'tiktok',
  'twitch',
  'linkedin',
] as const;
export type PresetId = (typeof PRESET_IDS)[number];

export const ASPECTS = ['16:9', '9:16', '1:1'] as const;
export type Aspect = (typeof ASPECTS)[number];

/** `rtmps`: the platform ingests over RTMPS only; `rtmp_or_rtmps`: either. */
export type PresetScheme = 'rtmps' | 'rtmp_or_rtmps';

export interface PresetConstraints {
  id: PresetId;
  name: string;
  scheme: PresetScheme;
  /** The largest frame, in the orientation of `aspect` (a 9:16 preset: 1080 × 1920). */
  maxWidth: number | null;
  maxHeight: number | null;
  aspect: Aspect | null;
  maxFps: number | null;
  /** Key frame every this many seconds (what transcodes use; longer is warned about). */
  keyframeIntervalSeconds: number | null;
  videoBitrateKbps: { min: number | null; max: number | null };
  /** The platform asks for constant bitrate: transcodes for it are CBR. */
  constantBitrate: boolean;
  /** The sample rate transcoded audio gets. */
  audioSampleRate: number | null;
  /** Sample rates the platform takes as they are (null: any); others are warned about. */
  acceptedAudioSampleRates: number[] | null;
}

export const PRESETS: Readonly<Record<PresetId, PresetConstraints>> = {
  custom: {
    id: 'custom',
    name: 'Custom',
    scheme: 'rtmp_or_rtmps',
    maxWidth: null,
    maxHeight: null,
    aspect: null,
    maxFps: null,
    keyframeIntervalSeconds: null,
    videoBitrateKbps: { min: null, max: null },
    constantBitrate: false,
    audioSampleRate: null,
    acceptedAudioSampleRates: null,
  },
  youtube: {
    id: 'youtube',
    name: 'YouTube Live',
    scheme: 'rtmp_or_rtmps', // commonly documented: rtmp://a.rtmp.youtube.com and rtmps://a.rtmps.youtube.com
    maxWidth: 3840, // [YT]: ingest up to 4K / 2160p
    maxHeight: 2160, // [YT]: ingest up to 4K / 2160p
    aspect: '16:9', // [YT]: its resolutions are 16:9 (426×240 … 1920×1080 … 2160p)
    maxFps: 60, // [YT]: frame rates up to 60 fps
    keyframeIntervalSeconds: 2, // [YT]: key frame interval 2 s
    videoBitrateKbps: {
      min: 3000, // [YT]: 3 Mbps minimum for 240p–720p @30fps
      max: 35000, // [YT]: 35 Mbps, the H.264 recommendation for 2160p @60fps
    },
    constantBitrate: true, // [YT]: bitrate encoding CBR (commonly documented in its encoder settings)
    audioSampleRate: 44100, // [YT] (its 2014 version): audio sample rate 44.1 kHz
    acceptedAudioSampleRates: [44100, 48000], // commonly documented: 44.1 or 48 kHz
  },
  facebook: {
    id: 'facebook',
    name: 'Facebook Live',
    scheme: 'rtmps', // [FB]: protocol RTMPS streaming
    maxWidth: 1920, // [FB]: 1080p @ 60 FPS, 1920x1080
    maxHeight: 1080, // [FB]: 1080p @ 60 FPS, 1920x1080
    aspect: '16:9', // [FB]: aim for 16:9
    maxFps: 60, // [FB]: 1080p @ 60 FPS
    keyframeIntervalSeconds: 2, // [FB]: key frame size recommended 2 seconds (do not exceed 4)
    videoBitrateKbps: {
      min: 400, // [FB]: 360p, 400–1,000 kbps (the lowest row)
      max: 9000, // [FB]: 1080p @ 60 FPS, 4,500–9,000 kbps (the highest row)
    },
    constantBitrate: true, // [FB] (its earlier version): H.264 Main/High profile, CBR
    audioSampleRate: 48000, // [FB]: sample rate 44.1 kHz or 48 kHz (48 kHz in its earlier version)
    acceptedAudioSampleRates: [44100, 48000], // [FB]: 44.1 kHz or 48 kHz
  },
  instagram: {
    id: 'instagram',
    name: 'Instagram Live',
    scheme: 'rtmps', // commonly documented: Live Producer hands out rtmps:// URLs only (Meta's ingest, as Facebook)
    maxWidth: 720, // [IG]: 720 × 1280
    maxHeight: 1280, // [IG]: 720 × 1280
    aspect: '9:16', // [IG]: 9:16 (recommended)
    maxFps: 60, // [IG]: 30 fps recommended, 60 fps supported
    keyframeIntervalSeconds: 2, // commonly documented (Meta's ingest, as Facebook: 2 s)
    videoBitrateKbps: {
      min: 2250, // [IG]: 2,250–6,000 kbps
      max: 6000, // [IG]: 2,250–6,000 kbps
    },
    constantBitrate: false, // [IG]: no rate control named
    audioSampleRate: 44100, // [IG]: 44.1 kHz
    acceptedAudioSampleRates: [44100, 48000], // commonly documented (Meta's ingest, as Facebook)
  },
  tiktok: {
    id: 'tiktok',
    name: 'TikTok LIVE',
    scheme: 'rtmp_or_rtmps', // commonly documented: the stream key screen gives an rtmp:// server URL
    maxWidth: 1080, // commonly documented: 1080 × 1920 vertical
    maxHeight: 1920, // commonly documented: 1080 × 1920 vertical
    aspect: '9:16', // commonly documented: vertical 9:16
    maxFps: 60, // commonly documented: up to 60 fps (LIVE Studio offers 30 and 60)
    keyframeIntervalSeconds: 2, // commonly documented: key frame interval 2 s
    videoBitrateKbps: {
      min: null, // no minimum published (the app's own help recommends about 1.8 Mbps)
      max: 6000, // commonly documented: up to 6,000 kbps
    },
    constantBitrate: false, // commonly documented: CBR or VBR both taken
    audioSampleRate: 44100, // commonly documented: AAC 44.1 kHz
    acceptedAudioSampleRates: [44100, 48000], // commonly documented
  },
  twitch: {
    id: 'twitch',
    name: 'Twitch',
    scheme: 'rtmp_or_rtmps', // commonly documented: rtmp:// and rtmps:// ingest endpoints
    maxWidth: 1920, // commonly documented: up to 1080p
    maxHeight: 1080, // commonly documented: up to 1080p
    aspect: '16:9', // commonly documented: Twitch's player is 16:9
    maxFps: 60, // [TW]: framerates 25/30 or 50/60
    keyframeIntervalSeconds: 2, // [TW]: keyframe interval 2 seconds
    videoBitrateKbps: {
      min: 3000, // [TW]: recommended bitrate range 3–6 megabits per second
      max: 6000, // [TW]: recommended bitrate range 3–6 megabits per second
    },
    constantBitrate: true, // [TW] / [TWC]: strict CBR
    audioSampleRate: 48000, // [TWC]: sampling frequency 44.1 kHz or 48 kHz
    acceptedAudioSampleRates: null, // [TW]: sampling frequency any (AAC)
  },
  linkedin: {
    id: 'linkedin',
    name: 'LinkedIn Live',
    scheme: 'rtmp_or_rtmps', // commonly documented: its Live Events API ingests RTMP(S)
    maxWidth: 1920, // commonly documented: 1080p supported (720p recommended, its player tops out there)
    maxHeight: 1080, // commonly documented: 1080p supported
    aspect: '16:9', // commonly documented: aspect ratio 16:9
    maxFps: 30, // commonly documented: 30 fps
    keyframeIntervalSeconds: 2, // commonly documented: key frame every 2 seconds (60 frames @ 30 fps)
    videoBitrateKbps: {
      min: null, // no minimum published
      max: 6000, // commonly documented: up to 6 Mbps (3.5 Mbps recommended at 720p)
    },
    constantBitrate: false, // commonly documented: no rate control named
    audioSampleRate: 48000, // commonly documented: 48 kHz sample rate
    acceptedAudioSampleRates: [48000], // commonly documented: 48 kHz
  },
};

export function presetOf(id: string | null | undefined): PresetConstraints {
  return Object.hasOwn(PRESETS, id ?? '') ? PRESETS[id as PresetId] : PRESETS.custom;
}

/** Width ÷ height of an aspect. */
export function aspectRatio(aspect: Aspect): number {
  const [w, h] = aspect.split(':').map(Number) as [number, number];
  return w / h;
}
