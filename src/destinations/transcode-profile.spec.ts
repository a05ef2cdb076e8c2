import { PRESETS } from './destination-presets';
import { checkProfileForPreset, parseProfile } from './transcode-profile';

const fieldsOf = (value: unknown) => parseProfile(value).problems.map((p) => p.field);

describe('parseProfile', () => {
  it.each([undefined, null, 'passthrough'])('%p is passthrough', (v) =>
    expect(parseProfile(v)).toEqual({ profile: null, problems: [] }),
  );

  it('"auto" is kept as it is', () =>
    expect(parseProfile('auto')).toEqual({ profile: 'auto', problems: [] }));

  it('keeps the shape settings', () => {
    expect(parseProfile({ aspect: '9:16', fit: 'blur' }).profile).toEqual({
      aspect: '9:16',
      fit: 'blur',
    });
    expect(parseProfile({ aspect: 'source' }).profile).toEqual({ aspect: 'source' });
    expect(parseProfile({ audioOnly: true, audioBitrateKbps: 96 }).profile).toEqual({
      audioOnly: true,
      audioBitrateKbps: 96,
    });
  });

  it.each([
    [{ aspect: '4:3' }, 'profile.aspect'],
    [{ aspect: 16 / 9 }, 'profile.aspect'],
    [{ fit: 'stretch' }, 'profile.fit'],
    [{ fit: ['pad'] }, 'profile.fit'],
    [{ audioOnly: false }, 'profile.audioOnly'],
    [{ audioOnly: 'true' }, 'profile.audioOnly'],
  ])('refuses the shape setting %p, naming its field', (value, field) =>
    expect(fieldsOf(value)).toEqual([field]),
  );

  it('audioOnly names each video setting sent with it', () =>
    expect(fieldsOf({ audioOnly: true, maxHeight: 720, fit: 'pad', audioBitrateKbps: 64 })).toEqual(
      ['profile.maxHeight', 'profile.fit'],
    ));

  it('keeps the known integer settings', () =>
    expect(
      parseProfile({ maxHeight: 720, fps: 30, videoBitrateKbps: 2500, audioBitrateKbps: 128 }),
    ).toEqual({
      profile: { maxHeight: 720, fps: 30, videoBitrateKbps: 2500, audioBitrateKbps: 128 },
      problems: [],
    }));

  it.each([
    ['constructor', { constructor: 1 }],
    ['toString', { toString: 1 }],
    ['hasOwnProperty', { hasOwnProperty: 720 }],
    ['valueOf', { valueOf: 720 }],
    ['__proto__', JSON.parse('{"__proto__": {"maxHeight": 720}}') as unknown],
    ['__proto__', JSON.parse('{"__proto__": 1}') as unknown],
    ['prototype', { prototype: 1 }],
  ])('refuses the inherited name %s as an unknown setting', (key, value) => {
    const { profile, problems } = parseProfile(value);
    expect(profile).toBeNull();
    expect(problems).toEqual([
      { field: `profile.${key}`, message: `property ${key} should not exist` },
    ]);
  });

  it('does not let __proto__ smuggle a setting in', () => {
    const { profile } = parseProfile(JSON.parse('{"fps": 30, "__proto__": {"maxHeight": 99999}}'));
    expect(profile).toBeNull();
    expect(({} as { maxHeight?: number }).maxHeight).toBeUndefined();
  });

  it.each([
    ['a string', { fps: '30' }, 'profile.fps'],
    ['a fraction', { fps: 29.97 }, 'profile.fps'],
    ['too big', { maxHeight: 1e300 }, 'profile.maxHeight'],
    ['too small', { videoBitrateKbps: 1 }, 'profile.videoBitrateKbps'],
    ['an object', { audioBitrateKbps: { v: 128 } }, 'profile.audioBitrateKbps'],
    ['an array', { maxHeight: [720] }, 'profile.maxHeight'],
    ['null', { fps: null }, 'profile.fps'],
    ['a boolean', { fps: true }, 'profile.fps'],
  ])('refuses %s, naming profile.<key>', (_, value, field) =>
    expect(fieldsOf(value)).toEqual([field]),
  );

  it.each([
    ['an array', [720]],
    ['an empty array', []],
    ['a number', 720],
    ['true', true],
    ['another string', 'transcode'],
    ['"Auto" (case matters)', 'Auto'],
  ])('refuses %s as the profile', (_, value) => expect(fieldsOf(value)).toEqual(['profile']));

  it('refuses an empty object, and names every bad setting at once', () => {
    expect(fieldsOf({})).toEqual(['profile']);
    expect(fieldsOf({ fps: 0, maxHeight: 'x', extra: 1 })).toEqual([
      'profile.fps',
      'profile.maxHeight',
      'profile.extra',
    ]);
  });
});

describe('checkProfileForPreset', () => {
  const fields = (...args: Parameters<typeof checkProfileForPreset>) =>
    checkProfileForPreset(...args).map((p) => p.field);

  it('"auto" needs a platform preset; the field blamed is the one the request changed', () => {
    expect(fields('social_platform', PRESETS.custom, 'auto', 'profile')).toEqual(['profile']);
    expect(fields('social_platform', PRESETS.custom, 'auto', 'preset')).toEqual(['preset']);
    expect(fields('social_platform', PRESETS.tiktok, 'auto', 'profile')).toEqual([]);
  });

  it("fit needs an aspect to fit into: the profile's, or the preset's", () => {
    expect(fields('social_platform', PRESETS.custom, { fit: 'pad' }, 'profile')).toEqual([
      'profile.fit',
    ]);
    expect(
      fields('social_platform', PRESETS.tiktok, { fit: 'pad', aspect: 'source' }, 'profile'),
    ).toEqual(['profile.fit']);
    expect(
      fields('social_platform', PRESETS.custom, { fit: 'pad', aspect: '1:1' }, 'profile'),
    ).toEqual([]);
    expect(fields('social_platform', PRESETS.tiktok, { fit: 'blur' }, 'profile')).toEqual([]);
    // Changing the preset away from the one that gave the aspect: the preset is named.
    expect(fields('social_platform', PRESETS.custom, { fit: 'blur' }, 'preset')).toEqual([
      'preset',
    ]);
  });

  it('brand_site takes no platform preset', () => {
    expect(fields('brand_site', PRESETS.youtube, null, 'preset')).toEqual(['preset']);
    expect(fields('brand_site', PRESETS.custom, { maxHeight: 480 }, 'profile')).toEqual([]);
  });
});
