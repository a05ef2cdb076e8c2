import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxVideoGap, trackMedia } from '../../test/support/media';
import type { NginxRtmp } from '../../test/support/nginx';
import { stopChild } from '../../test/support/processes';

/**
 * What the RTMP benchmarks (fanout, multistream) share: one pre-encoded source published
 * with `-c copy` (no encoder runs while measuring), and an nginx-rtmp sink read through
 * its `rtmp_stat` page and its recordings.
 */

const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
export const FPS = 30;
/** A sink recording of this size holds a video frame, not only FLV and codec headers. */
const VIDEO_BYTES_MIN = 1024;
export const SOURCE = join(tmpdir(), 'castbridge-bench-720p30-3M-g60-60s.flv');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 60 s of testsrc2 1280x720 30 fps, H.264 3 Mbps CBR (GOP 60) + AAC 128k, encoded once (cached). */
export async function ensureSource(): Promise<void> {
  if (existsSync(SOURCE)) return;
  const tmp = `${SOURCE}.part.flv`;
  const started = Date.now();
  process.stdout.write(`encoding the source once (${SOURCE}) … `);
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=${FPS}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    '60',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '60',
    '-keyint_min',
    '60',
    '-sc_threshold',
    '0',
    '-b:v',
    '3000k',
    '-minrate',
    '3000k',
    '-maxrate',
    '3000k',
    '-bufsize',
    '3000k',
    '-x264-params',
    'nal-hrd=cbr',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ar',
    '44100',
    '-f',
    'flv',
    tmp,
  ];
  const child = trackMedia(spawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`source encode failed (ffmpeg exit ${code})`);
  renameSync(tmp, SOURCE);
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

export interface Publisher {
  startedAt: number;
  stop(): Promise<void>;
}

/** Publishes the source in a loop (`-re -stream_loop -1 -c copy`). */
export function publish(url: string): Publisher {
  const startedAt = Date.now();
  const child = trackMedia(
    spawn(
      FFMPEG,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        SOURCE,
        '-c',
        'copy',
        '-f',
        'flv',
        url,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let err = '';
  let stopping = false;
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  child.once('exit', (code, sig) => {
    if (!stopping && code !== 0 && sig === null)
      console.error(`publisher exited ${code}: ${err.trim()}`);
  });
  return {
    startedAt,
    stop: () => {
      stopping = true;
      return stopChild(child, 'SIGKILL', 5000);
    },
  };
}

export interface SinkStream {
  name: string;
  bytesIn: number;
  videoCodec: string | null;
  publishing: boolean;
}

/**
 * Streams of the sink from rtmp_stat, by id: `name` in application `live`, `app/name` in
 * the others (see startNginxRtmp's `apps`).
 */
export async function sinkStreams(sink: NginxRtmp): Promise<Map<string, SinkStream>> {
  const res = await fetch(`http://127.0.0.1:${sink.statPort}/stat`);
  const xml = await res.text();
  const out = new Map<string, SinkStream>();
  for (const app of xml.matchAll(/<application>([\s\S]*?)<\/application>/g)) {
    const appBody = app[1] ?? '';
    const appName = /^\s*<name>([^<]*)<\/name>/.exec(appBody)?.[1] ?? 'live';
    for (const m of appBody.matchAll(/<stream>([\s\S]*?)<\/stream>/g)) {
      const body = m[1] ?? '';
      const name = /<name>([^<]*)<\/name>/.exec(body)?.[1];
      if (!name) continue;
      const video = /<meta>[\s\S]*?<video>([\s\S]*?)<\/video>/.exec(body)?.[1] ?? '';
      const id = appName === 'live' ? name : `${appName}/${name}`;
      out.set(id, {
        name: id,
        bytesIn: Number(/<bytes_in>(\d+)<\/bytes_in>/.exec(body)?.[1] ?? 0),
        videoCodec: /<codec>([^<]*)<\/codec>/.exec(video)?.[1] ?? null,
        publishing: body.includes('<publishing/>'),
      });
    }
  }
  return out;
}

/** The sink's RTMP URL of a stream id (`name` or `app/name`). */
export function sinkUrl(sink: NginxRtmp, id: string): string {
  return `rtmp://127.0.0.1:${sink.port}/${id.includes('/') ? id : `live/${id}`}`;
}

export async function waitAllVideo(
  sink: NginxRtmp,
  streams: string[],
  since: number,
  timeoutMs = 30_000,
): Promise<{ allMs: number | null; firstMs: number | null; withVideo: number }> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (seen.size < streams.length && Date.now() < deadline) {
    const now = Date.now();
    for (const n of streams) {
      if (seen.has(n)) continue;
      try {
        if (statSync(join(sink.dir, 'rec', `${n}.flv`)).size >= VIDEO_BYTES_MIN)
          seen.set(n, now - since);
      } catch {
        // not recording yet
      }
    }
    if (seen.size < streams.length) await sleep(20);
  }
  const times = [...seen.values()];
  return {
    allMs: seen.size === streams.length && times.length ? Math.max(...times) : null,
    firstMs: times.length ? Math.min(...times) : null,
    withVideo: seen.size,
  };
}

export function clearRecordings(sink: NginxRtmp): void {
  for (const entry of readdirSync(join(sink.dir, 'rec'), { withFileTypes: true })) {
    const path = join(sink.dir, 'rec', entry.name);
    if (entry.isDirectory()) {
      rmSync(path, { recursive: true, force: true });
      mkdirSync(path);
    } else rmSync(path, { force: true });
  }
}

export interface SinkProbe {
  name: string;
  frames: number;
  maxGap: number;
  error?: string;
}

/** ffprobe reads `seconds` of each stream: frames received and the largest timestamp gap. */
export function probeSinks(sink: NginxRtmp, ids: string[], seconds: number): Promise<SinkProbe[]> {
  return Promise.all(
    ids.map(async (name) => {
      try {
        return { name, ...(await maxVideoGap(sinkUrl(sink, name), seconds)) };
      } catch (e) {
        return { name, frames: 0, maxGap: NaN, error: (e as Error).message.split('\n')[0] };
      }
    }),
  );
}

/** CPU use of the whole machine (all cores), sampled from /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export { sleep };
