import { PRESETS } from '../destinations/destination-presets';
import type { DestinationProfile } from '../destinations/destination.entity';
import {
  buildRelayCommand,
  codecArgs,
  scrub,
  secretsOfUrl,
  type VideoEncode,
} from './ffmpeg-command';
import { resolveOutput } from './output-plan';
import { UNKNOWN_FIGURES } from './preflight';

/** A custom destination's encode, as the relay resolves it (custom: nothing measured matters). */
const custom = (profile: DestinationProfile) =>
  resolveOutput({ preset: PRESETS.custom, profile, ingest: UNKNOWN_FIGURES, scheme: 'rtmp' })
    .encode;

const GLOBAL = [
  '-hide_banner',
  '-nostdin',
  '-loglevel',
  'error',
  '-progress',
  'pipe:3',
  '-stats_period',
  '0.5',
];
const LOW = ['-probesize', '4096', '-analyzeduration', '0'];

describe('buildRelayCommand', () => {
  it('RTMP destinations: FLV on stdout, never a URL on the command line', () => {
    const cmd = buildRelayCommand({ output: { kind: 'flv-stdout' }, encode: null });
    expect(cmd.args).toEqual([
      ...GLOBAL,
      ...LOW,
      '-f',
      'flv',
      '-i',
      'pipe:0',
      '-map',
      '0:v:0?',
      '-map',
      '0:a:0?',
      '-c',
      'copy',
      '-f',
      'flv',
      '-flvflags',
      'no_duration_filesize',
      'pipe:1',
    ]);
    expect(cmd.args.join(' ')).not.toMatch(/rtmps?:/);
  });

  it('HLS rendition: short segments, rolling playlist, atomic writes', () => {
    const cmd = buildRelayCommand({
      output: { kind: 'hls', dir: '/m/d1' },
      encode: null,
    });
    expect(cmd.args.slice(-11)).toEqual([
      '-f',
      'hls',
      '-hls_time',
      '1',
      '-hls_list_size',
      '6',
      '-hls_flags',
      'delete_segments+independent_segments+temp_file',
      '-hls_segment_filename',
      '/m/d1/seg_%06d.ts',
      '/m/d1/index.m3u8',
    ]);
  });

  it('HLS into a scratch folder the publisher empties: ffmpeg deletes no segment', () => {
    const cmd = buildRelayCommand({
      output: { kind: 'hls', dir: '/s/r1', segmentSeconds: 2, listSize: 30, keepSegments: true },
      encode: null,
    });
    expect(cmd.args).toEqual(expect.arrayContaining(['-c', 'copy']));
    expect(cmd.args.slice(-9)).toEqual([
      '-hls_time',
      '2',
      '-hls_list_size',
      '30',
      '-hls_flags',
      'independent_segments+temp_file',
      '-hls_segment_filename',
      '/s/r1/seg_%06d.ts',
      '/s/r1/index.m3u8',
    ]);
  });

  it('a thorough probe (recordings of streams without sequence headers) reads up to a second', () => {
    const spec = {
      output: {
        kind: 'hls' as const,
        dir: '/s/r1',
        segmentSeconds: 2,
        listSize: 30,
        keepSegments: true,
      },
      encode: null,
    };
    const quick = buildRelayCommand(spec).args;
    const thorough = buildRelayCommand({ ...spec, thoroughProbe: true }).args;
    expect(quick.join(' ')).toContain(LOW.join(' '));
    expect(thorough.join(' ')).toContain(
      '-probesize 2000000 -analyzeduration 1000000 -f flv -i pipe:0',
    );
    expect(thorough.join(' ')).not.toContain(LOW.join(' '));
  });
});

describe('codecArgs (custom transcode profiles: the lists they always had)', () => {
  it('full profile: scale without upscaling, fps, CBR-ish bitrate, key frame every 2 s, AAC', () => {
    expect(
      codecArgs(custom({ maxHeight: 480, fps: 30, videoBitrateKbps: 1500, audioBitrateKbps: 96 })),
    ).toEqual([
      '-map',
      '0:v:0?',
      '-map',
      '0:a:0?',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      "scale=-2:'min(ih,480)',fps=30",
      '-b:v',
      '1500k',
      '-maxrate',
      '1500k',
      '-bufsize',
      '3000k',
      '-force_key_frames',
      'expr:gte(t,n_forced*2)',
      '-sc_threshold',
      '0',
      '-c:a',
      'aac',
      '-b:a',
      '96k',
      '-ar',
      '44100',
    ]);
  });
  it('audio-only profile copies the video', () => {
    expect(codecArgs(custom({ audioBitrateKbps: 64 }))).toEqual([
      '-map',
      '0:v:0?',
      '-map',
      '0:a:0?',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-ar',
      '44100',
    ]);
  });
  it('video-only profile copies the audio', () => {
    const args = codecArgs(custom({ maxHeight: 360 }));
    expect(args).toContain('libx264');
    expect(args.slice(-2)).toEqual(['-c:a', 'copy']);
    expect(args).not.toContain('-b:v');
  });
});

