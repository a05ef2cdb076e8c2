import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { NODE_FLAGS } from '../../src/common/heap-tuning';

/** The repository root (it holds package.json), from the sources or from compiled bench code. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

const tracked = new Set<ChildProcess>();

/** Tracks a helper process (ffmpeg, nginx, stunnel…) so that `stopTrackedChildren()` stops it. */
export function trackChild(child: ChildProcess): ChildProcess {
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  return child;
}

export async function stopTrackedChildren(): Promise<void> {
  await Promise.all([...tracked].map((c) => stopChild(c, 'SIGKILL')));
}

/** A free loopback TCP port (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

/** True when something accepts TCP connections on this loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Stops a child process: `signal`, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}

export interface CastbridgeProcess {
  child: ChildProcess;
  baseUrl: string;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the built service (`node dist/src/main.js`, what `npm start` runs) as a real process. */
export async function spawnCastbridge(env: Record<string, string>): Promise<CastbridgeProcess> {
  const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  let out = '';
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles a benchmark's service.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, ...nodeArgs, resolve(ROOT, 'dist/src/main.js')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface ProcessInfo {
  pid: number;
  comm: string;
  cmdline: string[];
  /** NAME=value entries of its environment. */
  environ: string[];
}

/**
 * The live child processes of `parentPid` named `comm` (e.g. "ffmpeg"), read from /proc:
 * no pgrep, so an error is an error and not "none found".
 */
export function childProcesses(parentPid: number, comm: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid …; comm may contain spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid !== parentPid || name !== comm) continue;
    try {
      const split = (f: string) =>
        readFileSync(`/proc/${entry}/${f}`, 'utf8').split('\0').filter(Boolean);
      out.push({
        pid: Number(entry),
        comm: name,
        cmdline: split('cmdline'),
        environ: split('environ'),
      });
    } catch {
      continue;
    }
  }
  return out;
}

/**
 * True while the process `info` names still runs: the same pid with the same command line
 * (an exited process, a zombie waiting to be reaped, or a reused pid is not it).
 */
export function stillRunning(info: ProcessInfo): boolean {
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return false; // no such process
  }
  return cmdline.length > 0 && cmdline.join('\0') === info.cmdline.join('\0');
}

/**
 * Established TCP connections of process `pid` to `port` on loopback, read from /proc (its
 * socket descriptors matched against its network namespace's tcp and tcp6 tables). A
 * process that is gone has none; any other failure to read throws.
 */
export function tcpConnectionsTo(pid: number, port: number): number {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed while we looked
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  let n = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st … uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = Number.parseInt(f[2].split(':')[1] ?? '', 16);
      if (f[3] === '01' && remotePort === port && inodes.has(f[9])) n += 1;
    }
  }
  return n;
}
