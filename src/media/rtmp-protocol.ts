import {
  amf,
  installNmsLogger,
  NmsRtmpBase,
  NmsRtmpClientBase,
  NmsRtmpPacket,
  skipUnusedFlvBuffer,
} from './nms';
import type { PayloadSlab, SlabWriter } from './payload-slabs';

/**
 * node-media-server's RTMP protocol code (handshake, chunk parser, AMF), hardened for
 * peers on the internet. Read from its source (4.4.3), these are the places where it
 * trusts its peer, each overridden here and pinned by rtmp-protocol.spec.ts:
 *
 * - it throws out of the socket's data handler on malformed AMF, a short control
 *   message, a non-URL `tcUrl` or a non-string stream name (one packet ended the process);
 * - it allocates `length + 1024` bytes for any announced message length (up to 16 MB)
 *   on each of up to 65,599 chunk streams, before a single payload byte arrives;
 * - it accepts any Set Chunk Size, including 0 (the parser then spins on NaN) and 1;
 * - it answers `publish` with Publish.Start before anyone checked the stream key, and
 *   keeps parsing and broadcasting a refused publisher's media;
 * - its client treats a server's `close` command as a closed connection while the
 *   socket stays open, and its heartbeat throws when it writes to a destroyed socket.
 *
 * Everything a peer can cause ends as a `ProtocolError` (or a caught library error)
 * that the caller turns into the end of that one connection.
 */

/** A peer broke the protocol or a limit: end its connection, nothing else. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** A short reason for a log line: never the peer's bytes, never a stream name. */
export function protocolFailure(err: unknown): string {
  if (err instanceof ProtocolError) return err.message;
  const e = err as Error;
  return `malformed data (${e?.name ?? 'Error'}: ${String(e?.message ?? e).slice(0, 120)})`;
}

export interface ParserLimits {
  /** Largest message a peer may announce (RTMP allows 16 MB). */
  maxMessageBytes: number;
  /** Distinct chunk stream ids a peer may use (RTMP allows 65,599). */
  maxChunkStreams: number;
  /** Accepted range of the peer's Set Chunk Size (RTMP allows 1 to 2^31-1). */
  minChunkSize: number;
  maxChunkSize: number;
}

/** Before a publish or play was authorized: commands only, small and few. */
export const UNAUTHENTICATED_LIMITS: ParserLimits = {
  maxMessageBytes: 16 * 1024,
  maxChunkStreams: 8,
  minChunkSize: 128,
  maxChunkSize: 64 * 1024,
};

/** An authorized publisher: media messages (a 4K key frame stays well under 8 MB). */
export const PUBLISHER_LIMITS: ParserLimits = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxChunkStreams: 16,
  minChunkSize: 128,
  maxChunkSize: 16 * 1024 * 1024,
};

/** A destination server we publish to: it only ever sends control messages and commands. */
export const DESTINATION_LIMITS: ParserLimits = {
  maxMessageBytes: 64 * 1024,
  maxChunkStreams: 16,
  minChunkSize: 1,
  maxChunkSize: 16 * 1024 * 1024,
};

/** An origin we pull a stream from: media, like a publisher. */
export const ORIGIN_LIMITS: ParserLimits = { ...PUBLISHER_LIMITS, minChunkSize: 1 };

const TYPE_SET_CHUNK_SIZE = 1;
const TYPE_ACKNOWLEDGEMENT = 3;
const TYPE_WINDOW_ACK_SIZE = 5;
const TYPE_AUDIO = 8;
const TYPE_VIDEO = 9;
const TYPE_DATA_AMF0 = 18;
const TYPE_INVOKE_AMF3 = 17;
const HANDSHAKE_DONE = 3;
const RTMP_VERSION = 3;

/**
 * Bytes kept free in front of every payload received (and of an encoder's FLV tags): the
 * RTMP header of the message (12 bytes, 16 with an extended timestamp) is written there
 * when it is forwarded, so the message goes out as one buffer, without a copy.
 */
export const HEADROOM = 16;

/**
 * A media message off the wire. `payload` is the receiver's own, unless `slab` is set:
 * then it is in a slab that is reused once every holder let go (payload-slabs.ts). When
 * `headroom` is true, the HEADROOM bytes in front of it in its memory are the message's
 * too (see `withHeadroom`).
 */
