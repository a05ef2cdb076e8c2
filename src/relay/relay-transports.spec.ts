import { packagerProgress } from './relay-transports';

describe('packagerProgress (brand-site HLS figures)', () => {
  it("counts the media packaged and its bitrate over the output clock when ffmpeg's are N/A", () => {
    const first = packagerProgress({ totalSize: 0, outTimeMs: 1000, bitrateKbps: null }, 250_000, {
      outTimeMs: 0,
      bytes: 0,
    });
    expect(first.progress).toEqual({ bytes: 250_000, mark: 1000, bitrateKbps: 2000 });
    const second = packagerProgress(
      { totalSize: 0, outTimeMs: 3000, bitrateKbps: null },
      750_000,
      first.sample,
    );
    expect(second.progress).toEqual({ bytes: 750_000, mark: 3000, bitrateKbps: 2000 });
  });

  it("keeps ffmpeg's own figures when it has them", () => {
    const r = packagerProgress({ totalSize: 9000, outTimeMs: 1000, bitrateKbps: 72 }, 5, {
      outTimeMs: 0,
      bytes: 0,
    });
    expect(r.progress).toEqual({ bytes: 9000, mark: 1000, bitrateKbps: 72 });
  });

  it('reports no bitrate before the output clock moved', () => {
    const r = packagerProgress({ totalSize: 0, outTimeMs: 0, bitrateKbps: null }, 100, {
      outTimeMs: 0,
      bytes: 0,
    });
    expect(r.progress).toEqual({ bytes: 100, mark: 0, bitrateKbps: null });
  });
});
