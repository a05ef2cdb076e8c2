import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { amf } from '../../src/media/nms';

/**
 * RTMP peers that misbehave on purpose, on real loopback sockets: a raw client that
 * sends exactly the bytes a test names (handshakes, chunks, AMF), a destination server
 * that can stall or answer garbage, and a TCP proxy that records what crossed it.
 */

export const HANDSHAKE_SIZE = 1536;

/** One RTMP message as chunks of `chunkSize` (type 0 first, type 3 after). */
export function chunkMessage(opts: {
  cid?: number;
  type: number;
  streamId?: number;
  timestamp?: number;
  payload: Buffer;
  chunkSize?: number;
  /** Announce this length instead of the payload's (lies about the size). */
  length?: number;
}): Buffer {
  const cid = opts.cid ?? 3;
  const chunkSize = opts.chunkSize ?? 128;
  const header = Buffer.alloc(12);
  header[0] = cid & 0x3f;
  header.writeUIntBE(Math.min(opts.timestamp ?? 0, 0xffffff), 1, 3);
  header.writeUIntBE(opts.length ?? opts.payload.length, 4, 3);
  header[7] = opts.type;
  header.writeUInt32LE(opts.streamId ?? 0, 8);
  const parts: Buffer[] = [header];
  for (let off = 0; off < opts.payload.length; off += chunkSize) {
    if (off > 0) parts.push(Buffer.from([0xc0 | (cid & 0x3f)]));
    parts.push(opts.payload.subarray(off, off + chunkSize));
  }
  return Buffer.concat(parts);
}

export const command = (cmd: Record<string, unknown>, streamId = 0): Buffer =>
  chunkMessage({ type: 20, streamId, payload: amf.encodeAmf0Cmd(cmd) });

export const connectCommand = (app = 'live', extra: Record<string, unknown> = {}) =>
  command({
    cmd: 'connect',
    transId: 1,
    cmdObj: { app, tcUrl: `rtmp://127.0.0.1/${app}`, flashVer: 'FMLE/3.0', ...extra },
  });
export const createStreamCommand = () => command({ cmd: 'createStream', transId: 2, cmdObj: null });
export const publishCommand = (name: string) =>
  command({ cmd: 'publish', transId: 3, cmdObj: null, streamName: name, type: 'live' }, 1);
export const playCommand = (name: string) =>
  command({ cmd: 'play', transId: 3, cmdObj: null, streamName: name, start: -2 }, 1);
export const setChunkSize = (size: number) => {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(size >>> 0);
  return chunkMessage({ cid: 2, type: 1, payload: p });
};