export interface WireMedia {
  type: number;
  timestamp: number;
  payload: Buffer;
  headroom: boolean;
  /**
   * The slab `payload` is in (an ingest's), held by the parser until the message is
   * dispatched: whoever keeps the payload longer must hold the slab (see payload-slabs.ts).
   */
  slab?: PayloadSlab | null;
}

/** A buffer of `size` bytes with HEADROOM free bytes in front of it. */
export function withHeadroom(size: number): Buffer {
  return Buffer.allocUnsafe(HEADROOM + size).subarray(HEADROOM);
}

/**
 * The limits checks every parser shares (server and client): message length and chunk
 * stream count when a header is read, an exact payload buffer per message (so a message
 * can be handed on without a copy), and Set Chunk Size within range.
 */
function checkHeader(packet: NmsRtmpPacket, streams: number, limits: ParserLimits): void {
  if (streams > limits.maxChunkStreams) {
    throw new ProtocolError(`more than ${limits.maxChunkStreams} chunk streams`);
  }
  if (packet.header.length > limits.maxMessageBytes) {
    throw new ProtocolError(
      `message of ${packet.header.length} bytes (limit ${limits.maxMessageBytes})`,
    );
  }
}

function freshPayload(packet: NmsRtmpPacket): void {
  packet.payload = withHeadroom(packet.header.length);
  packet.capacity = packet.header.length;
}

/**
 * The slabs the messages being received are in, by chunk stream id: audio and video go
 * into `writer`'s slabs while media is wanted, each held until the message was handled
 * (`release` after the packet handler); anything else gets a fresh buffer.
 */
class SlabReceiving {
  writer: SlabWriter | null = null;
  /** Set to null rather than deleted: a Map shrinking on delete allocates, per message. */
  private readonly held = new Map<number, PayloadSlab | null>();

  alloc(p: NmsRtmpPacket, mediaWanted: boolean): void {
    const type = p.header.type;
    this.release(p.header.cid); // a message its handler never saw (NMS drops some)
    if (this.writer && mediaWanted && (type === TYPE_AUDIO || type === TYPE_VIDEO)) {
      const slab = this.writer.slabFor(p.header.length);
      p.payload = slab.cut(p.header.length);
      p.capacity = p.header.length;
      this.held.set(p.header.cid, slab);
      return;
    }
    freshPayload(p);
  }

  slabOf(cid: number): PayloadSlab | null {
    return this.held.get(cid) ?? null;
  }

  release(cid: number): void {
    const slab = this.held.get(cid);
    if (slab) {
      this.held.set(cid, null);
      slab.release();
    }
  }
}

function chunkSizeOf(packet: NmsRtmpPacket, limits: ParserLimits): number {
  if (packet.header.length < 4) throw new ProtocolError('short Set Chunk Size');
  const size = packet.payload.readUInt32BE(0) & 0x7fffffff;
  if (size < limits.minChunkSize || size > limits.maxChunkSize) {
    throw new ProtocolError(
      `Set Chunk Size ${size} outside ${limits.minChunkSize}–${limits.maxChunkSize}`,
    );
  }
  return size;
}

function decodeCommand(packet: NmsRtmpPacket): Record<string, unknown> & { cmd: string } {
  const offset = packet.header.type === TYPE_INVOKE_AMF3 ? 1 : 0;
  const payload = packet.payload.subarray(offset, packet.header.length);
  // NMS's decoder reads past the end of a truncated string without noticing: check the
  // command name (the first value) ourselves.
  const name = amf.amf0DecodeOne(payload);
  if (!name || name.len > payload.length || typeof name.value !== 'string' || !name.value) {
    throw new ProtocolError('malformed command name');
  }
  const message = amf.decodeAmf0Cmd(payload);
  if (!message || typeof message.cmd !== 'string') {
    throw new ProtocolError('command without a name');
  }
  return message as Record<string, unknown> & { cmd: string };
}

function transIdOf(message: Record<string, unknown>): number {
  const t = message.transId;
  return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : 0;
}

