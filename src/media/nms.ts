/* eslint-disable @typescript-eslint/no-require-imports */
import { Logger } from '@nestjs/common';

/**
 * The one file that loads node-media-server (4.4.3, read from its source). Castbridge
 * uses its protocol code only: the RTMP handshake, chunk parser and command responses
 * (`Rtmp`, `RtmpClient`), the AMF0 codec and FLV tag parsing. Its servers, sessions and
 * broadcast hub are not used (see media-hub.ts and rtmp-ingest-server.ts for why), and
 * the places where its protocol code trusts its peer are overridden in rtmp-protocol.ts.
 *
 * Types below describe the members Castbridge touches; they are not the library's own.
 */

/** One parsed RTMP message as NMS holds it while parsing (`parserPacket`). */
export interface NmsRtmpPacket {
  header: {
    fmt: number;
    cid: number;
    timestamp: number;
    length: number;
    type: number;
    stream_id: number;
  };
  clock: number;
  payload: Buffer;
  capacity: number;
  bytes: number;
}

/** The members of NMS's `Rtmp` (server side protocol) Castbridge uses or overrides. */
export interface NmsRtmp {
  handshakeState: number;
  parserState: number;
  parserPacket: NmsRtmpPacket;
  inPackets: Map<number, NmsRtmpPacket>;
  inChunkSize: number;
  outChunkSize: number;
  streams: number;
  streamId: number;
  objectEncoding: number;
  flv: unknown;
  onOutputCallback: (buffer: Buffer) => void;
  parserData(buffer: Buffer): string | null;
  chunkRead(data: Buffer, p: number, bytes: number): string | null;
  packetParse(): void;
  packetAlloc(): void;
  packetHandler(): void;
  controlHandler(): void;
  invokeHandler(): void;
  dataHandler(): void;
  eventHandler(): void;
  sendWindowACK(size: number): void;
  setPeerBandwidth(size: number, type: number): void;
  setChunkSize(size: number): void;
  sendACK(size: number): void;
  sendStreamStatus(st: number, id: number): void;
  sendStatusMessage(sid: number, level: string, code: string, description: string): void;
  sendInvokeMessage(sid: number, opt: Record<string, unknown>): void;
  sendDataMessage(opt: Record<string, unknown>, sid: number): void;
  respondConnect(tid: number): void;
  respondCreateStream(tid: number): void;
  respondPlay(): void;
}

/** The members of NMS's `RtmpClient` Castbridge uses or overrides. */
export interface NmsRtmpClient extends NmsRtmp {
  socket: import('node:net').Socket | null;
  connected: boolean;
  baseUri: string;
  urlInfo: { host: string; port: number; app: string; streamName: string; query: object } | null;
  receivedBytes: number;
  lastAckBytes: number;
  ackSize: number;
  handshakeReject: ((e: Error) => void) | null;
  pendingCommands: Map<
    number,
    { cmd: string; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >;
  onHandshakeCallback: () => void;
  onCloseCallback: (hadError: boolean) => void;
  onErrorCallback: (e: Error) => void;
  onStatusCallback: (code: string, info: object) => void;
  handleData: (d: Buffer) => void;
  resetProtocolState(): void;
  sendClientHandshake(): void;
  stopHeartbeat(): void;
  startHeartbeat(ms?: number): void;
  rejectAllPending(e: Error): void;
  rejectHandshake(e: Error): void;
  sendConnect(): Promise<unknown>;
  sendCreateStream(): Promise<number>;
  sendPlay(name: string): Promise<unknown>;
  sendPublish(name: string): Promise<unknown>;
  write(buffer: Buffer): void;
  disconnect(): void;
}

/** An FLV/RTMP media packet as NMS's `Flv.parserTag` returns it; `data` is the parser's buffer. */
export interface NmsAvPacket {
  codec_id: number;
  codec_type: number;
  flags: number;
  pts: number;
  dts: number;
  size: number;
  data: Buffer;
}

export interface NmsFlvParser {
  onPacketCallback: (p: NmsAvPacket) => void;
  parserData(buffer: Buffer): string | null;
}

type Ctor<T> = new () => T;

export const NmsRtmpBase = require('node-media-server/src/protocol/rtmp.js') as Ctor<NmsRtmp>;
export const NmsRtmpClientBase =
  require('node-media-server/src/protocol/rtmp_client.js') as Ctor<NmsRtmpClient>;

const FlvClass = require('node-media-server/src/protocol/flv.js') as Ctor<NmsFlvParser> & {
  parserTag(type: number, time: number, size: number, data: Buffer): NmsAvPacket;
};
export const NmsFlvParserClass: Ctor<NmsFlvParser> = FlvClass;
export const parseFlvTag = (type: number, time: number, size: number, data: Buffer): NmsAvPacket =>
  FlvClass.parserTag(type, time, size, data);

export const amf = require('node-media-server/src/protocol/amf.js') as {
  decodeAmf0Cmd(buf: Buffer): Record<string, unknown>;
  encodeAmf0Cmd(opt: Record<string, unknown>): Buffer;
  decodeAmf0Data(buf: Buffer): Record<string, unknown>;
  encodeAmf0Data(opt: Record<string, unknown>): Buffer;
  amf0DecodeOne(buf: Buffer): { len: number; value: unknown } | null;
};

/** The FLV parser NMS's `Rtmp` constructor allocates (zero-filled) and never uses here. */
const UNUSED_FLV_PARSER_BYTES = 1024 * 1024;

/**
 * Until the returned function is called, Buffer.alloc skips the 1 MB zero-filled FLV
 * parser buffer NMS's `Rtmp`/`RtmpClient` constructor makes and never uses here: under a
 * connection flood, filling it was a quarter of the process's CPU (measured with
 * bench/hostile.ts and --cpu-prof), and 1 MB of external memory per unauthenticated
 * connection. Call it right before `super()` and restore right after (synchronous).
 */
export function skipUnusedFlvBuffer(): () => void {
  const alloc = Buffer.alloc;
  Buffer.alloc = ((size: number, fill?: string | number | Uint8Array, encoding?: BufferEncoding) =>
    size === UNUSED_FLV_PARSER_BYTES && fill === undefined
      ? Buffer.allocUnsafe(0)
      : alloc(size, fill, encoding)) as typeof Buffer.alloc;
  return () => {
    Buffer.alloc = alloc;
  };
}

const STREAM_KEY_IN_PATH = /\/(live)\/[A-Za-z0-9_-]+/g;

/** NMS logs stream paths; those of `live` contain the stream key. */
export function redactStreamPaths(message: string): string {
  return message.replace(STREAM_KEY_IN_PATH, '/$1/****');
}

let loggerInstalled = false;
/**
 * NMS logs through one module-level logger: route it into Nest's, redacted, at debug
 * (its messages are about single connections and may be provoked by any peer).
 */
export function installNmsLogger(): void {
  if (loggerInstalled) return;
  loggerInstalled = true;
  const nmsLogger = require('node-media-server/src/core/logger.js') as {
    log: (message: string, level?: string) => void;
  };
  const nest = new Logger('node-media-server');
  nmsLogger.log = (message: string) => nest.debug(redactStreamPaths(String(message)).slice(0, 300));
}
