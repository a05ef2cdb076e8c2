import { randomBytes } from 'node:crypto';
import { amf } from './nms';
import { SlabWriter } from './payload-slabs';
import {
  DESTINATION_LIMITS,
  RtmpClientProtocol,
  RtmpServerProtocol,
  ServerProtocolEvents,
  WireMedia,
} from './rtmp-protocol';

/** One RTMP message in chunks of 128 bytes (what a client sends before Set Chunk Size). */
function chunk(
  type: number,
  payload: Buffer,
  opts: { cid?: number; sid?: number; length?: number } = {},
) {
  const cid = opts.cid ?? 3;
  const h = Buffer.alloc(12);
  h[0] = cid;
  h.writeUIntBE(opts.length ?? payload.length, 4, 3);
  h[7] = type;
  h.writeUInt32LE(opts.sid ?? 0, 8);
  const parts: Buffer[] = [h];
  for (let off = 0; off < payload.length; off += 128) {
    if (off) parts.push(Buffer.from([0xc0 | cid]));
    parts.push(payload.subarray(off, off + 128));
  }
  return Buffer.concat(parts);
}
const cmd = (o: Record<string, unknown>, sid = 0) => chunk(20, amf.encodeAmf0Cmd(o), { sid });
const connect = (app: unknown = 'live') => cmd({ cmd: 'connect', transId: 1, cmdObj: { app } });
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function server() {
  const out: Buffer[] = [];
  const requests: Array<[string, string, string]> = [];
  const media: WireMedia[] = [];
  let finished = 0;
  const events: ServerProtocolEvents = {
    output: (b) => out.push(b),
    request: (k, a, n) => requests.push([k, a, n]),
    finished: () => (finished += 1),
    media: (m) => media.push(m),
  };
  const p = new RtmpServerProtocol(events);
  // C0 + C1, then C2: the handshake done.
  expect(p.feed(Buffer.concat([Buffer.from([3]), randomBytes(1536)]))).toBeNull();
  expect(p.feed(randomBytes(1536))).toBeNull();
  expect(p.handshakeDone).toBe(true);
  return { p, out, requests, media, finished: () => finished };
}

