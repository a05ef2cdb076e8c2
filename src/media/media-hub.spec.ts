import { PassThrough } from 'node:stream';
import {
  flvFlags,
  MAX_GOP_CACHE_BYTES,
  MediaHub,
  MediaMessage,
  OUT_CHUNK_SIZE,
  Publication,
  writeFlvTag,
  writeRtmpMessage,
} from './media-hub';
import { parseFlvTag } from './nms';
import { SLAB_BYTES, slabFigures } from './payload-slabs';
import { ProtocolError, withHeadroom } from './rtmp-protocol';

/** FLV video payloads: AVC sequence header, key frame, inter frame. */
const AVC_HEADER = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x64]);
const keyframe = (n = 16) =>
  Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(n, 1)]);
const frame = (n = 16) => Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), Buffer.alloc(n, 2)]);
const AAC_HEADER = Buffer.from([0xaf, 0x00, 0x12, 0x10]);

function collect(hub: MediaHub, name: string): { got: MediaMessage[]; close: () => void } {
  const got: MediaMessage[] = [];
  const close = hub.subscribe(name, { deliver: (m) => got.push(m) });
  return { got, close };
}

/** Whether parserTag assigns flags at all (else its packet keeps the default 0). */
function setsFlags(type: number, p: Buffer): boolean {
  if (type === 8) return true;
  if (type !== 9) return type === 18;
  if ((p[0]! & 0x80) === 0) return true;
  const fourCC = p.subarray(1, 5).toString('latin1');
  return ['av01', 'vp09', 'hvc1'].includes(fourCC) && [0, 1, 3, 4].includes(p[0]! & 0x0f);
}

describe('flvFlags', () => {
  // Every first byte, with second bytes that matter, the FourCCs parserTag knows, and
  // lengths around each header size: the same flags as node-media-server's parserTag, or
  // an exception where it throws. One difference, on purpose: where parserTag sets no
  // flags (an Enhanced RTMP video FourCC it does not know, such as avc1; a packet type it
  // ignores) its packet keeps its default 0, "audio sequence header", and the hub cached
  // such a video message as the stream's audio header; here it is undefined ('other').
  const fourCCs = ['av01', 'vp09', 'hvc1', 'avc1', 'xxxx'].map((f) => Buffer.from(f));
  const payloads: Buffer[] = [];
  for (let b0 = 0; b0 < 256; b0++) {
    for (const b1 of [0, 1, 2]) {
      for (const len of [1, 2, 4, 5, 8, 12]) {
        payloads.push(Buffer.concat([Buffer.from([b0, b1]), Buffer.alloc(10, 7)]).subarray(0, len));
      }
    }
    for (const f of fourCCs) {
      for (const len of [5, 7, 8, 12]) {
        payloads.push(Buffer.concat([Buffer.from([b0]), f, Buffer.alloc(8, 3)]).subarray(0, len));
      }
    }
  }

  it.each([8, 9, 18, 20])('agrees with parseFlvTag on every short payload of type %i', (type) => {
    for (const p of payloads) {
      let expected: number | undefined | 'throws';
      try {
        expected = parseFlvTag(type, 0, p.length, p).flags as number | undefined;
        if (expected === 0 && !setsFlags(type, p)) expected = undefined;
      } catch {
        expected = 'throws';
      }
      let got: number | undefined | 'throws';
      try {
        got = flvFlags(type, p);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        got = 'throws';
      }
      if (got !== expected)
        throw new Error(
          `type ${type} payload ${p.toString('hex')}: ${String(got)} vs ${String(expected)}`,
        );
    }
  });
});

