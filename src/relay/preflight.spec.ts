import { PRESETS } from '../destinations/destination-presets';
import { preflight, sameWarnings, StreamFigures, UNKNOWN_FIGURES } from './preflight';
import { GOOD_720P } from './preflight.fixtures';

const codes = (f: StreamFigures, preset = PRESETS.facebook, scheme: 'rtmp' | 'rtmps' = 'rtmps') =>
  preflight(f, preset, scheme).map((x) => x.code);

describe('preflight', () => {
  it('a stream that fits has no findings; custom checks nothing', () => {
    for (const id of ['youtube', 'facebook', 'twitch', 'linkedin'] as const) {
      expect(codes(GOOD_720P, PRESETS[id])).toEqual([]);
    }
    expect(codes({ ...GOOD_720P, width: 4000, fps: 120 }, PRESETS.custom, 'rtmp')).toEqual([]);
  });

  it('nothing known, nothing warned', () => expect(codes(UNKNOWN_FIGURES)).toEqual([]));

  it('key frames: longer than the preset asks (with 100 ms of slack) is warned, and fixable by the video', () => {
    expect(codes({ ...GOOD_720P, keyframeIntervalMs: 2033 })).toEqual([]);
    const [f] = preflight({ ...GOOD_720P, keyframeIntervalMs: 6000 }, PRESETS.facebook, 'rtmps');
    expect(f).toEqual({
      code: 'KEYFRAME_INTERVAL_TOO_LONG',
      message: 'key frames every 6 s; Facebook Live asks for one every 2 s',
      fix: 'video',
    });
  });

  it('RTMPS-only platforms warn about an rtmp:// URL (not fixable by a transcode)', () => {
    expect(preflight(GOOD_720P, PRESETS.facebook, 'rtmp')).toEqual([
      {
        code: 'SCHEME_NOT_ALLOWED',
        message: "Facebook Live takes RTMPS only: the destination's URL is rtmp://",
        fix: null,
      },
    ]);
    expect(codes(GOOD_720P, PRESETS.youtube, 'rtmp')).toEqual([]);
  });

  it('size in either orientation, aspect, fps', () => {
    expect(codes({ ...GOOD_720P, width: 2560, height: 1440 })).toEqual(['RESOLUTION_TOO_HIGH']);
    // 1080×1920 fits TikTok's frame; 1920×1080 fits its size but not its aspect.
    expect(codes({ ...GOOD_720P, width: 1080, height: 1920 }, PRESETS.tiktok)).toEqual([]);
    expect(codes({ ...GOOD_720P, width: 1920, height: 1080 }, PRESETS.tiktok)).toEqual([
      'ASPECT_MISMATCH',
    ]);
    expect(codes({ ...GOOD_720P, width: 854, height: 480 })).toEqual([]); // within 2 %
    expect(codes({ ...GOOD_720P, width: 640, height: 480 })).toEqual(['ASPECT_MISMATCH']);
    expect(codes({ ...GOOD_720P, fps: 60 }, PRESETS.linkedin)).toEqual(['FPS_TOO_HIGH']);
    expect(codes({ ...GOOD_720P, fps: 30.3 }, PRESETS.linkedin)).toEqual([]);
  });

  it('bitrate: 10 % over the maximum warns; once warned, it clears only within the maximum', () => {
    const twitch = PRESETS.twitch; // 3,000–6,000 kbps
    expect(codes({ ...GOOD_720P, bitrateKbps: 6500 }, twitch)).toEqual([]);
    expect(codes({ ...GOOD_720P, bitrateKbps: 6700 }, twitch)).toEqual(['BITRATE_TOO_HIGH']);
    const again = (kbps: number) =>
      preflight({ ...GOOD_720P, bitrateKbps: kbps }, twitch, 'rtmp', ['BITRATE_TOO_HIGH']).map(
        (f) => f.code,
      );
    expect(again(6500)).toEqual(['BITRATE_TOO_HIGH']);
    expect(again(5900)).toEqual([]);
    const [low] = preflight({ ...GOOD_720P, bitrateKbps: 800 }, twitch, 'rtmp');
    expect(low).toMatchObject({ code: 'BITRATE_TOO_LOW', fix: null });
  });

  it('codecs and the audio sample rate', () => {
    expect(
      preflight({ ...GOOD_720P, videoCodec: 'hevc', audioCodec: 'mp3' }, PRESETS.youtube, 'rtmp'),
    ).toEqual([
      {
        code: 'VIDEO_CODEC_NOT_SUPPORTED',
        message: 'the video is hevc; YouTube Live takes H.264',
        fix: 'video',
      },
      {
        code: 'AUDIO_CODEC_NOT_SUPPORTED',
        message: 'the audio is mp3; YouTube Live takes AAC',
        fix: 'audio',
      },
    ]);
    expect(codes({ ...GOOD_720P, audioSampleRate: 44100 }, PRESETS.linkedin, 'rtmp')).toEqual([
      'AUDIO_SAMPLE_RATE',
    ]);
    expect(codes({ ...GOOD_720P, audioSampleRate: 32000 }, PRESETS.facebook)).toEqual([
      'AUDIO_SAMPLE_RATE',
    ]);
    expect(codes({ ...GOOD_720P, audioSampleRate: 32000 }, PRESETS.twitch, 'rtmp')).toEqual([]);
  });

  it('an audio-only stream has no video findings', () =>
    expect(
      codes({
        ...GOOD_720P,
        videoCodec: 'none',
        width: 4000,
        height: 100,
        keyframeIntervalMs: 9000,
      }),
    ).toEqual([]));

  it('warnings change when their codes do, not when their figures move', () => {
    const a = [{ code: 'BITRATE_TOO_HIGH' as const, message: 'the stream is 9,500 kbps' }];
    const b = [{ code: 'BITRATE_TOO_HIGH' as const, message: 'the stream is 9,800 kbps' }];
    expect(sameWarnings(a, b)).toBe(true);
    expect(sameWarnings(a, [])).toBe(false);
  });
});
