import { parseProfile } from './transcode-profile';

const fieldsOf = (value: unknown) => parseProfile(value).problems.map((p) => p.field);

describe('parseProfile', () => {
  it.each([undefined, null, 'passthrough'])('%p is passthrough', (v) =>
    expect(parseProfile(v)).toEqual({ profile: null, problems: [] }),
  );

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
