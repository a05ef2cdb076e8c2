import type { TranscodeProfile } from './destination.entity';

/** Limits of a transcode profile's fields (inclusive). */
export const PROFILE_LIMITS: Record<keyof TranscodeProfile, [number, number]> = {
  maxHeight: [144, 2160],
  fps: [1, 60],
  videoBitrateKbps: [100, 20_000],
  audioBitrateKbps: [32, 512],
};

/**
 * Parses the API's `profile`: "passthrough" (→ null) or an object of known integer
 * fields. Returns the problems with their field paths instead of throwing.
 */
export function parseProfile(value: unknown): {
  profile: TranscodeProfile | null;
  problems: Array<{ field: string; message: string }>;
} {
  if (value === undefined || value === null || value === 'passthrough')
    return { profile: null, problems: [] };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      profile: null,
      problems: [{ field: 'profile', message: 'profile must be "passthrough" or an object' }],
    };
  }
  const problems: Array<{ field: string; message: string }> = [];
  const profile: TranscodeProfile = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    // Own properties only: `constructor`, `__proto__`, `toString`… are on every object.
    if (!Object.hasOwn(PROFILE_LIMITS, key)) {
      problems.push({ field: `profile.${key}`, message: `property ${key} should not exist` });
      continue;
    }
    const limits = PROFILE_LIMITS[key as keyof TranscodeProfile];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < limits[0] || v > limits[1]) {
      problems.push({
        field: `profile.${key}`,
        message: `${key} must be an integer between ${limits[0]} and ${limits[1]}`,
      });
      continue;
    }
    profile[key as keyof TranscodeProfile] = v;
  }
  if (problems.length === 0 && Object.keys(profile).length === 0) {
    problems.push({
      field: 'profile',
      message: 'profile must name at least one setting, or be "passthrough"',
    });
  }
  return { profile: problems.length ? null : profile, problems };
}
