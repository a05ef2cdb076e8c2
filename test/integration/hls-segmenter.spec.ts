import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publishFlv } from '../../src/media/flv-source';
import { HlsSegmenter } from '../../src/media/hls-segmenter';
import { MediaClock } from '../../src/media/media-clock';
import { MediaHub } from '../../src/media/media-hub';
import { parseLocalPlaylist } from '../../src/media/hls-playlist';

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';

/**
 * The in-process HLS segmenter (recordings) on what real encoders send: ffmpeg's FLV
 * (x264 with B-frames, AAC) published into the hub, segmented, then read back by ffprobe
 * and decoded by ffmpeg: every frame there, timestamps continuous, no demuxer complaint.
 */
describe('HlsSegmenter (real ffmpeg FLV in, ffprobe out)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'segmenter-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Publishes `seconds` of an ffmpeg test pattern as FLV into a hub stream and segments it. */
  async function segment(
    seconds: number,
    extra: string[],
  ): Promise<{ segmenter: HlsSegmenter; clock: MediaClock }> {
    const hub = new MediaHub();
    const encoder = spawn(
      FFMPEG,
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
        ...['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`],
        ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-pix_fmt', 'yuv420p'],
        ...['-c:a', 'aac', '-b:a', '64k', ...extra, '-f', 'flv', 'pipe:1'],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const clock = new MediaClock();
    const segmenter = new HlsSegmenter(dir, { segmentSeconds: 2, listSize: 1000, clock });
    const source = publishFlv(hub, 's', encoder.stdout)!;
    const unsubscribe = hub.subscribe('s', segmenter);
    await source.ended;
    unsubscribe();
    await segmenter.close();
    return { segmenter, clock };
  }

  async function ffprobeCounts(playlist: string): Promise<Record<string, number>> {
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-count_frames', '-of', 'json'],
      ...['-show_entries', 'stream=codec_name,nb_read_frames:format=duration', playlist],
    ]);
    const out = JSON.parse(stdout) as {
      streams: Array<{ codec_name: string; nb_read_frames: string }>;
      format: { duration: string };
    };
    const counts: Record<string, number> = { duration: Number(out.format.duration) };
    for (const s of out.streams) counts[s.codec_name] = Number(s.nb_read_frames);
    return counts;
  }

  it('writes MPEG-TS segments cut at key frames that play as the published stream', async () => {
    const { segmenter, clock } = await segment(7, ['-bf', '3']);
    expect(segmenter.error).toBeNull();
    const playlist = join(dir, 'index.m3u8');
    const text = await readFile(playlist, 'utf8');
    expect(text).toContain('#EXT-X-ENDLIST');
    const local = parseLocalPlaylist(text);
    // 7 s at a key frame a second, cut after 2 s: 2 + 2 + 2 + 1.
    expect(local.segments.map((s) => Math.round(s.durationSeconds))).toEqual([2, 2, 2, 1]);
    const total = local.segments.reduce((t, s) => t + s.durationSeconds, 0);
    expect(Math.abs(total - 7)).toBeLessThan(0.1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.ts'))).toHaveLength(4);
    expect(clock.at(0)).not.toBeNull();

    const counts = await ffprobeCounts(playlist);
    expect(counts.h264).toBe(210); // 7 s × 30 fps: every frame, B-frames included
    expect(counts.aac).toBeGreaterThanOrEqual(Math.floor((7 * 44100) / 1024) - 2);
    expect(Math.abs(counts.duration! - 7)).toBeLessThan(0.2);

    // Decoded end to end: no continuity, timestamp or bitstream complaint from ffmpeg.
    const decoded = await run(FFMPEG, ['-v', 'warning', '-i', playlist, '-f', 'null', '-']);
    expect(decoded.stderr.trim()).toBe('');
    // Each segment plays on its own (tables and a key frame first).
    const second = await ffprobeCounts(join(dir, local.segments[1]!.name));
    expect(second.h264).toBe(60);
  });

  it('refuses what is not H.264 + AAC (the recorder then packages with ffmpeg)', async () => {
    const { segmenter } = await segment(2, ['-c:a', 'libmp3lame', '-ar', '44100']);
    expect(segmenter.unsupported).toBe(true);
    expect(segmenter.error).toBe('the audio is not AAC');
  });
});
