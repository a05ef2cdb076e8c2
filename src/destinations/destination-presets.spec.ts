import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetView } from './destination-presets.controller';
import { PRESET_IDS, PRESETS, presetOf } from './destination-presets';

const PLATFORMS = PRESET_IDS.filter((id) => id !== 'custom');

describe('destination presets', () => {
  it('has one entry per id, under its own id', () => {
    expect(Object.keys(PRESETS).sort()).toEqual([...PRESET_IDS].sort());
    for (const id of PRESET_IDS) expect(PRESETS[id].id).toBe(id);
  });

  it.each(PLATFORMS)('%s has every number of the API shape', (id) => {
    const p = PRESETS[id];
    expect(p.name).toBeTruthy();
    expect(['rtmps', 'rtmp_or_rtmps']).toContain(p.scheme);
    for (const n of [p.maxWidth, p.maxHeight, p.maxFps, p.keyframeIntervalSeconds]) {
      expect(Number.isInteger(n) && (n as number) > 0).toBe(true);
    }
    expect(['16:9', '9:16', '1:1']).toContain(p.aspect);
    // The frame is given in the orientation of the aspect.
    const [w, h] = (p.aspect as string).split(':').map(Number) as [number, number];
    expect(Math.abs(p.maxWidth! / p.maxHeight! - w / h)).toBeLessThan(0.01);
    expect(p.videoBitrateKbps.max).toBeGreaterThan(0);
    if (p.videoBitrateKbps.min !== null)
      expect(p.videoBitrateKbps.min).toBeLessThan(p.videoBitrateKbps.max!);
    expect([44100, 48000]).toContain(p.audioSampleRate);
    if (p.acceptedAudioSampleRates) expect(p.acceptedAudioSampleRates).toContain(p.audioSampleRate);
    expect(typeof p.constantBitrate).toBe('boolean');
  });

  it('the published figures', () => {
    expect(PRESETS.facebook).toMatchObject({
      scheme: 'rtmps',
      maxWidth: 1920,
      maxHeight: 1080,
      maxFps: 60,
      keyframeIntervalSeconds: 2,
      videoBitrateKbps: { min: 400, max: 9000 },
    });
    expect(PRESETS.tiktok).toMatchObject({ aspect: '9:16', maxWidth: 1080, maxHeight: 1920 });
    expect(PRESETS.instagram).toMatchObject({
      scheme: 'rtmps',
      aspect: '9:16',
      maxWidth: 720,
      maxHeight: 1280,
      videoBitrateKbps: { min: 2250, max: 6000 },
      audioSampleRate: 44100,
    });
    expect(PRESETS.twitch).toMatchObject({
      constantBitrate: true,
      keyframeIntervalSeconds: 2,
      videoBitrateKbps: { min: 3000, max: 6000 },
    });
    expect(PRESETS.youtube).toMatchObject({ maxHeight: 2160, maxFps: 60, constantBitrate: true });
    expect(PRESETS.linkedin).toMatchObject({ maxFps: 30, audioSampleRate: 48000 });
  });

  it('custom constrains nothing (what a destination did before presets)', () => {
    const c = PRESETS.custom;
    expect([c.maxWidth, c.maxHeight, c.aspect, c.maxFps, c.keyframeIntervalSeconds]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(c.videoBitrateKbps).toEqual({ min: null, max: null });
    expect(c.constantBitrate).toBe(false);
    expect(c.audioSampleRate).toBeNull();
    expect(c.acceptedAudioSampleRates).toBeNull();
  });

  it('every number of the table carries a source comment', () => {
    const src = readFileSync(join(__dirname, 'destination-presets.ts'), 'utf8');
    const table = src.slice(src.indexOf('export const PRESETS'), src.indexOf('export function'));
    const customEnd = table.indexOf('youtube: {');
    const numbered = table
      .slice(customEnd)
      .split('\n')
      .filter((l) => /:\s*(\d|'|\[|true|false|null)/.test(l) && !/^\s*(id|name):/.test(l.trim()));
    expect(numbered.length).toBeGreaterThan(PLATFORMS.length * 10);
    for (const line of numbered)
      expect(line).toMatch(/\/\/ (\[[A-Z]+\]|commonly documented|no minimum published)/);
  });

  it('unknown ids fall back to custom; the API view has exactly the documented fields', () => {
    expect(presetOf('constructor').id).toBe('custom');
    expect(presetOf(undefined).id).toBe('custom');
    expect(Object.keys(presetView(PRESETS.youtube)).sort()).toEqual(
      [
        'id',
        'name',
        'scheme',
        'maxWidth',
        'maxHeight',
        'aspect',
        'maxFps',
        'keyframeIntervalSeconds',
        'videoBitrateKbps',
        'constantBitrate',
        'audioSampleRate',
      ].sort(),
    );
  });
});