describe('MediaHub', () => {
  it('gives a late subscriber the sequence headers and the current GOP, then live messages', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    pub.write({ type: 9, timestamp: 0, payload: AVC_HEADER, headroom: false });
    pub.write({ type: 8, timestamp: 0, payload: AAC_HEADER, headroom: false });
    pub.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false });
    pub.write({ type: 9, timestamp: 33, payload: frame(), headroom: false });
    pub.write({ type: 9, timestamp: 1000, payload: keyframe(), headroom: false });
    pub.write({ type: 9, timestamp: 1033, payload: frame(), headroom: false });
    const late = collect(hub, 's');
    expect(late.got.map((m) => [m.kind, m.timestamp])).toEqual([
      ['audio-header', 0],
      ['video-header', 0],
      ['keyframe', 1000],
      ['frame', 1033],
    ]);
    pub.write({ type: 9, timestamp: 1066, payload: frame(), headroom: false });
    expect(late.got).toHaveLength(5);
    expect(hub.info('s')?.keyframeIntervalMs).toBe(1000);
  });

  it('hands every subscriber the same payload buffer (no copy per subscriber)', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    const a = collect(hub, 's');
    const b = collect(hub, 's');
    const payload = keyframe();
    pub.write({ type: 9, timestamp: 0, payload, headroom: false });
    expect(a.got[0]!.payload).toBe(payload);
    expect(b.got[0]!.payload).toBe(payload);
  });

  it('passes on a video message it cannot classify without taking it for the audio header', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    pub.write({ type: 8, timestamp: 0, payload: AAC_HEADER, headroom: false });
    // Enhanced RTMP, FourCC avc1 (not one NMS's parserTag knows: it left flags 0).
    const exAvc = Buffer.concat([Buffer.from([0x90]), Buffer.from('avc1'), Buffer.alloc(8)]);
    const live = collect(hub, 's');
    pub.write({ type: 9, timestamp: 0, payload: exAvc, headroom: false });
    expect(live.got.map((m) => m.kind)).toEqual(['audio-header', 'other']);
    const late = collect(hub, 's');
    expect(late.got.map((m) => m.payload)).toEqual([AAC_HEADER]);
    pub.end();
  });

  it('refuses a second producer and frees the name when both sides are gone', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    expect(hub.publish('s', 'pull')).toBeNull();
    const sub = collect(hub, 's');
    pub.end();
    expect(hub.has('s')).toBe(false);
    expect(hub.size).toBe(1); // the subscriber waits for a new producer
    sub.close();
    expect(hub.size).toBe(0);
  });

  it('bounds the GOP cache in bytes: a GOP that outgrows it is not cached', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    pub.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false });
    const chunk = 1024 * 1024;
    for (let i = 0; i * chunk <= MAX_GOP_CACHE_BYTES; i++) {
      pub.write({ type: 9, timestamp: 33 * (i + 1), payload: frame(chunk), headroom: false });
    }
    expect(collect(hub, 's').got).toHaveLength(0);
    pub.write({ type: 9, timestamp: 99_000, payload: keyframe(), headroom: false });
    expect(collect(hub, 's').got.map((m) => m.kind)).toEqual(['keyframe']);
  });

  it('drops a subscriber that throws, and keeps the others', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    hub.subscribe('s', {
      deliver: () => {
        throw new Error('boom');
      },
    });
    const ok = collect(hub, 's');
    pub.write({ type: 9, timestamp: 0, payload: keyframe(), headroom: false });
    pub.write({ type: 9, timestamp: 33, payload: frame(), headroom: false });
    expect(ok.got).toHaveLength(2);
  });
});

/** What the ingest parser does: a payload received into the publication's slabs. */
function receive(pub: Publication, type: number, timestamp: number, body: Buffer): void {
  const slab = pub.payloads.slabFor(body.length);
  const payload = slab.cut(body.length);
  body.copy(payload);
  pub.write({ type, timestamp, payload, headroom: true, slab });
  slab.release(); // dispatched
}

/** Frames whose bytes say which they are (frame n is filled with n % 251). */
const marked = (key: boolean, n: number, size = 8 * 1024) =>
  Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 0x01, 0, 0, 0]), Buffer.alloc(size, n % 251)]);
const markOf = (m: MediaMessage) => m.payload[5]!;
const intact = (m: MediaMessage) => m.payload.subarray(5).every((b) => b === m.payload[5]);

