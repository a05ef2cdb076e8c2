import { playheadOf, productsAt, TIMED_PINS_JS, visibleProducts } from './timed-pins';

const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, s)).toISOString();
const ms = (s: number) => Date.parse(at(s));

describe('productsAt', () => {
  const pins = [
    { productId: 'a', pinnedAt: at(10), unpinnedAt: at(20) },
    { productId: 'b', pinnedAt: at(15), unpinnedAt: null },
    { productId: 'a', pinnedAt: at(30), unpinnedAt: null },
  ];
  it.each([
    [5, []],
    [10, ['a']],
    [16, ['b', 'a']],
    [20, ['b']],
    [31, ['a', 'b']],
  ])('at %d s: %j', (s, ids) => expect(productsAt(pins, ms(s))).toEqual(ids));
});

describe('visibleProducts', () => {
  const products = [{ id: 'a' }, { id: 'b' }];
  const pins = [
    { productId: 'a', pinnedAt: at(10), unpinnedAt: at(20) },
    { productId: 'b', pinnedAt: at(15), unpinnedAt: null },
  ];
  it('follows the playhead', () => {
    expect(visibleProducts(products, pins, ms(12))).toEqual([{ id: 'a' }]);
    expect(visibleProducts(products, pins, ms(9))).toEqual([]);
  });
  it('without a playhead date, shows what is pinned now', () => {
    expect(visibleProducts(products, pins, null)).toEqual([{ id: 'b' }]);
  });
  it('skips products the page does not know', () => {
    expect(visibleProducts([], pins, ms(16))).toEqual([]);
  });
});

describe('playheadOf', () => {
  it('takes hls.js’s playingDate, else the native start date plus the time, else null', () => {
    expect(playheadOf({ currentTime: 3 }, { playingDate: new Date(5000) })).toBe(5000);
    expect(playheadOf({ currentTime: 3, getStartDate: () => new Date(1000) }, null)).toBe(4000);
    expect(playheadOf({ currentTime: 3, getStartDate: () => new Date(NaN) }, null)).toBeNull();
    expect(playheadOf({ currentTime: 3 }, { playingDate: null })).toBeNull();
  });
});

describe('TIMED_PINS_JS', () => {
  it('is the same functions, runnable on their own in a page', () => {
    const window: Record<string, unknown> = {};
    new Function('window', TIMED_PINS_JS)(window);
    const api = window.CastbridgePins as { productsAt: typeof productsAt };
    expect(api.productsAt([{ productId: 'x', pinnedAt: at(1), unpinnedAt: null }], ms(2))).toEqual([
      'x',
    ]);
  });
});
