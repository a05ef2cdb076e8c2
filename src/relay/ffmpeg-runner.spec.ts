import { parseProgress } from './ffmpeg-runner';

describe('parseProgress', () => {
  it('reads bitrate, size, fps and the output clock', () => {
    const block = [
      'frame=120',
      'fps=30.02',
      'stream_0_0_q=-1.0',
      'bitrate=2048.3kbits/s',
      'total_size=1024000',
      'out_time_us=4000000',
      'out_time=00:00:04.000000',
      'speed=1x',
      'progress=continue',
      '',
    ].join('\n');
    expect(parseProgress(block)).toEqual({
      bitrateKbps: 2048,
      totalSize: 1024000,
      fps: 30.02,
      outTimeMs: 4000,
    });
  });
  it('treats N/A (before the first packet, or HLS without total_size) as unknown', () => {
    expect(
      parseProgress('bitrate=N/A\ntotal_size=N/A\nout_time_us=N/A\nfps=0.00\nprogress=continue\n'),
    ).toEqual({ bitrateKbps: null, totalSize: 0, fps: 0, outTimeMs: 0 });
  });
});
