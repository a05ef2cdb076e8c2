import {
  offsetInRecording,
  parseLocalPlaylist,
  pinsInWindow,
  renderLocalPlaylist,
  renderPlaylist,
  totalSeconds,
} from './hls-playlist';
import { MediaClock } from './media-clock';

const T0 = Date.parse('2026-12-02T12:00:00.000Z');
const P = '7b3b3c2e-0000-4000-8000-000000000001';

describe('parseLocalPlaylist', () => {
  it('reads the segments of ffmpeg’s playlist with their sequence numbers', () => {
    const text =
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n' +
      '#EXTINF:2.000000,\nseg_000007.ts\n#EXTINF:1.960000,\nseg_000008.ts\n';
    expect(parseLocalPlaylist(text)).toEqual({
      ended: false,
      segments: [
        { sequence: 7, name: 'seg_000007.ts', durationSeconds: 2 },
        { sequence: 8, name: 'seg_000008.ts', durationSeconds: 1.96 },
      ],
    });
    expect(parseLocalPlaylist(`${text}#EXT-X-ENDLIST\n`).ended).toBe(true);
  });

  it('reads back what renderLocalPlaylist writes (the in-process segmenter’s playlist)', () => {
    const segments = [
      { name: 'seg_000003.ts', durationSeconds: 2.002 },
      { name: 'seg_000004.ts', durationSeconds: 3.5 },
    ];
    const text = renderLocalPlaylist({ sequence: 3, segments, targetSeconds: 2, ended: true });
    expect(text).toContain('#EXT-X-TARGETDURATION:4\n');
    expect(parseLocalPlaylist(text)).toEqual({
      ended: true,
      segments: segments.map((s, i) => ({ sequence: 3 + i, ...s })),
    });
  });
});

describe('renderPlaylist', () => {
  const seg = (i: number, discontinuity = false) => ({
    uri: `seg_${i}.ts`,
    durationSeconds: 2,
    startedAt: T0 + i * 2000,
    discontinuity,
  });

  it('gives each segment its PROGRAM-DATE-TIME and each pin one DATERANGE', () => {
    const text = renderPlaylist({
      type: 'vod',
      segments: [seg(0), seg(1), seg(2, true)],
      mediaSequence: 0,
      pins: [{ productId: P, pinnedAt: T0 + 1500, unpinnedAt: T0 + 4000 }],
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-02T12:00:00.000Z',
        `#EXT-X-DATERANGE:ID="pin-${P}-${T0 + 1500}",CLASS="com.castbridge.pin",START-DATE="2026-12-02T12:00:01.500Z",END-DATE="2026-12-02T12:00:04.000Z",X-PRODUCT-ID="${P}"`,
        '#EXTINF:2.000000,',
        'seg_0.ts',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-02T12:00:02.000Z',
        '#EXTINF:2.000000,',
        'seg_1.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-PROGRAM-DATE-TIME:2026-12-02T12:00:04.000Z',
        '#EXTINF:2.000000,',
        'seg_2.ts',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('a live window has no type, no end, and an open pin without END-DATE', () => {
    const text = renderPlaylist({
      type: 'live',
      segments: [seg(5), seg(6)],
      mediaSequence: 5,
      pins: [{ productId: P, pinnedAt: T0 + 20_000, unpinnedAt: null }],
    });
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:5');
    expect(text).not.toContain('PLAYLIST-TYPE');
    expect(text).not.toContain('ENDLIST');
    expect(text).toMatch(/START-DATE="2026-12-02T12:00:20.000Z",X-PRODUCT-ID=/);
  });

  it('an event playlist (recording under way) says EVENT and has no end', () => {
    const text = renderPlaylist({ type: 'event', segments: [seg(0)], mediaSequence: 0, pins: [] });
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(text).not.toContain('ENDLIST');
  });
});

describe('pinsInWindow', () => {
  it('keeps open pins and those unpinned after the window starts, in time order', () => {
    const pins = [
      { productId: 'b', pinnedAt: 30, unpinnedAt: null },
      { productId: 'a', pinnedAt: 10, unpinnedAt: 20 },
      { productId: 'c', pinnedAt: 5, unpinnedAt: 50 },
    ];
    expect(pinsInWindow(pins, 40).map((p) => p.productId)).toEqual(['c', 'b']);
    expect(pinsInWindow(pins, null).map((p) => p.productId)).toEqual(['c', 'a', 'b']);
  });
});

describe('offsetInRecording', () => {
  const segments = [
    { startedAt: 1000, durationSeconds: 2 },
    { startedAt: 3000, durationSeconds: 2 },
    // a handover: nothing from 5000 to 9000
    { startedAt: 9000, durationSeconds: 2 },
  ];
  it.each([
    [0, 0],
    [1500, 0.5],
    [3500, 2.5],
    [6000, 4],
    [9500, 4.5],
    [20_000, 6],
  ])('%d ms → %d s', (at, s) => expect(offsetInRecording(segments, at)).toBe(s));
  it('sums durations', () => expect(totalSeconds(segments)).toBe(6));
});

describe('MediaClock', () => {
  it('takes the smallest arrival − timestamp (GOP cache arrives late) and the first timestamp', () => {
    const c = new MediaClock();
    expect(c.at(0)).toBeNull();
    c.observe({ timestamp: 0, kind: 'video-header' }, 9000); // sent again to a late joiner
    c.observe({ timestamp: 4000, kind: 'keyframe' }, 10_000); // from the GOP cache, 1 s late
    c.observe({ timestamp: 5000, kind: 'frame' }, 10_000);
    c.observe({ timestamp: 6000, kind: 'audio' }, 11_000); // live
    expect(c.at(0)).toBe(4000 + 5000);
    expect(c.at(2)).toBe(4000 + 5000 + 2000);
  });
});
