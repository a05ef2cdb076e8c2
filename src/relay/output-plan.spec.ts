import { PRESETS } from '../destinations/destination-presets';
import type { DestinationProfile } from '../destinations/destination.entity';
import { codecArgs } from './ffmpeg-command';
import { frameFor, ladderKbps, resolveOutput, ResolveInput } from './output-plan';
import { StreamFigures, UNKNOWN_FIGURES } from './preflight';
import { GOOD_720P } from './preflight.fixtures';

const resolve = (
  preset: keyof typeof PRESETS,
  profile: DestinationProfile,
  ingest: StreamFigures = GOOD_720P,
  more: Partial<ResolveInput> = {},
) => resolveOutput({ preset: PRESETS[preset], profile, ingest, scheme: 'rtmps', ...more });

const SIX_SECOND_GOP: StreamFigures = { ...GOOD_720P, keyframeIntervalMs: 6000 };

describe('resolveOutput', () => {
  it("passthrough never encodes; its warnings are the ingest's", () => {
    const r = resolve('facebook', null, SIX_SECOND_GOP);
    expect(r.encode).toBeNull();
    expect(r.warnings.map((w) => w.code)).toEqual(['KEYFRAME_INTERVAL_TOO_LONG']);
  });

  it('"auto" passes through an ingest that fits', () => {
    const r = resolve('facebook', 'auto');
    expect(r).toMatchObject({
      encode: null,
      warnings: [],
      reencoding: { video: false, audio: false },
    });
  });

  it('"auto" re-encodes the video for a key-frame interval it can fix, copies the audio, and the warning goes', () => {
    const r = resolve('facebook', 'auto', SIX_SECOND_GOP);
    expect(r.findings.map((f) => f.code)).toEqual(['KEYFRAME_INTERVAL_TOO_LONG']);
    expect(r.warnings).toEqual([]);
    expect(r.encode).toEqual({
      video: {
        frame: null,
        scale: { maxWidth: 1920, maxHeight: 1080 },
        fps: null,
        bitrateKbps: 3000, // 720p on the ladder, within Facebook's 400–9,000
        constantBitrate: true,
        keyframeSeconds: 2,
      },
      audio: 'copy',
    });
  });

  it('"auto" only re-encodes the audio for a sample rate it can fix', () => {
    const r = resolve('linkedin', 'auto', { ...GOOD_720P, audioSampleRate: 44100 });
    expect(r.encode).toEqual({ video: 'copy', audio: { bitrateKbps: 128, sampleRate: 48000 } });
    expect(r.warnings).toEqual([]);
  });

  it('"auto" cannot fix the scheme: it passes through and the warning stays', () => {
    const r = resolve('facebook', 'auto', GOOD_720P, { scheme: 'rtmp' });
    expect(r.encode).toBeNull();
    expect(r.warnings.map((w) => w.code)).toEqual(['SCHEME_NOT_ALLOWED']);
  });

  it('a run that re-encodes never goes back to copying (no flapping on a bitrate at the limit)', () => {
    const r = resolve('facebook', 'auto', GOOD_720P, { reencoding: { video: true, audio: false } });
    expect(r.encode?.video).not.toBe('copy');
    expect(r.reencoding).toEqual({ video: true, audio: false });
  });

  it('a 16:9 ingest to TikTok ("auto"): a 9:16 frame keeping the short side, padded by default', () => {
    const r = resolve('tiktok', 'auto');
    expect(r.findings.map((f) => f.code)).toEqual(['ASPECT_MISMATCH']);
    expect(r.encode?.video).toMatchObject({
      frame: { width: 720, height: 1280, fit: 'pad', aspect: '9:16' },
      bitrateKbps: 3000,
      constantBitrate: false,
    });
    expect(r.warnings).toEqual([]);
  });

  it('profile fields override the preset; what they make wrong is still warned', () => {
    const r = resolve('tiktok', { fit: 'blur', fps: 24, videoBitrateKbps: 8000 });
    expect(r.encode?.video).toMatchObject({
      frame: { width: 720, height: 1280, fit: 'blur' },
      fps: 24,
      bitrateKbps: 8000,
    });
    expect(r.warnings.map((w) => w.code)).toEqual(['BITRATE_TOO_HIGH']);
    // aspect "source" keeps the ingest's shape on a 9:16 preset, and says so.
    const kept = resolve('tiktok', { aspect: 'source', maxHeight: 480 });
    expect(kept.encode?.video).toMatchObject({
      frame: null,
      scale: { maxWidth: 1920, maxHeight: 480 },
    });
    expect(kept.warnings.map((w) => w.code)).toEqual(['ASPECT_MISMATCH']);
  });

  it('an aspect the profile names is made whatever the preset (custom: no caps, no bitrate)', () => {
    const r = resolve(
      'custom',
      { aspect: '1:1', fit: 'crop' },
      { ...GOOD_720P, width: 640, height: 360 },
    );
    expect(r.encode?.video).toEqual({
      frame: { width: 360, height: 360, fit: 'crop', aspect: '1:1' },
      scale: null,
      fps: null,
      bitrateKbps: null,
      constantBitrate: false,
      keyframeSeconds: 2,
    });
  });

  it('a frame too big for the preset is brought within it', () => {
    expect(frameFor('9:16', { width: 3840, height: 2160 }, PRESETS.tiktok, undefined)).toEqual({
      width: 1080,
      height: 1920,
    });
    expect(frameFor('9:16', { width: 1280, height: 720 }, PRESETS.instagram, 640)).toEqual({
      width: 360,
      height: 640,
    });
    expect(frameFor('16:9', { width: null, height: null }, PRESETS.custom, undefined)).toEqual({
      width: 1280,
      height: 720,
    });
  });

  it('the preset aspect waits for the ingest size; until then only the box applies', () => {
    const r = resolve('tiktok', { videoBitrateKbps: 2000 }, UNKNOWN_FIGURES);
    expect(r.encode?.video).toMatchObject({
      frame: null,
      scale: { maxWidth: 1080, maxHeight: 1920 },
    });
  });

  it('too high a frame rate and resolution are brought down by auto', () => {
    const r = resolve('linkedin', 'auto', { ...GOOD_720P, width: 2560, height: 1440, fps: 60 });
    expect(r.findings.map((f) => f.code)).toEqual(['RESOLUTION_TOO_HIGH', 'FPS_TOO_HIGH']);
    expect(r.encode?.video).toMatchObject({ scale: { maxWidth: 1920, maxHeight: 1080 }, fps: 30 });
    expect(r.warnings).toEqual([]);
  });

  it('audio only drops the video whatever the preset', () => {
    expect(resolve('youtube', { audioOnly: true }).encode).toEqual({
      video: 'none',
      audio: 'copy',
    });
  });

  it('identical destinations resolve to identical codec arguments (they can share one encoder)', () => {
    const a = codecArgs(resolve('tiktok', 'auto').encode);
    const b = codecArgs(resolve('tiktok', { fit: 'pad' }).encode);
    expect(a).toEqual(b);
    expect(codecArgs(resolve('tiktok', { fit: 'blur' }).encode)).not.toEqual(a);
  });

  it('the bitrate ladder', () => {
    expect([360, 480, 720, 1080, 2160].map((s) => ladderKbps(s, 30))).toEqual([
      1000, 1500, 3000, 4500, 8000,
    ]);
    expect(ladderKbps(720, 60)).toBe(4500);
  });
});
