import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  connectionFds,
  Fetched,
  openFds,
  PlaybackApp,
  rawGet,
  startPlaybackApp,
} from '../support/playback';
import { waitFor } from '../support/processes';

jest.setTimeout(60_000);

const SEGMENT_BYTES = 2 * 1024 * 1024; // larger than what loopback buffers, so a reader can stop mid-file
const KEEP = 3; // segments kept on disk, as ffmpeg's delete_segments does with hls_list_size
const STEP_MS = 40;
const RUN_MS = 4000;
const READERS = 24;

/** Segment n's bytes: its number in the first 8 bytes, then a fill of its own. */
function segment(n: number): Buffer {
  const b = Buffer.alloc(SEGMENT_BYTES, n & 0xff);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
const segName = (n: number) => `seg_${String(n).padStart(6, '0')}.ts`;
function playlist(last: number): string {
  const first = Math.max(0, last - KEEP + 1);
  let text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:${first}\n`;
  for (let n = first; n <= last; n++) text += `#EXTINF:1.000000,\n${segName(n)}\n`;
  return text;
}

/**
 * ffmpeg's HLS muxer (temp_file + delete_segments) writes a segment and the playlist to a
 * temporary name, renames them into place and deletes the oldest segment, every second.
 * Here it does so every 40 ms while many clients fetch the segments, some of them
 * leaving mid-segment: each answer is the whole file or a 404, the process stays up, and
 * every file descriptor opened for them is closed again.
 */
describe('HLS files deleted and replaced while they are served', () => {
  let p: PlaybackApp;
  beforeAll(async () => {
    p = await startPlaybackApp();
    await mkdir(p.dir, { recursive: true });
  });
  afterAll(() => p?.t.close());

  const inDir = (targets: string[]) => targets.filter((f) => f.startsWith(p.dir));

  it('answers 200 with the whole file or 404, never crashes, leaves no descriptor open', async () => {
    let last = 0;
    const publish = async (n: number) => {
      await writeFile(join(p.dir, `${segName(n)}.tmp`), segment(n));
      await rename(join(p.dir, `${segName(n)}.tmp`), join(p.dir, segName(n)));
      await writeFile(join(p.dir, 'index.m3u8.tmp'), playlist(n));
      await rename(join(p.dir, 'index.m3u8.tmp'), join(p.dir, 'index.m3u8'));
      if (n >= KEEP) await unlink(join(p.dir, segName(n - KEEP)));
      last = n;
    };
    await publish(0);

    // Warm-up (the database pool fills), then the baseline of open descriptors.
    const url = (file: string) => `/hls/${p.destinationId}/${file}`;
    const warm = await Promise.all(
      Array.from({ length: READERS }, () => rawGet(p.port, url('index.m3u8'))),
    );
    expect(warm.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    const before = openFds();
    expect(inDir(before)).toEqual([]);

    let running = true;
    const writer = (async () => {
      for (let n = 1; running; n++) {
        await publish(n);
        await new Promise((r) => setTimeout(r, STEP_MS));
      }
    })();

    const results: Array<{ file: string; leave: boolean; got: Fetched }> = [];
    const reader = async (i: number) => {
      for (let k = 0; running; k++) {
        // The newest segments, the oldest of them about to be deleted; the playlist now and then.
        const file =
          k % 5 === 0 ? 'index.m3u8' : segName(Math.max(0, last - ((i + k) % (KEEP + 1))));
        const leave = i % 3 === 0 && file !== 'index.m3u8';
        results.push({
          file,
          leave,
          got: await rawGet(p.port, url(file), { abortAfterFirstChunk: leave }),
        });
      }
    };
    const readers = Array.from({ length: READERS }, (_, i) => reader(i));
    await new Promise((r) => setTimeout(r, RUN_MS));
    running = false;
    await Promise.all([writer, ...readers]);

    // Alive.
    await p.t.http().get('/health/live').expect(200);

    const problems: string[] = [];
    const counts = { ok: 0, missing: 0, left: 0 };
    for (const { file, leave, got } of results) {
      if (got.kind === 'aborted-by-us' && leave) {
        counts.left++;
      } else if (got.kind !== 'response') {
        problems.push(`${file}: ${got.kind === 'failed' ? got.error : got.kind}`);
      } else if (got.status === 404) {
        counts.missing++;
      } else if (got.status !== 200) {
        problems.push(`${file}: ${got.status}`);
      } else if (file === 'index.m3u8') {
        const seq = /#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(got.body.toString())?.[1];
        const lastListed = Number(/seg_(\d{6})\.ts\n$/.exec(got.body.toString())?.[1]);
        if (seq === undefined || got.body.toString() !== playlist(lastListed))
          problems.push(`${file}: not a whole playlist`);
        else counts.ok++;
      } else if (!got.body.equals(segment(Number(file.slice(4, 10))))) {
        problems.push(`${file}: ${got.body.length} bytes, not the whole segment`);
      } else {
        counts.ok++;
      }
    }
    expect(problems).toEqual([]);
    // The race was run: whole files, files already deleted, clients leaving mid-file.
    expect(counts.ok).toBeGreaterThan(20);
    expect(counts.missing).toBeGreaterThan(5);
    expect(counts.left).toBeGreaterThan(10);

    // Every descriptor opened on a segment or playlist is closed (deleted files included).
    await waitFor(async () => inDir(openFds()).length === 0, {
      timeoutMs: 3000,
      what: 'descriptors on the HLS files to close',
    }).catch(() => {
      const open = inDir(openFds());
      throw new Error(`${open.length} still open, e.g. ${open.slice(0, 3).join(', ')}`);
    });
    await waitFor(async () => connectionFds(p.port).length === 0, {
      timeoutMs: 3000,
      what: 'the HTTP connections to close',
    });
    // And nothing else opened for them stays (pipes, files): the database and Redis
    // connections of the app are the only descriptors whose number may have changed.
    // (Waited for: Jest itself may hold a file open for a moment.)
    const notSockets = (fds: string[]) => fds.filter((f) => !f.startsWith('socket:')).sort();
    await waitFor(
      async () => JSON.stringify(notSockets(openFds())) === JSON.stringify(notSockets(before)),
      { timeoutMs: 3000, what: 'the other descriptors to return to the baseline' },
    ).catch(() => {
      expect(notSockets(openFds())).toEqual(notSockets(before));
    });

    await rm(p.dir, { recursive: true, force: true });
  });
});
