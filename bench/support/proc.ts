import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU, memory and process trees from /proc, for benchmarks of real processes. */

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface ProcStat {
  ppid: number;
  ticks: number;
  childTicks: number;
}

export function procStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      ticks: Number(f[11]) + Number(f[12]),
      childTicks: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return null;
  }
}

/** The process and all its descendants. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const e of readdirNumeric('/proc')) {
    const s = procStat(e);
    if (!s) continue;
    const list = parents.get(s.ppid) ?? [];
    list.push(e);
    parents.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(parents.get(p) ?? []));
  }
  return out;
}

export function readdirNumeric(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** CPU ticks per pid of the tree, plus the root's reaped-children ticks. */
export function treeTicks(root: number): { perPid: Map<number, number>; reaped: number } {
  const perPid = new Map<number, number>();
  let reaped = 0;
  for (const pid of processTree(root)) {
    const s = procStat(pid);
    if (!s) continue;
    perPid.set(pid, s.ticks);
    if (pid === root) reaped = s.childTicks;
  }
  return { perPid, reaped };
}

export function ticksBetween(
  a: { perPid: Map<number, number>; reaped: number },
  b: { perPid: Map<number, number>; reaped: number },
): number {
  let t = b.reaped - a.reaped;
  for (const [pid, ticks] of b.perPid) t += ticks - (a.perPid.get(pid) ?? 0);
  return t;
}

/** PSS (kB) of the process and its descendants. */
export function treePssKb(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb;
}

export function ticksOf(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of pids) {
    const s = procStat(p);
    if (s) m.set(p, s.ticks);
  }
  return m;
}

/** Resident set size (kB) of one process. */
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}
