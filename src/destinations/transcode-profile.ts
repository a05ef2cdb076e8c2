import { ASPECTS, PresetConstraints } from './destination-presets';
import {
  DestinationKind,
  DestinationProfile,
  FITS,
  type TranscodeProfile,
} from './destination.entity';

type Problem = { field: string; message: string };

type IntSetting = 'maxHeight' | 'fps' | 'videoBitrateKbps' | 'audioBitrateKbps';

/** Limits of a transcode profile's integer fields (inclusive). */
export const PROFILE_LIMITS: Record<IntSetting, [number, number]> = {
  maxHeight: [144, 2160],
  fps: [1, 60],
  videoBitrateKbps: [100, 20_000],
  audioBitrateKbps: [32, 512],
};

export const PROFILE_ASPECTS = ['source', ...ASPECTS] as const;

/** Each setting of the object form: how to read it (a problem text, or undefined). */
const SETTINGS: Record<keyof TranscodeProfile, (v: unknown) => string | undefined> = {
  ...(Object.fromEntries(
    Object.entries(PROFILE_LIMITS).map(([key, [min, max]]) => [
      key,
      (v: unknown) =>
        typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
          ? undefined
          : `${key} must be an integer between ${min} and ${max}`,
    ]),
  ) as Record<IntSetting, (v: unknown) => string | undefined>),
  aspect: (v) =>
    (PROFILE_ASPECTS as readonly unknown[]).includes(v)
      ? undefined
      : `aspect must be one of ${PROFILE_ASPECTS.map((a) => `"${a}"`).join(', ')}`,
  fit: (v) =>
    (FITS as readonly unknown[]).includes(v)
      ? undefined
      : `fit must be one of ${FITS.map((f) => `"${f}"`).join(', ')}`,
  audioOnly: (v) => (v === true ? undefined : 'audioOnly must be true (leave it out for video)'),
};

/** Settings that describe video: meaningless once the video is dropped. */
const VIDEO_SETTINGS: ReadonlyArray<keyof TranscodeProfile> = [
  'maxHeight',
  'fps',
  'videoBitrateKbps',
  'aspect',
  'fit',
];

/**
 * Parses the API's `profile`, the union it is: "passthrough" (→ null), "auto", or an
 * object of known settings, looked up as own properties only (`constructor`,
 * `__proto__`… are unknown settings). Returns the problems with their field paths
 * (`profile.<setting>`) instead of throwing.
 */
export function parseProfile(value: unknown): {
  profile: DestinationProfile;
  problems: Problem[];
} {
  if (value === undefined || value === null || value === 'passthrough')
    return { profile: null, problems: [] };
  if (value === 'auto') return { profile: 'auto', problems: [] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      profile: null,
      problems: [
        { field: 'profile', message: 'profile must be "passthrough", "auto" or an object' },
      ],
    };
  }
  const problems: Problem[] = [];
  const profile: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Object.hasOwn(SETTINGS, key)) {
      problems.push({ field: `profile.${key}`, message: `property ${key} should not exist` });
      continue;
    }
    const problem = SETTINGS[key as keyof TranscodeProfile](v);
    if (problem) problems.push({ field: `profile.${key}`, message: problem });
    else profile[key] = v;
  }
  if (profile.audioOnly === true) {
    for (const key of VIDEO_SETTINGS) {
      if (Object.hasOwn(profile, key)) {
        problems.push({
          field: `profile.${key}`,
          message: `${key} must not be set with audioOnly (there is no video)`,
        });
      }
    }
  }
  if (problems.length === 0 && Object.keys(profile).length === 0) {
    problems.push({
      field: 'profile',
      message: 'profile must name at least one setting, or be "passthrough" or "auto"',
    });
  }
  return { profile: problems.length ? null : (profile as TranscodeProfile), problems };
}

/**
 * What a profile and a preset must agree on, with the destination's kind. `blame` names
 * the field a problem of the pair is reported on (the one the request changed).
 */
export function checkProfileForPreset(
  kind: DestinationKind,
  preset: PresetConstraints,
  profile: DestinationProfile,
  blame: 'profile' | 'preset',
): Problem[] {
  const problems: Problem[] = [];
  if (kind === 'brand_site' && preset.id !== 'custom') {
    problems.push({
      field: 'preset',
      message: 'brand_site destinations take no platform preset (preset must be "custom")',
    });
  }
  if (profile === 'auto' && preset.id === 'custom') {
    problems.push({
      field: blame,
      message: 'profile "auto" needs a platform preset to fit (preset is "custom")',
    });
  }
  if (profile && profile !== 'auto' && profile.fit !== undefined) {
    const aspect = profile.aspect ?? preset.aspect;
    if (!aspect || aspect === 'source') {
      problems.push({
        field: blame === 'profile' ? 'profile.fit' : 'preset',
        message: 'fit needs an aspect to fit into (profile.aspect, or a preset that has one)',
      });
    }
  }
  return problems;
}

/** The profile as the API shows it: "passthrough", "auto" or the object. */
export function profileView(
  profile: DestinationProfile,
): TranscodeProfile | 'auto' | 'passthrough' {
  return profile ?? 'passthrough';
}