const MAP = ['-map', '0:v:0?', '-map', '0:a:0?'];
const X264 = [
  '-c:v',
  'libx264',
  '-preset',
  'veryfast',
  '-tune',
  'zerolatency',
  '-pix_fmt',
  'yuv420p',
];
const keyframes = (s: number) => [
  '-force_key_frames',
  `expr:gte(t,n_forced*${s})`,
  '-sc_threshold',
  '0',
];
const video = (v: Partial<VideoEncode>): VideoEncode => ({
  frame: null,
  scale: null,
  fps: null,
  bitrateKbps: null,
  constantBitrate: false,
  keyframeSeconds: 2,
  ...v,
});

describe('codecArgs (shapes, rate control, audio)', () => {
  it('crop: the middle of the picture at the frame aspect, scaled to the frame', () => {
    const frame = { width: 720, height: 1280, fit: 'crop' as const, aspect: '9:16' as const };
    expect(codecArgs({ video: video({ frame }), audio: 'copy' })).toEqual([
      ...MAP,
      ...X264,
      '-vf',
      "crop='trunc(min(iw,ih*9/16)/2)*2':'trunc(min(ih,iw/(9/16))/2)*2',scale=720:1280,setsar=1",
      ...keyframes(2),
      '-c:a',
      'copy',
    ]);
  });

  it('pad: fitted and centred on black, after the fps filter', () => {
    const frame = { width: 720, height: 1280, fit: 'pad' as const, aspect: '9:16' as const };
    expect(codecArgs({ video: video({ frame, fps: 30 }), audio: 'copy' })).toEqual([
      ...MAP,
      ...X264,
      '-vf',
      'fps=30,scale=720:1280:force_original_aspect_ratio=decrease:force_divisible_by=2,' +
        'pad=720:1280:(ow-iw)/2:(oh-ih)/2,setsar=1',
      ...keyframes(2),
      '-c:a',
      'copy',
    ]);
  });

  it('blur: the fitted picture over a blurred, scaled-to-fill copy of itself', () => {
    const frame = { width: 720, height: 1280, fit: 'blur' as const, aspect: '9:16' as const };
    expect(codecArgs({ video: video({ frame }), audio: 'copy' })).toEqual([
      ...MAP,
      ...X264,
      '-vf',
      'split[bg][fg];' +
        '[bg]scale=180:320:force_original_aspect_ratio=increase,crop=180:320,boxblur=8:2,scale=720:1280[blurred];' +
        '[fg]scale=720:1280:force_original_aspect_ratio=decrease:force_divisible_by=2[fitted];' +
        '[blurred][fitted]overlay=(W-w)/2:(H-h)/2,setsar=1',
      ...keyframes(2),
      '-c:a',
      'copy',
    ]);
  });

  it('CBR: -b:v = -minrate = -maxrate, a one-second buffer, nal-hrd cbr; key frames from the preset', () => {
    expect(
      codecArgs({
        video: video({
          scale: { maxWidth: 1920, maxHeight: 1080 },
          bitrateKbps: 4500,
          constantBitrate: true,
          keyframeSeconds: 1,
        }),
        audio: 'copy',
      }),
    ).toEqual([
      ...MAP,
      ...X264,
      '-vf',
      "scale='min(iw,1920)':'min(ih,1080)':force_original_aspect_ratio=decrease:force_divisible_by=2",
      '-b:v',
      '4500k',
      '-minrate',
      '4500k',
      '-maxrate',
      '4500k',
      '-bufsize',
      '4500k',
      '-nal-hrd',
      'cbr',
      ...keyframes(1),
      '-c:a',
      'copy',
    ]);
  });

  it('audio at the asked sample rate; the video copied', () => {
    expect(codecArgs({ video: 'copy', audio: { bitrateKbps: 128, sampleRate: 48000 } })).toEqual([
      ...MAP,
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-ar',
      '48000',
    ]);
  });

  it('audio only: the video dropped (-vn), only the audio mapped', () => {
    expect(codecArgs({ video: 'none', audio: 'copy' })).toEqual([
      '-map',
      '0:a:0?',
      '-vn',
      '-c:a',
      'copy',
    ]);
    expect(codecArgs(custom({ audioOnly: true, audioBitrateKbps: 64 }))).toEqual([
      '-map',
      '0:a:0?',
      '-vn',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-ar',
      '44100',
    ]);
  });

  it('passthrough copies both streams', () =>
    expect(codecArgs(null)).toEqual([...MAP, '-c', 'copy']));
});

describe('secrets', () => {
  it('finds the key in a push URL and scrubs it from ffmpeg output', () => {
    const url = 'rtmp://a.example.com/live2/abcd-efgh-ijkl';
    const secrets = secretsOfUrl(url);
    const msg = `[rtmp @ 0x1] Server error: ${url}: Connection refused; key abcd-efgh-ijkl`;
    expect(scrub(msg, secrets)).toBe(
      '[rtmp @ 0x1] Server error: ****: Connection refused; key ****',
    );
  });
});
