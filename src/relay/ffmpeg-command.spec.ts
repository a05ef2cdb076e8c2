import { buildRelayCommand, codecArgs, scrub, secretsOfUrl } from './ffmpeg-command';

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
    const cmd = buildRelayCommand({ output: { kind: 'flv-stdout' }, profile: null });
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
      profile: null,
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
});

describe('codecArgs (transcode profiles)', () => {
  it('full profile: scale without upscaling, fps, CBR-ish bitrate, key frame every 2 s, AAC', () => {
    expect(
      codecArgs({ maxHeight: 480, fps: 30, videoBitrateKbps: 1500, audioBitrateKbps: 96 }),
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
    expect(codecArgs({ audioBitrateKbps: 64 })).toEqual([
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
    const args = codecArgs({ maxHeight: 360 });
    expect(args).toContain('libx264');
    expect(args.slice(-2)).toEqual(['-c:a', 'copy']);
    expect(args).not.toContain('-b:v');
  });
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