const APP_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Events of a server-side connection, in the order a well-behaved client causes them. */
export interface ServerProtocolEvents {
  output(buffer: Buffer): void;
  /** `publish` or `play` of `/<app>/<name>`: answer with accept…() or refuse…(). */
  request(kind: 'publish' | 'play', app: string, name: string): void;
  /** The client ended its publish or play (deleteStream, FCUnpublish, closeStream). */
  finished(): void;
  /** A media message from an accepted publisher. */
  media(message: WireMedia): void;
}

/**
 * The server side of one RTMP connection: NMS's handshake and chunk parser, with the
 * commands handled here. Nothing is answered Publish.Start, and no media is passed on,
 * before the owner accepted the request.
 */
export class RtmpServerProtocol extends NmsRtmpBase {
  private limits: ParserLimits = UNAUTHENTICATED_LIMITS;
  private app: string | null = null;
  private requested = false;
  private accepted: 'publish' | 'play' | null = null;
  /** Media messages dropped because they came before the publish was accepted. */
  droppedEarlyMedia = 0;

  constructor(private readonly events: ServerProtocolEvents) {
    const restore = skipUnusedFlvBuffer();
    super();
    restore();
    installNmsLogger();
    this.flv = null;
    this.onOutputCallback = (buffer) => events.output(buffer);
  }

  get handshakeDone(): boolean {
    return this.handshakeState >= HANDSHAKE_DONE;
  }

  /** Feeds bytes from the socket; returns why the connection must end, or null. */
  feed(data: Buffer): string | null {
    if (this.handshakeState === 0 && data.length > 0 && data[0] !== RTMP_VERSION) {
      return `unsupported RTMP version ${data[0]}`;
    }
    try {
      const error = super.parserData(data);
      return error === null ? null : `malformed data (${error})`;
    } catch (err) {
      return protocolFailure(err);
    }
  }

  /** Publish.Start; media from now on is passed on, under a publisher's limits. */
  acceptPublish(): void {
    this.accepted = 'publish';
    this.limits = PUBLISHER_LIMITS;
    this.sendStatusMessage(this.streamId, 'status', 'NetStream.Publish.Start', 'Publishing.');
  }

  acceptPlay(): void {
    this.accepted = 'play';
    const sid = this.streamId;
    this.sendStreamStatus(0, sid); // Stream Begin
    this.sendStatusMessage(sid, 'status', 'NetStream.Play.Reset', 'Playing and resetting stream.');
    this.sendStatusMessage(sid, 'status', 'NetStream.Play.Start', 'Started playing stream.');
    this.sendDataMessage({ cmd: '|RtmpSampleAccess', bool1: false, bool2: false }, sid);
  }

  /** Tells the client why (a status it can show), without echoing what it sent. */
  refuse(kind: 'publish' | 'play'): void {
    const code = kind === 'publish' ? 'NetStream.Publish.BadName' : 'NetStream.Play.StreamNotFound';
    this.sendStatusMessage(this.streamId, 'error', code, 'Refused.');
  }

  /** The stream id the client's publish/play named (media goes out on it). */
  get messageStreamId(): number {
    return this.streamId;
  }

  override packetParse(): void {
    super.packetParse();
    checkHeader(this.parserPacket, this.inPackets.size, this.limits);
  }

  /**
   * Where an accepted publisher's audio and video are received (the publication's
   * slabs); null before, and for everything else (a fresh buffer each).
   */
  get payloads(): SlabWriter | null {
    return this.receiving.writer;
  }

  set payloads(writer: SlabWriter | null) {
    this.receiving.writer = writer;
  }

  private readonly receiving = new SlabReceiving();

  override packetAlloc(): void {
    this.receiving.alloc(this.parserPacket, this.accepted === 'publish');
  }

  override packetHandler(): void {
    try {
      super.packetHandler();
    } finally {
      this.receiving.release(this.parserPacket.header.cid);
    }
  }

  override controlHandler(): void {
    const p = this.parserPacket;
    if (p.header.type === TYPE_SET_CHUNK_SIZE) this.inChunkSize = chunkSizeOf(p, this.limits);
  }

  override eventHandler(): void {
    // User control messages from a client (buffer length, pong) change nothing here.
  }

