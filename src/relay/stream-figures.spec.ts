import { MediaService } from '../media/media.service';
import { audioCodecOf, audioSampleRateOf, StreamFigureWatch, videoCodecOf } from './stream-figures';

const AVC_HEADER = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x64]);
const keyframe = () => Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(1000, 1)]);
const frame = () => Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), Buffer.alloc(1000, 2)]);
/** AAC-LC sequence headers (AudioSpecificConfig: object type 2, frequency index, stereo). */
const AAC_44100 = Buffer.from([0xaf, 0x00, 0x12, 0x10]);
const AAC_48000 = Buffer.from([0xaf, 0x00, 0x11, 0x90]);

describe('FLV tag readers', () => {
  it('video codec: legacy codec ids and enhanced-RTMP FourCCs', () => {
    expect(videoCodecOf(AVC_HEADER)).toBe('h264');
    expect(videoCodecOf(Buffer.from([0x1c, 0x00]))).toBe('hevc');
    expect(videoCodecOf(Buffer.from([0x90, ...Buffer.from('hvc1')]))).toBe('hevc');
    expect(videoCodecOf(Buffer.from([0x90, ...Buffer.from('av01')]))).toBe('av1');
    expect(videoCodecOf(Buffer.alloc(0))).toBeNull();
  });

  it('audio: the format, and the sample rate from the AAC header or the tag', () => {
    expect(audioCodecOf(AAC_44100)).toBe('aac');
    expect(audioSampleRateOf(AAC_44100, true)).toBe(44100);
    expect(audioSampleRateOf(AAC_48000, true)).toBe(48000);
    // An AAC frame (not the header) says nothing of its rate; MP3 says it in the tag.
    expect(audioSampleRateOf(Buffer.from([0xaf, 0x01, 0x21]), false)).toBeNull();
    expect(audioCodecOf(Buffer.from([0x2e, 0xff]))).toBe('mp3');
    expect(audioSampleRateOf(Buffer.from([0x2e, 0xff]), false)).toBe(44100);
    // An explicit frequency (index 15) and a truncated header.
    const explicit = Buffer.from([0xaf, 0x00, 0x17, 0x80, 0x2e, 0xe0, 0x10]); // 2, 15, 24000
    expect(audioSampleRateOf(explicit, true)).toBe(24000);
    expect(audioSampleRateOf(Buffer.from([0xaf, 0x00, 0x12]), true)).toBeNull();
  });
});

describe('StreamFigureWatch', () => {
  function setup() {
    const media = new MediaService();
    let now = 0;
    const watch = new StreamFigureWatch(media, () => now);
    const pub = media.hub.publish('s', 'ingest')!;
    return { media, watch, pub, tick: (ms: number) => (now += ms) };
  }

  it('reads codecs and sample rate, and the key-frame interval before the second key frame comes', () => {
    const { watch, pub } = setup();
    pub.write({ type: 9, timestamp: 0, payload: AVC_HEADER, headroom: false });
    pub.write({ type: 8, timestamp: 0, payload: AAC_48000, headroom: false });
    pub.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false });
    pub.write({ type: 9, timestamp: 1000, payload: frame(), headroom: false });
    // A relay run joining now gets the cached headers and GOP.
    const h = watch.watch({ streamName: 's', ingestNode: 'rtmp://elsewhere:1935' });
    expect(h.figures()).toMatchObject({
      videoCodec: 'h264',
      audioCodec: 'aac',
      audioSampleRate: 48000,
      keyframeIntervalMs: 1000,
    });
    // No key frame for 3 s: at least 3 s between key frames, already.
    pub.write({ type: 9, timestamp: 3000, payload: frame(), headroom: false });
    expect(h.figures().keyframeIntervalMs).toBe(3000);
    // The next key frame at 6 s: the hub's measured interval.
    pub.write({ type: 9, timestamp: 6000, payload: keyframe(), headroom: false });
    pub.write({ type: 9, timestamp: 6033, payload: frame(), headroom: false });
    expect(h.figures().keyframeIntervalMs).toBe(6000);
    h.release();
  });

  it('the bitrate over the last 10 s of live media (not the catch-up), once 5 s are seen', () => {
    const { watch, pub, tick } = setup();
    pub.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false }); // catch-up, not counted
    const h = watch.watch({ streamName: 's', ingestNode: 'x' });
    expect(h.figures().bitrateKbps).toBeNull();
    for (let i = 1; i <= 12; i++) {
      tick(1000);
      for (let f = 0; f < 100; f++)
        pub.write({ type: 9, timestamp: i * 1000 + f, payload: frame(), headroom: false });
      const kbps = h.figures().bitrateKbps;
      if (i < 5) expect(kbps).toBeNull();
    }
    // 100 frames of 1,005 bytes a second ≈ 804 kbps.
    expect(h.figures().bitrateKbps).toBeGreaterThan(780);
    expect(h.figures().bitrateKbps).toBeLessThan(830);
    h.release();
  });

  it('one subscription per stream, shared, closed with the last handle; ready waits for a header', async () => {
    const { media, watch, pub } = setup();
    const a = watch.watch({ streamName: 's', ingestNode: 'x' });
    const b = watch.watch({ streamName: 's', ingestNode: 'x' });
    const ready = b.ready(5000);
    pub.write({ type: 9, timestamp: 0, payload: AVC_HEADER, headroom: false });
    await ready;
    a.release();
    a.release(); // twice is once
    pub.write({ type: 8, timestamp: 0, payload: AAC_44100, headroom: false });
    expect(b.figures().audioSampleRate).toBe(44100);
    b.release();
    pub.end();
    expect(media.hub.size).toBe(0); // nothing subscribed any more
    // ready() gives up after its timeout when no header comes.
    const quiet = media.hub.publish('quiet', 'ingest')!;
    const c = watch.watch({ streamName: 'quiet', ingestNode: 'x' });
    await expect(c.ready(10)).resolves.toBeUndefined();
    c.release();
    quiet.end();
  });
});
