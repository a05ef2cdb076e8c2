import type { PinRange } from '../media/hls-playlist';
import type { PinSpan } from '../shopping/pins.service';

/** Pins of the timeline as the playlists carry them (ms since the epoch). */
export function toRanges(spans: PinSpan[]): PinRange[] {
  return spans.map((p) => ({
    productId: p.productId,
    pinnedAt: Date.parse(p.pinnedAt),
    unpinnedAt: p.unpinnedAt ? Date.parse(p.unpinnedAt) : null,
  }));
}
