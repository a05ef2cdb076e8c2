import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNginxRtmp } from './nginx';
import {
  freePort,
  portOpen,
  stopChild,
  stopTrackedChildren,
  trackChild,
  waitFor,
} from './processes';

/**
 * Real media processes for tests, loopback only: an ffmpeg publisher (test pattern,
 * H.264/AAC), nginx-rtmp sinks, an RTMPS sink (stunnel's TLS in front of nginx), and
 * ffprobe. Every process started here is tracked and killed by `stopAllMedia()`.
 */
const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';

/** Tracks a media process so that `stopAllMedia()` stops it. */
export const trackMedia = trackChild;
export const stopAllMedia = stopTrackedChildren;

export interface Publisher {
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Publishes a live test pattern (640x360, 30 fps, key frame every second, AAC (or MP3) 44.1 kHz);
 * `keyframeSeconds` spaces the key frames out (a publisher with a long GOP).
 */
export function publishTestPattern(
  url: string,
  opts: {
    size?: string;
    fps?: number;
    bitrateKbps?: number;
    keyframeSeconds?: number;
    /** Publish this many seconds of media, then end (default: until stopped). */
    seconds?: number;
    /** The audio codec (default AAC). */
    audio?: 'aac' | 'mp3';
  } = {},
): Publisher {
  const size = opts.size ?? '640x360';
  const fps = opts.fps ?? 30;
  const gop = Math.round(fps * (opts.keyframeSeconds ?? 1));
  const child = trackMedia(
    spawn(
      FFMPEG,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${size}:rate=${fps}`,
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=44100',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-pix_fmt',
        'yuv420p',
        '-g',
        String(gop),
        // A fixed GOP when asked for one (no scene-cut key frames in between).
        ...(opts.keyframeSeconds ? ['-keyint_min', String(gop), '-sc_threshold', '0'] : []),
        '-b:v',
        `${opts.bitrateKbps ?? 800}k`,
        '-c:a',
        opts.audio === 'mp3' ? 'libmp3lame' : 'aac',
        '-b:a',
        '64k',
        ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
        '-f',
        'flv',
        url,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stop: () => stopChild(child) };
}

export interface RtmpSink {
  port: number;
  /** The sink's process (nginx), for SIGSTOP/SIGCONT; null while stopped. */
  pid(): number | null;
  /** `rtmp://127.0.0.1:<port>/<app>` — push here, append the stream key. */
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  restart(): Promise<void>;
}

/** nginx with Debian's libnginx-mod-rtmp: app `live` accepting any publish. */
export function startNginxSink(extraAppConfig = ''): Promise<RtmpSink> {
  return startNginxRtmp({ appConfig: extraAppConfig });
}

export interface TestCertificate {
  dir: string;
  /** PEM path; give it to Castbridge as NODE_EXTRA_CA_CERTS so RTMPS verifies. */
  cert: string;
  key: string;
}

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), for TLS sinks. */
export async function makeTestCertificate(): Promise<TestCertificate> {
  const dir = mkdtempSync(join(tmpdir(), 'cb-cert-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { dir, cert, key };
}

/** An RTMPS sink: stunnel terminating TLS (self-signed) in front of an nginx sink. */
export async function startRtmpsSink(
  certificate?: TestCertificate,
): Promise<RtmpSink & { plain: RtmpSink }> {
  const plain = await startNginxSink();
  const port = await freePort();
  const cert = certificate ?? (await makeTestCertificate());
  const dir = mkdtempSync(join(tmpdir(), 'cb-stunnel-'));
  writeFileSync(
    join(dir, 'stunnel.conf'),
    `foreground = yes
pid =
[rtmps]
accept = 127.0.0.1:${port}
connect = 127.0.0.1:${plain.port}
cert = ${cert.cert}
key = ${cert.key}
`,
  );
  let child: ChildProcess | null = null;
  const start = async () => {
    child = trackMedia(spawn('stunnel4', [join(dir, 'stunnel.conf')], { stdio: 'ignore' }));
    await waitFor(() => portOpen(port), { what: `stunnel on ${port}` });
  };
  await start();
  return {
    port,
    url: `rtmps://127.0.0.1:${port}/live`,
    pid: () => (child as ChildProcess | null)?.pid ?? null,
    plain,
    stop: async () => {
      if (child) await stopChild(child, 'SIGKILL');
      child = null;
      await plain.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: start,
  };
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
}

/** ffprobe of a live URL (RTMP play or HLS): its streams, or throws. */
export async function probe(url: string, timeoutMs = 8000): Promise<ProbedStream[]> {
  const { stdout } = await run(
    FFPROBE,
    ['-v', 'error', '-rw_timeout', String(timeoutMs * 1000), '-show_streams', '-of', 'json', url],
    { timeout: timeoutMs + 2000 },
  );
  return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams;
}

/** True when the URL delivers a video stream (probe succeeds with video). */
export async function hasVideo(url: string): Promise<boolean> {
  try {
    return (await probe(url, 4000)).some((s) => s.codec_type === 'video');
  } catch {
    return false;
  }
}

/** `seconds` of a live stream's video packets: their times (s) and whether each is a key frame. */
export async function videoPackets(
  url: string,
  seconds: number,
): Promise<Array<{ time: number; key: boolean }>> {
  const { stdout } = await run(
    FFPROBE,
    [
      '-v',
      'error',
      '-rw_timeout',
      '8000000',
      '-read_intervals',
      `%+${seconds}`,
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time,flags',
      '-of',
      'csv=p=0',
      url,
    ],
    { timeout: (seconds + 15) * 1000 },
  );
  return stdout
    .split('\n')
    .map((l) => ({ time: Number.parseFloat(l), key: (l.split(',')[1] ?? '').includes('K') }))
    .filter((p) => Number.isFinite(p.time))
    .sort((a, b) => a.time - b.time);
}

/**
 * Reads `seconds` of a live RTMP stream and returns the largest gap between consecutive
 * video timestamps (seconds): a content check for "kept receiving without a gap".
 */
export async function maxVideoGap(
  url: string,
  seconds: number,
): Promise<{ frames: number; maxGap: number }> {
  const ts = (await videoPackets(url, seconds)).map((p) => p.time);
  let maxGap = 0;
  for (let i = 1; i < ts.length; i++) maxGap = Math.max(maxGap, (ts[i] ?? 0) - (ts[i - 1] ?? 0));
  return { frames: ts.length, maxGap };
}

/** Times (s) of the key frames among `seconds` of a live stream's video. */
export async function keyframeTimes(url: string, seconds: number): Promise<number[]> {
  return (await videoPackets(url, seconds)).filter((p) => p.key).map((p) => p.time);
}

/**
 * ffmpeg processes (of anyone) currently running whose command line contains `marker`, a
 * literal string (e.g. a test's own MEDIA_DIR). pgrep's "no process matched" (exit 1) is
 * none; any other failure of pgrep (a bad option, a bad pattern) throws, never reads as 0.
 */
export async function ffmpegProcessesWith(marker: string): Promise<number> {
  const pattern = marker.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  let stdout: string;
  try {
    // `--`: a marker starting with "-" is the pattern, not options of pgrep's.
    ({ stdout } = await run('pgrep', ['-a', '-f', '--', pattern]));
  } catch (err) {
    if ((err as { code?: unknown }).code === 1) return 0;
    throw err;
  }
  // "<pid> <command line>": only ffmpeg itself counts (not a shell that names the marker).
  return stdout
    .split('\n')
    .filter(Boolean)
    .filter((line) => /^\d+ (\S*\/)?ffmpeg( |$)/.test(line)).length;
}