  override invokeHandler(): void {
    const message = decodeCommand(this.parserPacket);
    const transId = transIdOf(message);
    switch (message.cmd) {
      case 'connect':
        return this.onConnectCommand(message, transId);
      case 'createStream':
        if (this.app === null) throw new ProtocolError('createStream before connect');
        if (this.streams >= 4) throw new ProtocolError('too many createStream');
        return this.respondCreateStream(transId);
      case 'publish':
      case 'play':
        return this.onStreamCommand(message.cmd, message);
      case 'deleteStream':
      case 'FCUnpublish':
      case 'closeStream':
        if (this.accepted) this.events.finished();
        return;
      default:
        // releaseStream, FCPublish, _checkbw, getStreamLength…: nothing to answer.
        return;
    }
  }

  override dataHandler(): void {
    const p = this.parserPacket;
    const type = p.header.type;
    if (type !== TYPE_AUDIO && type !== TYPE_VIDEO && type !== TYPE_DATA_AMF0) return;
    if (this.accepted !== 'publish') {
      this.droppedEarlyMedia += 1;
      return;
    }
    const slab = this.receiving.slabOf(p.header.cid);
    this.events.media({ type, timestamp: p.clock, payload: p.payload, headroom: true, slab });
  }

  private onConnectCommand(message: Record<string, unknown>, transId: number): void {
    if (this.app !== null) throw new ProtocolError('second connect');
    const cmdObj = message.cmdObj as Record<string, unknown> | null;
    if (!cmdObj || typeof cmdObj !== 'object') throw new ProtocolError('connect without an object');
    const app = typeof cmdObj.app === 'string' ? cmdObj.app.replace(/\/+$/, '') : '';
    if (!APP_NAME.test(app)) throw new ProtocolError('connect with an invalid app');
    if (cmdObj.tcUrl !== undefined && typeof cmdObj.tcUrl !== 'string') {
      throw new ProtocolError('connect with a tcUrl that is not a string');
    }
    this.app = app;
    const encoding = cmdObj.objectEncoding;
    this.objectEncoding = encoding === 3 ? 3 : 0;
    this.sendWindowACK(5_000_000);
    this.setPeerBandwidth(5_000_000, 2);
    this.setChunkSize(this.outChunkSize);
    this.respondConnect(transId);
  }

  private onStreamCommand(kind: 'publish' | 'play', message: Record<string, unknown>): void {
    if (this.app === null) throw new ProtocolError(`${kind} before connect`);
    if (this.requested) throw new ProtocolError(`second publish/play`);
    const raw = message.streamName;
    const name = typeof raw === 'string' ? raw.split('?')[0] : '';
    if (!STREAM_NAME.test(name ?? ''))
      throw new ProtocolError(`${kind} with an invalid stream name`);
    this.requested = true;
    this.streamId = this.parserPacket.header.stream_id;
    this.events.request(kind, this.app, name as string);
  }
}

/**
 * The client side (our pushes to destinations, our pulls from other ingest nodes): NMS's
 * RtmpClient with the same parser limits, validated commands, a server `close` that
 * really closes, and writes to a gone socket ignored instead of thrown from a timer.
 */
export class RtmpClientProtocol extends NmsRtmpClientBase {
  /** Media from the server (pulls only; a push ignores what a server sends). */
  onMedia: ((message: WireMedia) => void) | null = null;
  /** Set when the peer broke the protocol; the socket is destroyed right after. */
  failure: string | null = null;
  /** Acknowledgements the server sent (each reports what it has read so far). */
  acksReceived = 0;

  constructor(private readonly limits: ParserLimits) {
    const restore = skipUnusedFlvBuffer();
    super();
    restore();
    installNmsLogger();
    this.flv = null;
    const original = this.handleData;
    this.handleData = (data: Buffer) => {
      if (this.failure) return;
      try {
        original(data);
      } catch (err) {
        this.fail(protocolFailure(err));
      }
    };
  }