/** A raw client: connects, optionally handshakes, sends what the test says. */
export class RawRtmpClient {
  readonly received: Buffer[] = [];
  readonly closed: Promise<void>;
  private closedFlag = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.received.push(d));
    socket.on('error', () => undefined);
    this.closed = new Promise((r) =>
      socket.once('close', () => {
        this.closedFlag = true;
        r();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawRtmpClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ port, host }, () => resolve(new RawRtmpClient(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get bytesReceived(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }

  text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  send(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** C0+C1, wait for S0+S1+S2, then C2. */
  async handshake(timeoutMs = 5000): Promise<void> {
    this.send(Buffer.concat([Buffer.from([3]), randomBytes(HANDSHAKE_SIZE)]));
    await this.waitForBytes(1 + 2 * HANDSHAKE_SIZE, timeoutMs);
    const all = Buffer.concat(this.received);
    this.send(all.subarray(1, 1 + HANDSHAKE_SIZE));
  }

  async waitForBytes(n: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.bytesReceived < n) {
      if (this.closedFlag || Date.now() > deadline) {
        throw new Error(`wanted ${n} bytes, got ${this.bytesReceived}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitForText(text: string, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.text().includes(text)) return true;
      if (this.closedFlag) return this.text().includes(text);
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Resolves true when the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.closedFlag) return true;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(t);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** How a hostile destination server behaves once a client connected. */
export type HostileMode =
  /** Accept TCP, never answer. */
  | 'silent'
  /** Complete the handshake, then answer nothing. */
  | 'handshake-only'
  /** Answer connect/createStream/publish properly, then send `after` (or nothing). */
  | 'publish';

export interface HostileServer {
  port: number;
  url: string;
  /** Sockets accepted so far and those still open. */
  accepted(): number;
  open(): number;
  bytesReceived(): number;
  close(): Promise<void>;
}

/**
 * A destination server that misbehaves: `mode` decides how far it plays along, `after`
 * is what it sends once the client started publishing (malformed commands, absurd
 * chunk sizes…). It reads what it is sent, unless `stopReading` is set after publish.
 */
export async function startHostileServer(opts: {
  mode: HostileMode;
  after?: Buffer;
  stopReading?: boolean;
}): Promise<HostileServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let bytes = 0;
  const server = net.createServer((s) => {
    accepted += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (opts.mode === 'silent') {
      s.on('data', (d: Buffer) => (bytes += d.length));
      return;
    }
    let buf = Buffer.alloc(0);
    let stage: 'c0c1' | 'c2' | 'commands' | 'published' = 'c0c1';
    const replies: Record<string, (transId: number) => Buffer> = {
      connect: (t) =>
        command({
          cmd: '_result',
          transId: t,
          cmdObj: { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
          info: { level: 'status', code: 'NetConnection.Connect.Success' },
        }),
      createStream: (t) => command({ cmd: '_result', transId: t, cmdObj: null, info: 1 }),
      publish: () =>
        command(
          {
            cmd: 'onStatus',
            transId: 0,
            cmdObj: null,
            info: { level: 'status', code: 'NetStream.Publish.Start' },
          },
          1,
        ),
    };
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      if (stage === 'published') return;
      buf = Buffer.concat([buf, d]);
      if (stage === 'c0c1' && buf.length >= 1 + HANDSHAKE_SIZE) {
        const c1 = buf.subarray(1, 1 + HANDSHAKE_SIZE);
        s.write(Buffer.concat([Buffer.from([3]), randomBytes(HANDSHAKE_SIZE), c1]));
        buf = buf.subarray(1 + HANDSHAKE_SIZE);
        stage = 'c2';
      }
      if (stage === 'c2' && buf.length >= HANDSHAKE_SIZE) {
        buf = buf.subarray(HANDSHAKE_SIZE);
        stage = 'commands';
        if (opts.mode === 'handshake-only') {
          stage = 'published';
          return;
        }
      }
      if (stage !== 'commands') return;
      // Our client sends each command in one chunk (its chunk size is 65535): find names.
      const text = buf.toString('latin1');
      for (const name of ['connect', 'createStream', 'publish'] as const) {
        const marker = `\u0002\u0000${String.fromCharCode(name.length)}${name}`;
        const at = text.indexOf(marker);
        if (at < 0) continue;
        const transId = buf.readDoubleBE(at + 3 + name.length + 1);
        s.write(replies[name]!(Number.isFinite(transId) ? transId : 0));
        buf = buf.subarray(at + marker.length);
        if (name === 'publish') {
          stage = 'published';
          if (opts.after) s.write(opts.after);
          if (opts.stopReading) s.pause();
        }
        break;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `rtmp://127.0.0.1:${port}/live`,
    accepted: () => accepted,
    open: () => sockets.size,
    bytesReceived: () => bytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A TCP proxy that records the bytes of each direction of its first connection. */
export async function startRecordingProxy(targetPort: number): Promise<{
  port: number;
  toServer: () => Buffer;
  toClient: () => Buffer;
  close: () => Promise<void>;
}> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  let first = true;
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const record = first;
    first = false;
    const upstream = net.createConnection({ port: targetPort, host: '127.0.0.1' });
    pairs.add(client).add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.on('data', (d: Buffer) => {
      if (record) up.push(d);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (record) down.push(d);
      client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    toServer: () => Buffer.concat(up),
    toClient: () => Buffer.concat(down),
    close: async () => {
      for (const s of pairs) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed by seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One mutation of a recorded session: flips, random bytes, truncation, a repeated or
 * removed slice, or a lying length field; the first `keep` bytes (the handshake) stay.
 */
export function mutate(data: Buffer, rand: () => number, keep: number): Buffer {
  const out = Buffer.from(data);
  const span = Math.max(1, out.length - keep);
  const at = () => keep + Math.floor(rand() * span);
  const kind = Math.floor(rand() * 6);
  switch (kind) {
    case 0: {
      for (let i = 0, n = 1 + Math.floor(rand() * 16); i < n; i++)
        out[at()] ^= 1 << Math.floor(rand() * 8);
      return out;
    }
    case 1: {
      const p = at();
      return Buffer.concat([
        out.subarray(0, p),
        randomBytes(1 + Math.floor(rand() * 64)),
        out.subarray(p),
      ]);
    }
    case 2:
      return out.subarray(0, at());
    case 3: {
      const p = at();
      const len = Math.floor(rand() * 512);
      return Buffer.concat([out.subarray(0, p + len), out.subarray(p)]);
    }
    case 4: {
      const p = at();
      return Buffer.concat([out.subarray(0, p), out.subarray(p + Math.floor(rand() * 256))]);
    }
    default: {
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
        const p = at();
        if (p + 3 <= out.length) out.writeUIntBE(Math.floor(rand() * 0xffffff), p, 3);
      }
      return out;
    }
  }
}