describe('MediaHub with payload slabs (an ingest)', () => {
  /** GOPs of a key frame and 29 frames of 8 KB: about two slabs each. */
  function gops(pub: Publication, from: number, count: number): void {
    for (let g = from; g < from + count; g++) {
      for (let i = 0; i < 30; i++) receive(pub, 9, g * 1000 + i * 33, marked(i === 0, g * 30 + i));
    }
  }

  it('reuses no slab while a subscriber may still send from it, and reuses them once it flushed', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    receive(pub, 9, 0, AVC_HEADER);
    const kept: MediaMessage[] = [];
    let queued = true;
    hub.subscribe('s', { deliver: (m) => kept.push(m), busy: () => queued });
    gops(pub, 0, 6);
    hub.recycle();
    // Five GOPs' slabs wait (nothing reused: all of it may be queued); the sixth is cached.
    expect(pub.payloads.waiting).toBeGreaterThanOrEqual(9);
    expect(kept.filter((m) => m.kind !== 'video-header').every(intact)).toBe(true);
    expect(kept.slice(1).map(markOf)).toEqual(kept.slice(1).map((_, i) => i % 251));
    queued = false; // its socket flushed
    const free = slabFigures.free;
    hub.recycle();
    expect(pub.payloads.waiting).toBe(0);
    expect(slabFigures.free).toBeGreaterThanOrEqual(free + 9);
    const reused = slabFigures.reused;
    gops(pub, 6, 3);
    expect(slabFigures.reused).toBeGreaterThan(reused);
    // The sequence header was copied out of the slabs: it is the same after reuse.
    expect(kept[0]!.kind).toBe('video-header');
    expect(kept[0]!.payload).toEqual(AVC_HEADER);
    pub.end();
  });

  it('gives a late joiner the current GOP from its slabs (no copy), reused only once it flushed', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    receive(pub, 9, 0, AVC_HEADER);
    receive(pub, 8, 0, AAC_HEADER);
    for (let round = 0; round < 5; round++) {
      gops(pub, round * 2, 2);
      hub.recycle(); // no subscriber: the previous GOPs' slabs are free at once
    }
    const got: MediaMessage[] = [];
    let queued = true;
    hub.subscribe('s', { deliver: (m) => got.push(m), busy: () => queued });
    const media = got.slice(2);
    expect(got.slice(0, 2).map((m) => m.payload)).toEqual([AAC_HEADER, AVC_HEADER]);
    expect(media).toHaveLength(30);
    expect(media[0]!.kind).toBe('keyframe');
    expect(media.map(markOf)).toEqual(media.map((_, i) => (9 * 30 + i) % 251));
    expect(media.every(intact)).toBe(true);
    // Not copies: the payloads are the slabs' bytes, framed by each subscriber itself
    // (the bytes in front of them belong to the live messages).
    expect(media.every((m) => m.payload.buffer.byteLength === SLAB_BYTES)).toBe(true);
    expect(media.every((m) => m.rtmp(1) === null)).toBe(true);
    // While the joiner may still be sending them, the GOP going on reuses none of them.
    const reused = slabFigures.reused;
    gops(pub, 10, 4);
    hub.recycle();
    expect(media.every(intact)).toBe(true);
    expect(media.map(markOf)).toEqual(media.map((_, i) => (9 * 30 + i) % 251));
    queued = false; // its socket flushed
    hub.recycle();
    gops(pub, 14, 4);
    expect(slabFigures.reused).toBeGreaterThan(reused);
    pub.end();
  });

  it("frames a late joiner's messages on its own stream id without touching the live ones'", () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    receive(pub, 9, 0, AVC_HEADER);
    const live: Buffer[] = [];
    hub.subscribe('s', {
      deliver: (m) => live.push(Buffer.from(m.rtmp(1)!)),
      busy: () => true,
    });
    const framedLive: Buffer[] = [];
    hub.subscribe('s', { deliver: (m) => framedLive.push(m.rtmp(1)!), busy: () => true });
    gops(pub, 0, 1);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    hub.subscribe('s', { deliver: (m) => writeRtmpMessage(out, m, 7), busy: () => true });
    // The live subscribers' framed buffers (views over the slabs) still say stream id 1.
    expect(framedLive.map((b) => b.toString('hex'))).toEqual(live.map((b) => b.toString('hex')));
    expect(framedLive.every((b) => b.readUInt32LE(8) === 1)).toBe(true);
    // The late joiner's key frame went out with a header of its own on stream id 7.
    const all = Buffer.concat(chunks);
    const key = all.indexOf(Buffer.from([0x17, 0x01, 0, 0, 0]));
    expect(all.readUInt32LE(key - 12 + 8)).toBe(7);
    pub.end();
  });

  it('waits for a subscriber that left while busy (its socket still flushing)', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    let queued = true;
    const leave = hub.subscribe('s', { deliver: () => undefined, busy: () => queued });
    gops(pub, 0, 3);
    leave();
    hub.recycle();
    gops(pub, 3, 3);
    hub.recycle();
    expect(pub.payloads.waiting).toBeGreaterThanOrEqual(8);
    queued = false;
    hub.recycle();
    expect(pub.payloads.waiting).toBe(0);
    pub.end();
  });

  it('a subscriber whose busy() throws keeps the slabs from reuse (and is not fatal)', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    const got: MediaMessage[] = [];
    hub.subscribe('s', {
      deliver: (m) => got.push(m),
      busy: () => {
        throw new Error('cannot tell');
      },
    });
    gops(pub, 0, 4);
    hub.recycle();
    gops(pub, 4, 2);
    hub.recycle();
    expect(pub.payloads.waiting).toBeGreaterThanOrEqual(8);
    expect(got.every(intact)).toBe(true);
    pub.end();
  });
});

