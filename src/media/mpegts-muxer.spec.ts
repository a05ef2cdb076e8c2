import {
  AUDIO_PID,
  crc32Mpeg,
  parseAacConfig,
  parseAvcConfig,
  TS_PACKET,
  TsMuxer,
  VIDEO_PID,
} from './mpegts-muxer';

/** avcC with one SPS (4 bytes) and one PPS (2 bytes), 4-byte NAL lengths. */
const AVCC = Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 1, 2, 3, 1, 0, 2, 0x68, 9]);
const SPS = Buffer.from([0x67, 1, 2, 3]);
const PPS = Buffer.from([0x68, 9]);
const nal = (type: number, n: number) => {
  const b = Buffer.alloc(4 + n, 0xab);
  b.writeUInt32BE(n, 0);
  b[4] = type;
  return b;
};

interface Packet {
  pid: number;
  start: boolean;
  cc: number;
  adaptation: Buffer | null;
  payload: Buffer;
}

function packets(chunks: Buffer[]): Packet[] {
  const all = Buffer.concat(chunks);
  expect(all.length % TS_PACKET).toBe(0);
  const out: Packet[] = [];
  for (let o = 0; o < all.length; o += TS_PACKET) {
    const p = all.subarray(o, o + TS_PACKET);
    expect(p[0]).toBe(0x47);
    const control = (p[3]! >> 4) & 3;
    let at = 4;
    let adaptation: Buffer | null = null;
    if (control & 2) {
      adaptation = p.subarray(5, 5 + p[4]!);
      at = 5 + p[4]!;
    }
    out.push({
      pid: ((p[1]! & 0x1f) << 8) | p[2]!,
      start: (p[1]! & 0x40) !== 0,
      cc: p[3]! & 0x0f,
      adaptation,
      payload: control & 1 ? p.subarray(at) : Buffer.alloc(0),
    });
  }
  return out;
}

/** The PES packets of a PID, reassembled. */
function pes(all: Packet[], pid: number): Buffer[] {
  const out: Buffer[][] = [];
  for (const p of all.filter((x) => x.pid === pid)) {
    if (p.start) out.push([]);
    out[out.length - 1]!.push(p.payload);
  }
  return out.map((parts) => Buffer.concat(parts));
}

function readTimestamp(b: Buffer, o: number): number {
  return (
    ((b[o]! >> 1) & 0x07) * 2 ** 30 +
    (b[o + 1]! << 22) +
    ((b[o + 2]! >> 1) << 15) +
    (b[o + 3]! << 7) +
    (b[o + 4]! >> 1)
  );
}