describe('RtmpServerProtocol', () => {
  it('refuses a handshake that does not start with RTMP version 3', () => {
    const p = new RtmpServerProtocol({
      output: () => undefined,
      request: () => undefined,
      finished: () => undefined,
      media: () => undefined,
    });
    expect(p.feed(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBe('unsupported RTMP version 71');
  });

  it.each([
    ['truncated AMF', chunk(20, Buffer.from([0x02, 0xff, 0xff]))],
    ['an empty command', Buffer.concat([chunk(20, Buffer.alloc(0)), chunk(20, Buffer.alloc(0))])],
    ['an unknown AMF marker', chunk(20, Buffer.from([0x11, 0, 0]))],
    ['a command name that is not a string', chunk(20, Buffer.from([0x00, 0, 0, 0, 0, 0, 0, 0, 0]))],
    ['connect without an object', cmd({ cmd: 'connect', transId: 1, cmdObj: null })],
    ['connect with a non-string app', connect(42)],
    ['connect with an app path outside the name form', connect('../live')],
    ['publish before connect', cmd({ cmd: 'publish', transId: 2, cmdObj: null, streamName: 'k' })],
    ['a Set Chunk Size of 0', chunk(1, u32(0), { cid: 2 })],
    ['a Set Chunk Size of 1', chunk(1, u32(1), { cid: 2 })],
    ['a Set Chunk Size of 2^31-1', chunk(1, u32(0x7fffffff), { cid: 2 })],
    ['a short Set Chunk Size', chunk(1, Buffer.from([0, 1]), { cid: 2 })],
    ['a 16 MB message announced before publish', chunk(9, Buffer.alloc(0), { length: 0xffffff })],
  ])('ends the connection on %s, without throwing', (_what, bytes) => {
    const { p, requests } = server();
    const error = p.feed(bytes);
    expect(typeof error).toBe('string');
    expect(requests).toEqual([]);
  });

  it('refuses many chunk streams before publish', () => {
    const { p } = server();
    let error: string | null = null;
    for (let cid = 3; cid < 40 && !error; cid++) error = p.feed(chunk(4, Buffer.alloc(2), { cid }));
    expect(error).toBe('more than 8 chunk streams');
  });

  it('refuses a publish with a stream name that is not a name, or a second publish', () => {
    const a = server();
    a.p.feed(connect());
    expect(a.p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: false }, 1))).toBe(
      'publish with an invalid stream name',
    );
    const b = server();
    b.p.feed(connect());
    expect(
      b.p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: 'key' }, 1)),
    ).toBeNull();
    expect(b.p.feed(cmd({ cmd: 'publish', transId: 4, cmdObj: null, streamName: 'key' }, 1))).toBe(
      'second publish/play',
    );
  });

  it('asks the owner before answering Publish.Start, and drops media until it accepted', () => {
    const { p, out, requests, media } = server();
    expect(p.feed(connect())).toBeNull();
    expect(p.feed(cmd({ cmd: 'createStream', transId: 2, cmdObj: null }))).toBeNull();
    expect(
      p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: 'key?x=1' }, 1)),
    ).toBeNull();
    expect(requests).toEqual([['publish', 'live', 'key']]);
    expect(Buffer.concat(out).toString('latin1')).not.toContain('Publish.Start');
    const video = Buffer.from([0x17, 0x01, 0, 0, 0, 1, 2, 3]);
    expect(p.feed(chunk(9, video, { cid: 5, sid: 1 }))).toBeNull();
    expect(media).toHaveLength(0);
    expect(p.droppedEarlyMedia).toBe(1);
    p.acceptPublish();
    expect(Buffer.concat(out).toString('latin1')).toContain('NetStream.Publish.Start');
    expect(Buffer.concat(out).toString('latin1')).not.toContain('key');
    expect(p.feed(chunk(9, video, { cid: 5, sid: 1 }))).toBeNull();
    expect(p.feed(chunk(9, video, { cid: 5, sid: 1 }))).toBeNull();
    expect(media.map((m) => m.payload)).toEqual([video, video]);
    // A fresh buffer per message: the hub may keep it without a copy.
    expect(media[0]!.payload).not.toBe(media[1]!.payload);
  });

  it('takes media messages up to 8 MB once the publish was accepted', () => {
    const { p, media } = server();
    p.feed(connect());
    p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: 'key' }, 1));
    p.acceptPublish();
    expect(p.feed(chunk(1, u32(65536), { cid: 2 }))).toBeNull();
    const big = Buffer.alloc(1024 * 1024, 7);
    big[0] = 0x17;
    const h = chunk(9, Buffer.alloc(0), { cid: 5, sid: 1, length: big.length });
    const parts: Buffer[] = [h];
    for (let off = 0; off < big.length; off += 65536) {
      if (off) parts.push(Buffer.from([0xc5]));
      parts.push(big.subarray(off, off + 65536));
    }
    expect(p.feed(Buffer.concat(parts))).toBeNull();
    expect(media[0]!.payload.equals(big)).toBe(true);
    expect(p.feed(chunk(9, Buffer.alloc(0), { cid: 5, length: 9 * 1024 * 1024 }))).toMatch(
      /message of 9437184 bytes/,
    );
  });

  it("receives an accepted publisher's audio and video into its slabs, holding each only until it is handled", () => {
    const { p, media } = server();
    p.feed(connect());
    p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: 'key' }, 1));
    const refsSeen: number[] = [];
    const events = (p as unknown as { events: ServerProtocolEvents }).events;
    const push = events.media;
    events.media = (m) => {
      refsSeen.push(m.slab?.refs ?? -1);
      push(m);
    };
    const early = Buffer.from([0x17, 0x01, 0, 0, 0, 9]);
    p.payloads = new SlabWriter(() => undefined);
    expect(p.feed(chunk(9, early, { cid: 5, sid: 1 }))).toBeNull(); // before acceptance: dropped
    p.acceptPublish();
    // Video (300 bytes: three chunks) and audio interleaved chunk by chunk.
    const video = Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(295, 0xab)]);
    const audio = Buffer.concat([Buffer.from([0xaf, 0x01]), Buffer.alloc(98, 0xcd)]);
    const v = chunk(9, video, { cid: 6, sid: 1 });
    const a = chunk(8, audio, { cid: 4, sid: 1 });
    expect(p.feed(Buffer.concat([v.subarray(0, 12 + 128), a, v.subarray(12 + 128)]))).toBeNull();
    expect(media.map((m) => m.type)).toEqual([8, 9]);
    expect(media[0]!.payload).toEqual(audio);
    expect(media[1]!.payload).toEqual(video);
    const slab = media[0]!.slab!;
    expect(media[1]!.slab).toBe(slab);
    expect(media[0]!.payload.buffer).toBe(slab.buf.buffer);
    // Audio handed on while the video was still arriving in the same slab; then each
    // message's hold was released after it was handled: only the writer's is left.
    expect(refsSeen).toEqual([3, 2]);
    expect(slab.refs).toBe(1);
    // Commands are never received into the slabs.
    const used = slab.used;
    expect(
      p.feed(cmd({ cmd: 'FCUnpublish', transId: 5, cmdObj: null, streamName: 'key' })),
    ).toBeNull();
    expect(slab.used).toBe(used);
  });

  it('reports the end of a publish (deleteStream, FCUnpublish)', () => {
    const { p, finished } = server();
    p.feed(connect());
    p.feed(cmd({ cmd: 'publish', transId: 3, cmdObj: null, streamName: 'key' }, 1));
    p.acceptPublish();
    p.feed(cmd({ cmd: 'FCUnpublish', transId: 5, cmdObj: null, streamName: 'key' }));
    expect(finished()).toBe(1);
  });
});

