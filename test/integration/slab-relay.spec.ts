import { MediaHub, MediaMessage, Publication } from '../../src/media/media-hub';
import { MediaService } from '../../src/media/media.service';
import { slabFigures } from '../../src/media/payload-slabs';
import { startPush } from '../../src/media/rtmp-push';
import { waitFor } from '../support/processes';

jest.setTimeout(60_000);

/** Frame n: a 5-byte FLV video header, then `size` bytes that say n (and its position). */
function frame(n: number, key: boolean, size: number): Buffer {
  const b = Buffer.allocUnsafe(5 + size);
  b.set([key ? 0x17 : 0x27, 0x01, 0, 0, 0]);
  for (let i = 5; i < b.length; i++) b[i] = (n * 31 + i) & 0xff;
  return b;
}
const AVC_HEADER = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f]);

/**
 * The ingest's slabs end to end, over real sockets: a source pushes numbered frames to an
 * ingest (received into slabs, read through the shared read buffer), which pushes them
 * on to a second ingest (the destination) for many GOPs, so that every slab is reused
 * many times while pushes are corked and flushing. Every frame must arrive whole, in
 * order, byte for byte; one wrong reuse shows as a frame whose bytes are another's.
 */
describe('an ingest relaying through its payload slabs', () => {
  const services: MediaService[] = [];
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  async function ingest(name: string): Promise<{ media: MediaService; port: number }> {
    const media = new MediaService();
    services.push(media);
    const { port } = await media.listen(
      { host: '127.0.0.1', port: 0 },
      {
        authorizePublish: async (a) => (a.name === 'key' ? name : null),
        published: () => undefined,
        publishEnded: () => undefined,
      },
    );
    return { media, port };
  }

  /**
   * A subscriber that checks each frame is the next one, byte for byte (from the first
   * key frame it sees: a play that starts late begins at a GOP).
   */
  function checker(): { got: () => number; broken: number[]; deliver: (m: MediaMessage) => void } {
    let got = 0;
    let next = -1;
    const broken: number[] = [];
    return {
      got: () => got,
      broken,
      deliver: (m) => {
        if (m.kind !== 'keyframe' && m.kind !== 'frame') return;
        const n = m.timestamp / 10;
        if (next < 0 && m.kind === 'keyframe') next = n;
        const want = frame(n, m.kind === 'keyframe', m.payload.length - 5);
        if (n !== next || !m.payload.equals(want)) broken.push(n);
        next = n + 1;
        got += 1;
      },
    };
  }

  /**
   * 40 GOPs of 30 frames, 2–40 KB each (key frames over the 64 KiB chunk size): about
   * 20 MB through slabs of 128 KiB.
   */
  const FRAMES = 1200;
  async function sendFrames(pub: Publication): Promise<void> {
    pub.write({ type: 9, timestamp: 0, payload: AVC_HEADER, headroom: false });
    for (let n = 0; n < FRAMES; n++) {
      const key = n % 30 === 0;
      const size = key ? 70_000 + (n % 7) * 1000 : 2000 + ((n * 7919) % 38_000);
      pub.write({ type: 9, timestamp: n * 10, payload: frame(n, key, size), headroom: false });
      if (n % 30 === 29) await new Promise((r) => setTimeout(r, 5)); // sockets drain
    }
  }

  async function pushInto(port: number): Promise<{ pub: Publication; stop: () => Promise<void> }> {
    const source = new MediaHub();
    const pub = source.publish('src', 'test')!;
    const run = startPush(
      source,
      'src',
      { url: `rtmp://127.0.0.1:${port}/live/key` },
      { maxBufferedBytes: 64 * 1024 * 1024 },
    );
    return {
      pub,
      stop: async () => {
        await run.stop();
        pub.end();
      },
    };
  }

  it('delivers every frame intact while its slabs are reused', async () => {
    const middle = await ingest('middle');
    const end = await ingest('end');
    const check = checker();
    end.media.hub.subscribe('end', check);
    const source = await pushInto(middle.port);
    const onward = startPush(
      middle.media.hub,
      'middle',
      { url: `rtmp://127.0.0.1:${end.port}/live/key` },
      { maxBufferedBytes: 64 * 1024 * 1024 },
    );
    await waitFor(async () => middle.media.hub.has('middle'), { what: 'the middle ingest live' });
    await waitFor(async () => end.media.hub.has('end'), { what: 'the destination live' });
    const reused = slabFigures.reused;
    await sendFrames(source.pub);
    await waitFor(async () => check.got() >= FRAMES - 1 || check.broken.length > 0, {
      what: 'every frame at the destination',
      timeoutMs: 30_000,
    });
    expect(check.broken).toEqual([]);
    expect(check.got()).toBeGreaterThanOrEqual(FRAMES - 1);
    expect(slabFigures.reused - reused).toBeGreaterThan(50);
    await source.stop();
    await onward.stop();
  });

  it("a pull from another node's ingest receives into slabs too, every frame intact", async () => {
    const origin = await ingest('origin');
    const node = new MediaService(); // a relay worker elsewhere: no ingest of its own
    services.push(node);
    const check = checker();
    const source = await pushInto(origin.port);
    await waitFor(async () => origin.media.hub.has('origin'), { what: 'the origin live' });
    const sub = node.subscribe('origin', `rtmp://127.0.0.1:${origin.port}`, check);
    await waitFor(async () => node.hub.producerOf('origin') === 'pull', { what: 'the pull' });
    const reused = slabFigures.reused;
    await sendFrames(source.pub);
    await waitFor(async () => check.got() >= FRAMES - 60 || check.broken.length > 0, {
      what: 'every frame pulled',
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(check.broken).toEqual([]);
    expect(slabFigures.reused - reused).toBeGreaterThan(50);
    sub.close();
    await source.stop();
  });
});