function written(fn: (out: PassThrough) => void): Buffer {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (d: Buffer) => parts.push(d));
  fn(out);
  return Buffer.concat(parts);
}

/** A message as the hub makes it (published, delivered to a subscriber). */
function hubMessage(payload: Buffer, timestamp = 0x10, headroom = false): MediaMessage {
  const hub = new MediaHub();
  const got = collect(hub, 's');
  const pub = hub.publish('s', 'test')!;
  let body = payload;
  if (headroom) {
    body = withHeadroom(payload.length);
    payload.copy(body);
  }
  pub.write({ type: 9, timestamp, payload: body, headroom });
  return got.got[0]!;
}

describe('writeRtmpMessage', () => {
  const frame5 = Buffer.from([0x27, 0x01, 0, 0, 0xcc]);

  it('writes a type-0 header on the given message stream, then the payload', () => {
    for (const headroom of [false, true]) {
      const out = written((o) => writeRtmpMessage(o, hubMessage(frame5, 0x10, headroom), 1));
      expect(out).toEqual(
        Buffer.from([0x05, 0, 0, 0x10, 0, 0, 5, 9, 1, 0, 0, 0, 0x27, 0x01, 0, 0, 0xcc]),
      );
    }
  });

  it('frames a message once, in front of its payload (no copy), for every subscriber on that stream id', () => {
    const m = hubMessage(Buffer.alloc(1000, 7), 0x10, true);
    const a = m.rtmp(1)!;
    expect(m.rtmp(1)).toBe(a);
    expect(a.buffer).toBe(m.payload.buffer); // the same memory: header bytes in the headroom
    expect(a.byteOffset + 12).toBe(m.payload.byteOffset);
    // Another stream id: framed by the caller, still correct on the wire.
    expect(m.rtmp(2)).toBeNull();
    const out = written((o) => writeRtmpMessage(o, m, 2));
    expect(out.readUInt32LE(8)).toBe(2);
    expect(out.subarray(12)).toEqual(m.payload);
  });

  it('splits payloads over the chunk size with type-3 headers (framed or not)', () => {
    const payload = Buffer.alloc(OUT_CHUNK_SIZE + 10, 7);
    for (const streamId of [1, 2]) {
      const m = hubMessage(payload, 0x10, true);
      if (streamId === 2) m.rtmp(1);
      const out = written((o) => writeRtmpMessage(o, m, streamId));
      expect(out.length).toBe(12 + payload.length + 1);
      expect(out[12 + OUT_CHUNK_SIZE]).toBe(0xc5);
      expect(out.readUIntBE(4, 3)).toBe(payload.length);
      expect(out.readUInt32LE(8)).toBe(streamId);
    }
  });

  it('carries timestamps past 24 bits in the extended field of every chunk', () => {
    const payload = Buffer.alloc(OUT_CHUNK_SIZE + 1, 7);
    for (const headroom of [false, true]) {
      const out = written((o) => writeRtmpMessage(o, hubMessage(payload, 0x01234567, headroom), 1));
      expect(out.readUIntBE(1, 3)).toBe(0xffffff);
      expect(out.readUInt32BE(12)).toBe(0x01234567);
      const sep = 16 + OUT_CHUNK_SIZE;
      expect(out[sep]).toBe(0xc5);
      expect(out.readUInt32BE(sep + 1)).toBe(0x01234567);
    }
    // A small message with an extended timestamp uses the whole 16-byte headroom.
    const small = hubMessage(frame5, 0x01234567, true).rtmp(1)!;
    expect(small.length).toBe(16 + 5);
    expect(small.readUInt32BE(12)).toBe(0x01234567);
  });
});

describe('writeFlvTag', () => {
  it('writes tag header, payload and the back pointer, with the upper timestamp byte', () => {
    const m = { type: 8, timestamp: 0x01020304, payload: Buffer.from([1, 2]), kind: 'audio' };
    const out = written((o) => writeFlvTag(o, m as unknown as MediaMessage));
    expect(out).toEqual(
      Buffer.from([8, 0, 0, 2, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, 1, 2, 0, 0, 0, 13]),
    );
  });
});
