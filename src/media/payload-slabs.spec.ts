import { HEADROOM } from './rtmp-protocol';
import { PayloadSlab, SLAB_BYTES, slabFigures, SlabWriter } from './payload-slabs';

/** What a parser does for each message: the slab it goes in, and its payload cut from it. */
function reserve(w: SlabWriter, length: number): { payload: Buffer; slab: PayloadSlab } {
  const slab = w.slabFor(length);
  return { payload: slab.cut(length), slab };
}

describe('SlabWriter', () => {
  it('cuts payloads one after another in a slab, each with its headroom', () => {
    const w = new SlabWriter(() => undefined);
    const a = reserve(w, 100);
    const b = reserve(w, 50);
    expect(a.slab).toBe(b.slab);
    expect(a.payload.length).toBe(100);
    expect(a.payload.byteOffset - a.slab.buf.byteOffset).toBe(HEADROOM);
    expect(b.payload.byteOffset - a.payload.byteOffset).toBe(100 + HEADROOM);
    expect(a.slab.refs).toBe(3); // the writer's own hold and one per message
  });

  it('retires a slab once the writer moved on and every hold is released, then recycles it', () => {
    let retiredCalls = 0;
    const w = new SlabWriter(() => (retiredCalls += 1));
    const first = reserve(w, SLAB_BYTES / 2);
    first.slab.hold(); // e.g. the GOP cache
    const second = reserve(w, SLAB_BYTES / 2); // does not fit with its headroom: a new slab
    expect(second.slab).not.toBe(first.slab);
    first.slab.release(); // the message was dispatched
    expect(w.waiting).toBe(0); // the GOP still holds it
    first.slab.release();
    expect(w.waiting).toBe(1);
    expect(retiredCalls).toBe(1);
    const free = slabFigures.free;
    w.recycle();
    expect(w.waiting).toBe(0);
    expect(slabFigures.free).toBe(free + 1);
    // The next slab the process needs is that one again.
    const reused = slabFigures.reused;
    second.slab.release();
    reserve(w, SLAB_BYTES / 2 + 1);
    expect(slabFigures.reused).toBe(reused + 1);
  });

  it('gives a message larger than a slab a buffer of its own, never pooled', () => {
    const w = new SlabWriter(() => undefined);
    const big = reserve(w, SLAB_BYTES);
    expect(big.slab.pooled).toBe(false);
    expect(big.payload.length).toBe(SLAB_BYTES);
    expect(big.slab.refs).toBe(1);
    big.slab.release();
    expect(w.waiting).toBe(0);
  });

  it('puts nothing back after the publication closed (a subscriber may still be sending)', () => {
    const w = new SlabWriter(() => undefined);
    const a = reserve(w, 10);
    w.close();
    a.slab.release();
    expect(w.waiting).toBe(0);
    const after = reserve(w, 10);
    expect(after.slab.pooled).toBe(false);
  });

  it('refuses to release a slab more often than it was held', () => {
    const w = new SlabWriter(() => undefined);
    const s: PayloadSlab = reserve(w, 10).slab;
    s.release();
    s.release();
    expect(() => s.release()).toThrow(/released more often/);
  });
});
