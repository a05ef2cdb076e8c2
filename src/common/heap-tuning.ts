import { setFlagsFromString } from 'node:v8';

/**
 * The heap's growth between full collections, as a percentage of what survived the last
 * one. V8 picks a factor from its own speed estimates; for this process's shape (about
 * 45 MB of long-lived framework objects, and a steady stream of short-lived media
 * messages held for up to one GOP by the hub) it picked ~1.1, which gave a full mark-
 * compact every 0.7 s with 20 creators live and made garbage collection 28 % of the
 * process's CPU (perf, bench/multistream 20×3). Doubling instead cuts full collections
 * about fourfold for a few tens of MB more heap. V8 reads this flag at every collection,
 * so setting it at start-up is enough (`node --heap-growing-percent=N` overrides it).
 */
export const HEAP_GROWING_PERCENT = 100;

export function tuneHeap(): void {
  if (process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