describe('TsMuxer', () => {
  it('parses an avcC and an AudioSpecificConfig into what the stream needs', () => {
    expect(parseAvcConfig(AVCC)).toEqual({ lengthSize: 4, sps: [SPS], pps: [PPS] });
    expect(parseAvcConfig(Buffer.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 9, 0x67]))).toBeNull();
    expect(parseAvcConfig(Buffer.from([0]))).toBeNull();
    // AAC LC, 44.1 kHz (index 4), stereo.
    expect(parseAacConfig(Buffer.from([0x12, 0x10]))).toEqual({
      profile: 1,
      frequencyIndex: 4,
      channels: 2,
    });
    expect(parseAacConfig(Buffer.from([0x12]))).toBeNull();
    expect(parseAacConfig(Buffer.from([0xf8, 0x10]))).toBeNull(); // object type 31
  });

  it('computes the MPEG-2 CRC of a PSI section', () => {
    // The PAT of a single program (1 → PMT PID 0x1000), as every muxer writes it.
    const pat = Buffer.from([
      0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00,
    ]);
    expect(crc32Mpeg(pat).toString(16)).toBe('2ab104b2');
  });

  it('frames a key frame as Annex B with AUD and parameter sets, PTS/DTS, PCR, in whole packets', () => {
    const chunks: Buffer[] = [];
    const mux = new TsMuxer({
      video: parseAvcConfig(AVCC),
      audio: parseAacConfig(Buffer.from([0x12, 0x10])),
      chunkBytes: TS_PACKET * 4,
      onChunk: (c) => chunks.push(Buffer.from(c)),
    });
    mux.writeTables();
    const frame = Buffer.concat([nal(0x09, 2), nal(0x65, 1000), nal(0x06, 20)]);
    expect(mux.writeVideo(1000, 66, true, frame)).toBe(true);
    expect(mux.writeAudio(1010, Buffer.alloc(300, 0x21))).toBe(true);
    expect(mux.writeVideo(1033, 0, false, nal(0x41, 10))).toBe(true);
    mux.flush();
    const all = packets(chunks);
    expect(all.map((p) => p.pid).slice(0, 2)).toEqual([0, 0x1000]);

    const [key, inter] = pes(all, VIDEO_PID);
    expect(key!.subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0xe0]));
    expect(key![7]).toBe(0xc0); // PTS and DTS
    const pts = readTimestamp(key!, 9);
    const dts = readTimestamp(key!, 14);
    expect(dts).toBe(1000 * 90 + 126_000);
    expect(pts - dts).toBe(66 * 90);
    const es = key!.subarray(9 + key![8]!);
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 1, 0x09, 0xf0]), // our AUD (the stream's own one is dropped)
      Buffer.from([0, 0, 0, 1]),
      SPS,
      Buffer.from([0, 0, 0, 1]),
      PPS,
      Buffer.from([0, 0, 0, 1]),
      nal(0x65, 1000).subarray(4),
      Buffer.from([0, 0, 0, 1]),
      nal(0x06, 20).subarray(4),
    ]);
    expect(es).toEqual(expected);
    expect(inter![7]).toBe(0x80); // PTS only when CTS is 0
    expect(inter!.subarray(9 + inter![8]!)).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1]), nal(0x41, 10).subarray(4)]),
    );

    // The key frame's first packet: random access and PCR = DTS.
    const first = all.find((p) => p.pid === VIDEO_PID && p.start)!;
    expect(first.adaptation![0]! & 0x50).toBe(0x50);
    const a = first.adaptation!;
    const pcr = a[1]! * 2 ** 25 + (a[2]! << 17) + (a[3]! << 9) + (a[4]! << 1) + (a[5]! >> 7);
    expect(pcr).toBe(dts);

    // Audio: one ADTS frame (7-byte header, length includes it) with a bounded PES length.
    const [aac] = pes(all, AUDIO_PID);
    expect(aac!.readUInt16BE(4)).toBe(3 + 5 + 307);
    const adts = aac!.subarray(9 + aac![8]!);
    expect(adts.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xf1]));
    expect(((adts[3]! & 3) << 11) | (adts[4]! << 3) | (adts[5]! >> 5)).toBe(307);
    expect(adts.length).toBe(307);

    // Continuity counters count up per PID.
    for (const pid of [VIDEO_PID, AUDIO_PID]) {
      const ccs = all.filter((p) => p.pid === pid).map((p) => p.cc);
      expect(ccs).toEqual(ccs.map((_, i) => i % 16));
    }
  });

  it('refuses a payload whose NAL lengths run past its end, and writes nothing for it', () => {
    const chunks: Buffer[] = [];
    const mux = new TsMuxer({
      video: parseAvcConfig(AVCC),
      audio: null,
      onChunk: (c) => chunks.push(c),
    });
    const broken = nal(0x65, 100).subarray(0, 50);
    expect(mux.writeVideo(0, 0, true, broken)).toBe(false);
    expect(mux.writeVideo(0, 0, true, Buffer.from([0, 0, 0, 0]))).toBe(false);
    mux.flush();
    expect(chunks).toHaveLength(0);
  });

  it('stuffs every short packet to 188 bytes, whatever the frame size', () => {
    for (let n = 1; n < 400; n += 7) {
      const chunks: Buffer[] = [];
      const mux = new TsMuxer({
        video: parseAvcConfig(AVCC),
        audio: null,
        onChunk: (c) => chunks.push(Buffer.from(c)),
      });
      mux.writeVideo(0, 0, n % 2 === 0, nal(0x41, n));
      mux.flush();
      const [p] = pes(packets(chunks), VIDEO_PID);
      const es = p!.subarray(9 + p![8]!);
      expect(es.subarray(es.length - n)).toEqual(nal(0x41, n).subarray(4));
    }
  });
});