  /** Ends the connection for a protocol failure (the close callback reports it). */
  fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    const error = new Error(reason);
    this.onErrorCallback(error);
    this.rejectHandshake(error);
    this.rejectAllPending(error);
    this.socket?.destroy();
  }

  override write(buffer: Buffer): void {
    const s = this.socket;
    if (s && !s.destroyed && s.writable) s.write(buffer);
  }

  override packetParse(): void {
    super.packetParse();
    checkHeader(this.parserPacket, this.inPackets.size, this.limits);
  }

  /** Where the audio and video of a play are received (a pull's publication's slabs). */
  get payloads(): SlabWriter | null {
    return this.receiving.writer;
  }

  set payloads(writer: SlabWriter | null) {
    this.receiving.writer = writer;
  }

  private readonly receiving = new SlabReceiving();

  override packetAlloc(): void {
    this.receiving.alloc(this.parserPacket, true);
  }

  override packetHandler(): void {
    try {
      super.packetHandler();
    } finally {
      this.receiving.release(this.parserPacket.header.cid);
    }
  }

  override controlHandler(): void {
    const p = this.parserPacket;
    if (p.header.type === TYPE_SET_CHUNK_SIZE) this.inChunkSize = chunkSizeOf(p, this.limits);
    else if (p.header.type === TYPE_ACKNOWLEDGEMENT && p.header.length >= 4) {
      this.acksReceived += 1;
    } else if (p.header.type === TYPE_WINDOW_ACK_SIZE && p.header.length >= 4) {
      this.ackSize = p.payload.readUInt32BE(0);
    }
    if (this.ackSize > 0 && this.receivedBytes - this.lastAckBytes >= this.ackSize) {
      this.sendACK(this.receivedBytes >>> 0);
      this.lastAckBytes = this.receivedBytes;
    }
  }

  override eventHandler(): void {
    const p = this.parserPacket;
    if (p.header.length < 6) return;
    const eventType = p.payload.readUInt16BE(0);
    if (eventType !== 6 && eventType !== 7) return;
    // Ping (nginx-rtmp: 6, FMS: 7) → pong with the same timestamp.
    const pong = Buffer.alloc(18);
    pong[0] = 0x02;
    pong.writeUIntBE(6, 4, 3);
    pong[7] = 0x04;
    pong.writeUInt16BE(eventType === 6 ? 7 : 8, 12);
    p.payload.copy(pong, 14, 2, 6);
    this.write(pong);
  }

  override invokeHandler(): void {
    const message = decodeCommand(this.parserPacket);
    const transId = transIdOf(message);
    const info = (message.info && typeof message.info === 'object' ? message.info : {}) as {
      code?: unknown;
      description?: unknown;
    };
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : '');
    if (message.cmd === '_result' || message.cmd === '_error') {
      const pending = this.pendingCommands.get(transId);
      if (!pending) return;
      this.pendingCommands.delete(transId);
      if (message.cmd === '_error') {
        pending.reject(new Error(text(info.description) || 'RTMP command failed'));
      } else pending.resolve(message);
      return;
    }
    if (message.cmd === 'onStatus') {
      const code = text(info.code);
      const failed = /Failed|BadName|Rejected|Error|NotFound/.test(code);
      const entry = [...this.pendingCommands.entries()].find(
        ([, v]) =>
          (v.cmd === 'play' && code === 'NetStream.Play.Start') ||
          (v.cmd === 'publish' && code === 'NetStream.Publish.Start') ||
          ((v.cmd === 'play' || v.cmd === 'publish') && failed),
      );
      if (entry) {
        this.pendingCommands.delete(entry[0]);
        if (failed) entry[1].reject(new Error(text(info.description) || code));
        else entry[1].resolve(message);
      } else if (failed || code === 'NetStream.Play.UnpublishNotify') {
        // The server ended our stream after it started: end the connection.
        this.fail(`server status ${code || 'error'}`);
      }
      return;
    }
    if (message.cmd === 'close' || message.cmd === 'deleteStream') {
      this.fail('server closed the stream');
    }
  }

  override dataHandler(): void {
    const p = this.parserPacket;
    const type = p.header.type;
    if (!this.onMedia) return;
    if (type !== TYPE_AUDIO && type !== TYPE_VIDEO && type !== TYPE_DATA_AMF0) return;
    const slab = this.receiving.slabOf(p.header.cid);
    this.onMedia({ type, timestamp: p.clock, payload: p.payload, headroom: true, slab });
  }
}
