import { PassThrough } from 'node:stream';
import {
  MAX_GOP_CACHE_BYTES,
  MediaHub,
  MediaMessage,
  OUT_CHUNK_SIZE,
  writeFlvTag,
  writeRtmpMessage,
} from './media-hub';

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

describe('MediaHub', () => {
  it('gives a late subscriber the sequence headers and the current GOP, then live messages', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    pub.write({ type: 9, timestamp: 0, payload: AVC_HEADER });
    pub.write({ type: 8, timestamp: 0, payload: AAC_HEADER });
    pub.write({ type: 9, timestamp: 0, payload: keyframe() });
    pub.write({ type: 9, timestamp: 33, payload: frame() });
    pub.write({ type: 9, timestamp: 1000, payload: keyframe() });
    pub.write({ type: 9, timestamp: 1033, payload: frame() });
    const late = collect(hub, 's');
    expect(late.got.map((m) => [m.kind, m.timestamp])).toEqual([
      ['audio-header', 0],
      ['video-header', 0],
      ['keyframe', 1000],
      ['frame', 1033],
    ]);
    pub.write({ type: 9, timestamp: 1066, payload: frame() });
    expect(late.got).toHaveLength(5);
    expect(hub.info('s')?.keyframeIntervalMs).toBe(1000);
  });

  it('hands every subscriber the same payload buffer (no copy per subscriber)', () => {
    const hub = new MediaHub();
    const pub = hub.publish('s', 'ingest')!;
    const a = collect(hub, 's');
    const b = collect(hub, 's');
    const payload = keyframe();
    pub.write({ type: 9, timestamp: 0, payload });
    expect(a.got[0]!.payload).toBe(payload);
    expect(b.got[0]!.payload).toBe(payload);
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
    pub.write({ type: 9, timestamp: 0, payload: keyframe() });
    const chunk = 1024 * 1024;
    for (let i = 0; i * chunk <= MAX_GOP_CACHE_BYTES; i++) {
      pub.write({ type: 9, timestamp: 33 * (i + 1), payload: frame(chunk) });
    }
    expect(collect(hub, 's').got).toHaveLength(0);
    pub.write({ type: 9, timestamp: 99_000, payload: keyframe() });
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
    pub.write({ type: 9, timestamp: 0, payload: keyframe() });
    pub.write({ type: 9, timestamp: 33, payload: frame() });
    expect(ok.got).toHaveLength(2);
  });
});

function written(fn: (out: PassThrough) => void): Buffer {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (d: Buffer) => parts.push(d));
  fn(out);
  return Buffer.concat(parts);
}

describe('writeRtmpMessage', () => {
  const msg = (payload: Buffer, timestamp = 0x10): MediaMessage => ({
    type: 9,
    timestamp,
    payload,
    kind: 'frame',
  });

  it('writes a type-0 header on the given message stream, then the payload', () => {
    const out = written((o) => writeRtmpMessage(o, msg(Buffer.from([0xaa, 0xbb, 0xcc])), 1));
    expect(out).toEqual(Buffer.from([0x05, 0, 0, 0x10, 0, 0, 3, 9, 1, 0, 0, 0, 0xaa, 0xbb, 0xcc]));
  });

  it('splits payloads over the chunk size with type-3 headers', () => {
    const payload = Buffer.alloc(OUT_CHUNK_SIZE + 10, 7);
    const out = written((o) => writeRtmpMessage(o, msg(payload), 1));
    expect(out.length).toBe(12 + payload.length + 1);
    expect(out[12 + OUT_CHUNK_SIZE]).toBe(0xc5);
    expect(out.readUIntBE(4, 3)).toBe(payload.length);
  });

  it('carries timestamps past 24 bits in the extended field of every chunk', () => {
    const payload = Buffer.alloc(OUT_CHUNK_SIZE + 1, 7);
    const out = written((o) => writeRtmpMessage(o, msg(payload, 0x01234567), 1));
    expect(out.readUIntBE(1, 3)).toBe(0xffffff);
    expect(out.readUInt32BE(12)).toBe(0x01234567);
    const sep = 16 + OUT_CHUNK_SIZE;
    expect(out[sep]).toBe(0xc5);
    expect(out.readUInt32BE(sep + 1)).toBe(0x01234567);
  });
});

describe('writeFlvTag', () => {
  it('writes tag header, payload and the back pointer, with the upper timestamp byte', () => {
    const out = written((o) =>
      writeFlvTag(o, {
        type: 8,
        timestamp: 0x01020304,
        payload: Buffer.from([1, 2]),
        kind: 'audio',
      }),
    );
    expect(out).toEqual(
      Buffer.from([8, 0, 0, 2, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, 1, 2, 0, 0, 0, 13]),
    );
  });
});
