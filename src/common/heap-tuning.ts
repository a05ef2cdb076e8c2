/**
 * V8 flags the service is started with. V8 reads them only when it starts, so they are
 * in every start command: `npm start` (package.json), the Dockerfile's CMD, and the test,
 * bench and demo harnesses (which take them from here); heap-tuning.spec.ts checks that
 * package.json and the Dockerfile carry them. Started without them (`node
 * dist/src/main.js`), the service works the same with a larger heap.
 *
 * `--max-semi-space-size=1`: the young generation keeps 1 MB semi-spaces instead of
 * growing to 16 MB while media flows. What the media path allocates per message is a
 * few small objects that die within a write window (payloads are in reused slabs:
 * src/media/payload-slabs.ts), so a 1 MB scavenge is cheap; the 30 MB of young generation
 * V8 otherwise grows to were most of a live stream's memory. bench/multistream 20 × 3
 * (2026-12-03): PSS live 141 → 119 MB, 1.6 → 1.4 MB per live stream, CPU 10.1 → 9.3 %
 * (the same within this machine's noise); 2 MB semi-spaces measured 1.5 MB per stream.
 * The cost is on the webhook path at full load: bench/webhooks (2026-12-04) measured
 * 163–182 µs of api CPU per webhook with 1 MB semi-spaces against 108–129 µs with V8's
 * default (a webhook waits ~10–20 ms for its group commit, long enough to be promoted);
 * an api-only process (ROLES=api) taking thousands a second is better started without.
 *
 * The old generation grows as V8 decides. Until 2026-12-03 the service set
 * `--heap-growing-percent=100` (at run time), because the GOP cache then held every live
 * message long enough to be promoted: with 20 creators that was ~7 MB/s of payload dying
 * in the old generation, a full mark-compact every 0.7 s at V8's own growth of ~1.1 and
 * 28 % of the CPU in GC. Payloads are off the heap now; with V8's growth the same run
 * used no more CPU than with 100 % (1.4 vs 1.8 MB per live stream, both with 1 MB
 * semi-spaces).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
