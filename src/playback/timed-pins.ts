/**
 * Which products a player shows at its playhead: those whose pin covers the moment the
 * viewer sees (pinnedAt ≤ playhead < unpinnedAt), most recently pinned first, each once.
 * Pure and self-contained: the same function runs in the embed and replay pages (its
 * source is served as their script), so it must not use anything outside its body.
 */
export function productsAt(
  pins: ReadonlyArray<{ productId: string; pinnedAt: string; unpinnedAt: string | null }>,
  playheadMs: number,
): string[] {
  const open = pins
    .filter((p) => {
      const from = Date.parse(p.pinnedAt);
      const to = p.unpinnedAt === null ? Infinity : Date.parse(p.unpinnedAt);
      return from <= playheadMs && playheadMs < to;
    })
    .sort((a, b) => Date.parse(b.pinnedAt) - Date.parse(a.pinnedAt));
  const seen: string[] = [];
  for (const p of open) if (seen.indexOf(p.productId) < 0) seen.push(p.productId);
  return seen;
}

/**
 * The products to show, in order, of those the page knows: the pins covering the
 * playhead, or — when the player has no playhead date yet (nothing playing) — the pins
 * still open.
 */
export function visibleProducts<P extends { id: string }>(
  products: readonly P[],
  pins: ReadonlyArray<{ productId: string; pinnedAt: string; unpinnedAt: string | null }>,
  playheadMs: number | null,
): P[] {
  const ids =
    playheadMs === null
      ? pins
          .filter((p) => p.unpinnedAt === null)
          .sort((a, b) => Date.parse(b.pinnedAt) - Date.parse(a.pinnedAt))
          .map((p) => p.productId)
      : productsAt(pins, playheadMs);
  const out: P[] = [];
  for (const id of ids) {
    const found = products.find((p) => p.id === id);
    if (found && out.indexOf(found) < 0) out.push(found);
  }
  return out;
}

/**
 * The playhead as a date (ms), from the playlist's EXT-X-PROGRAM-DATE-TIME: hls.js's
 * `playingDate`, or the native player's `getStartDate()` plus its time (Safari); null
 * before either is known.
 */
export function playheadOf(
  video: { currentTime: number; getStartDate?: () => Date },
  hls: { playingDate?: Date | null } | null,
): number | null {
  const d = hls && hls.playingDate ? hls.playingDate.getTime() : NaN;
  if (!isNaN(d)) return d;
  const start = video.getStartDate ? video.getStartDate().getTime() : NaN;
  return isNaN(start) ? null : start + video.currentTime * 1000;
}

/** The browser script of the functions above (window.CastbridgePins). */
export const TIMED_PINS_JS = `window.CastbridgePins = (function () {
  'use strict';
  var productsAt = ${productsAt.toString()};
  var visibleProducts = ${visibleProducts.toString()};
  var playheadOf = ${playheadOf.toString()};
  return { productsAt: productsAt, visibleProducts: visibleProducts,
    playheadOf: playheadOf };
})();
`;