describe('RtmpClientProtocol', () => {
  function client() {
    const c = new RtmpClientProtocol(DESTINATION_LIMITS);
    const destroyed: number[] = [];
    c.socket = {
      destroy: () => destroyed.push(1),
      destroyed: false,
      writable: true,
      write: () => true,
    } as never;
    c.connected = true;
    const errors: string[] = [];
    c.onErrorCallback = (e) => errors.push(e.message);
    // Skip the handshake: the parser is what is under test.
    (c as unknown as { handshakeState: number }).handshakeState = 3;
    return { c, destroyed, errors };
  }

  it.each([
    ['a malformed command', chunk(20, Buffer.from([0x02, 0xff, 0xff]))],
    ['a Set Chunk Size of 0', chunk(1, u32(0), { cid: 2 })],
    ['a message over 64 KiB', chunk(20, Buffer.alloc(0), { length: 1_000_000 })],
  ])('a server sending %s fails that connection only (no throw)', (_w, bytes) => {
    const { c, destroyed, errors } = client();
    expect(() => c.handleData(bytes)).not.toThrow();
    expect(destroyed).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(c.failure).toBeTruthy();
  });

  it("a server's close command closes the socket (NMS only called back, leaving it open)", () => {
    const { c, destroyed } = client();
    c.handleData(cmd({ cmd: 'close', transId: 0, cmdObj: null }));
    expect(destroyed).toEqual([1]);
    expect(c.failure).toBe('server closed the stream');
  });

  it('resolves and rejects pending commands from _result / _error / onStatus', async () => {
    const { c } = client();
    const ok = new Promise((resolve, reject) =>
      c.pendingCommands.set(1, { cmd: 'connect', resolve, reject }),
    );
    const refused = new Promise((resolve, reject) =>
      c.pendingCommands.set(3, { cmd: 'publish', resolve, reject }),
    );
    c.handleData(cmd({ cmd: '_result', transId: 1, cmdObj: null, info: { code: 'x' } }));
    c.handleData(
      cmd({
        cmd: 'onStatus',
        transId: 0,
        cmdObj: null,
        info: { code: 'NetStream.Publish.BadName', description: 'nope' },
      }),
    );
    await expect(ok).resolves.toBeTruthy();
    await expect(refused).rejects.toThrow('nope');
  });

  it('counts acknowledgements and ignores writes once the socket is gone', () => {
    const { c } = client();
    c.handleData(chunk(3, u32(1000), { cid: 2 }));
    c.handleData(chunk(3, u32(2000), { cid: 2 }));
    expect(c.acksReceived).toBe(2);
    c.socket = {
      destroyed: true,
      writable: false,
      write: () => {
        throw new Error('gone');
      },
    } as never;
    expect(() => c.write(Buffer.from([1]))).not.toThrow();
  });
});

describe('memory of an unauthenticated connection', () => {
  it('a server-side protocol object allocates no 1 MB FLV parser (NMS makes one per connection)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const kept = Array.from(
      { length: 200 },
      () =>
        new RtmpServerProtocol({
          output: () => undefined,
          request: () => undefined,
          finished: () => undefined,
          media: () => undefined,
        }),
    );
    const perConnection = (process.memoryUsage().arrayBuffers - before) / kept.length;
    expect(perConnection).toBeLessThan(16 * 1024);
    expect(Buffer.alloc(1024 * 1024)).toHaveLength(1024 * 1024); // Buffer.alloc is itself again
  });
});
