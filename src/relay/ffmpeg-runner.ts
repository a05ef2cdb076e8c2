import { ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { FfmpegCommand } from './ffmpeg-command';

/** What ffmpeg's `-progress` reports, reduced to what a relay shows. */
export interface FfmpegProgress {
  bitrateKbps: number | null;
  totalSize: number;
  fps: number | null;
  outTimeMs: number;
}

/**
 * Parses one `-progress` block (key=value lines ending with `progress=continue|end`).
 * Unknown or `N/A` values are null/0: ffmpeg prints them before the first packet.
 */
export function parseProgress(block: string): FfmpegProgress {
  const kv = new Map<string, string>();
  for (const line of block.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const num = (k: string): number | null => {
    const v = Number.parseFloat(kv.get(k) ?? '');
    return Number.isFinite(v) ? v : null;
  };
  const bitrate = kv.get('bitrate') ?? '';
  const kbits = Number.parseFloat(bitrate.replace(/kbits\/s$/, ''));
  return {
    bitrateKbps: Number.isFinite(kbits) ? Math.round(kbits) : null,
    totalSize: num('total_size') ?? 0,
    fps: num('fps'),
    outTimeMs: Math.max(0, Math.round((num('out_time_us') ?? 0) / 1000)),
  };
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stderr (ffmpeg is never given a secret, so there is none to scrub). */
  error: string;
}

export interface FfmpegProcess {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  /** What ffmpeg writes to stdout (the FLV output of `flv-stdout` commands). */
  readonly stdout: Readable;
  readonly exited: Promise<FfmpegExit>;
  onProgress(listener: (p: FfmpegProgress) => void): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<FfmpegExit>;
}

/** Every ffmpeg this process started and that has not exited yet. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: whatever way this process exits, its ffmpegs go with it. (On SIGKILL
  // no code runs here, but every relay ffmpeg reads its input from our stdin pipe and
  // ends at EOF when we are gone.)
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * The one place that spawns ffmpeg. It gets `env` as its whole environment (PATH only,
 * from the config): nothing of ours, no key, no app secret.
 */
export class FfmpegRunner {
  constructor(
    private readonly ffmpegPath: string,
    private readonly env: Record<string, string>,
  ) {
    installExitHook();
  }

  static runningCount(): number {
    return running.size;
  }

  start(command: FfmpegCommand): FfmpegProcess {
    const child = spawn(this.ffmpegPath, command.args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: this.env,
    });
    running.add(child);
    const listeners: Array<(p: FfmpegProgress) => void> = [];
    let stderrTail = '';
    let progressBuf = '';
    const progress = child.stdio[3] as Readable;
    progress.setEncoding('utf8');
    progress.on('error', () => undefined);
    child.stdout.on('error', () => undefined);
    progress.on('data', (chunk: string) => {
      progressBuf += chunk;
      let end: number;
      while ((end = progressBuf.search(/progress=(continue|end)\n/)) >= 0) {
        const stop = progressBuf.indexOf('\n', end) + 1;
        const block = progressBuf.slice(0, stop);
        progressBuf = progressBuf.slice(stop);
        const p = parseProgress(block);
        for (const l of listeners) l(p);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    // A relay that stops writing makes ffmpeg's stdin close: not an error of ours.
    child.stdin.on('error', () => undefined);

    const exited = new Promise<FfmpegExit>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        running.delete(child);
        const lines = stderrTail
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        resolve({ code, signal, error: lines.slice(-3).join(' | ').slice(0, 500) });
      };
      child.once('exit', finish);
      child.once('error', (err) => {
        stderrTail += `\n${err.message}`;
        finish(null, null);
      });
    });

    return {
      pid: child.pid,
      stdin: child.stdin,
      stdout: child.stdout,
      exited,
      onProgress: (l) => listeners.push(l),
      stop: async (graceMs = 2000) => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const result = await exited;
          clearTimeout(timer);
          return result;
        }
        return exited;
      },
    };
  }
}
