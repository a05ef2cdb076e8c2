import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MediaClock } from '../media/media-clock';
import type { MediaStorage } from '../storage/media-storage';
import { HlsPublisher, PublishedFile } from './hls-publisher';

/** Storage in memory: what the publisher stored, key by key. */
class MemoryStorage implements MediaStorage {
  readonly driver = 'local' as const;
  readonly objects = new Map<string, Buffer>();
  failPuts = false;
  put(key: string, body: Buffer): Promise<void> {
    if (this.failPuts) return Promise.reject(new Error('store down'));
    this.objects.set(key, body);
    return Promise.resolve();
  }
  async putFile(key: string, path: string): Promise<number> {
    const body = readFileSync(path);
    await this.put(key, body);
    return body.length;
  }
  get(key: string) {
    const b = this.objects.get(key);
    return Promise.resolve(
      b ? { body: Readable.from([b]), size: b.length, contentType: 'x' } : null,
    );
  }
  read(key: string) {
    return Promise.resolve(this.objects.get(key) ?? null);
  }
  delete(key: string) {
    this.objects.delete(key);
    return Promise.resolve();
  }
  deletePrefix(prefix: string) {
    for (const k of [...this.objects.keys()]) if (k.startsWith(prefix)) this.objects.delete(k);
    return Promise.resolve();
  }
  presignedUrl() {
    return Promise.resolve(null);
  }
}

const T0 = Date.parse('2026-12-02T12:00:00.000Z');

describe('HlsPublisher', () => {
  let dir: string;
  let storage: MemoryStorage;
  const clock = new MediaClock();
  clock.observe({ timestamp: 0, kind: 'keyframe' }, T0);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cb-pub-'));
    storage = new MemoryStorage();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A live publisher of `hls/d/` with no pins. */
  const live = (listSize: number) =>
    new HlsPublisher(
      dir,
      { storage, prefix: 'hls/d/', type: 'live', listSize, pins: async () => [] },
      clock,
    );

  /** ffmpeg's muxer: segments first..last in its playlist, their files on disk. */
  async function ffmpegWrote(first: number, last: number, ended = false) {
    let text = `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${first}\n`;
    for (let n = first; n <= last; n++) {
      text += `#EXTINF:2.000000,\nseg_${n}.ts\n`;
      await writeFile(join(dir, `seg_${n}.ts`), `media ${n}`);
    }
    await writeFile(join(dir, 'index.m3u8'), ended ? `${text}#EXT-X-ENDLIST\n` : text);
  }

  it('recording: stores each segment, notes it, deletes the local file, continues after earlier runs', async () => {
    const earlier: PublishedFile[] = [
      {
        uri: 'seg_000000.ts',
        key: 'recordings/s/seg_000000.ts',
        durationSeconds: 2,
        startedAt: T0 - 10_000,
        bytes: 3,
        discontinuity: false,
      },
    ];
    const noted: number[] = [];
    const p = new HlsPublisher(
      dir,
      {
        storage,
        prefix: 'recordings/s/',
        type: 'recording',
        listSize: 0,
        earlier,
        pins: async () => [{ productId: 'p1', pinnedAt: T0 + 1000, unpinnedAt: null }],
        onSegment: async (_f, seq) => void noted.push(seq),
      },
      clock,
    );
    await ffmpegWrote(0, 1, true);
    await p.finish(true);
    expect(noted).toEqual([1, 2]);
    expect(storage.objects.get('recordings/s/seg_000001.ts')?.toString()).toBe('media 0');
    expect(storage.objects.get('recordings/s/seg_000002.ts')?.toString()).toBe('media 1');
    expect(await readdir(dir)).toEqual(['index.m3u8']);
    const playlist = storage.objects.get('recordings/s/index.m3u8')!.toString();
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(playlist.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
    expect(playlist).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-12-02T12:00:02.000Z');
    expect(playlist).toContain('X-PRODUCT-ID="p1"');
    expect(p.bytes).toBe(14);
  });

  it('live: a window of the last segments, older ones deleted from storage, names unique per run', async () => {
    const p = live(2);
    await ffmpegWrote(0, 5);
    await p.finish(false);
    const segments = [...storage.objects.keys()].filter((k) => k.endsWith('.ts'));
    expect(segments).toHaveLength(4); // the window of 2, and 2 more a player may still fetch
    expect(segments.every((k) => /^hls\/d\/seg_[0-9a-z]+_00000[2-5]\.ts$/.test(k))).toBe(true);
    const playlist = storage.objects.get('hls/d/index.m3u8')!.toString();
    expect(playlist).toContain('#EXT-X-MEDIA-SEQUENCE:4');
    expect(playlist.match(/#EXTINF/g)).toHaveLength(2);
    expect(playlist).not.toContain('ENDLIST');
  });

  it('a storage failure is reported once and stops it', async () => {
    storage.failPuts = true;
    const p = live(2);
    await ffmpegWrote(0, 0);
    await p.finish(false);
    await expect(p.failed).resolves.toBe('store down');
    expect(p.error?.message).toBe('store down');
  });

  it('keeps the last pins when reading them fails', async () => {
    let fail = false;
    const p = new HlsPublisher(
      dir,
      {
        storage,
        prefix: 'hls/d/',
        type: 'live',
        listSize: 6,
        pins: async () => {
          if (fail) throw new Error('db away');
          return [{ productId: 'p1', pinnedAt: T0, unpinnedAt: null }];
        },
      },
      clock,
    );
    await ffmpegWrote(0, 0);
    p.start();
    await p.finish(false);
    fail = true;
    await ffmpegWrote(0, 1);
    await p.finish(false);
    expect(storage.objects.get('hls/d/index.m3u8')!.toString()).toContain('X-PRODUCT-ID="p1"');
    expect(p.error).toBeNull();
  });
});
