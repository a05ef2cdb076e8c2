/* eslint-disable @typescript-eslint/no-require-imports */
import type { LookupFunction, Socket } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';

/**
 * An RTMP/RTMPS publisher built on node-media-server's RTMP client protocol code
 * (handshake, chunk parser, AMF commands). It forwards the ingest's already-chunked RTMP
 * messages as they are: no demux, no remux, no copy of the media per destination — which
 * is what lets one Node process feed dozens of destinations for about what nginx-rtmp's
 * `push` costs.
 *
 * What this adds to NMS's client (read from its source, v4.4.3): RTMPS (TLS, verified),
 * a DNS lookup through our egress guard, Nagle off, the stream id the server gave us on
 * every media message, a tcUrl without the stream key, and a cap on what may be
 * buffered for a slow destination.
 */
const RtmpClient = require('node-media-server/src/protocol/rtmp_client.js');

export interface PushTarget {
  /** rtmp://host[:port]/app[/…]/streamKey or rtmps://… */
  url: string;
  lookup?: LookupFunction;
  connectTimeoutMs?: number;
}

export function parsePushUrl(raw: string): {
  secure: boolean;
  host: string;
  port: number;
  app: string;
  streamName: string;
  tcUrl: string;
} {
  const u = new URL(raw);
  const secure = u.protocol === 'rtmps:';
  if (!secure && u.protocol !== 'rtmp:') throw new Error(`unsupported scheme ${u.protocol}`);
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length < 2) throw new Error('push URL needs an app and a stream name');
  const streamName = (parts.pop() as string) + u.search;
  const app = parts.join('/');
  const port = u.port ? Number(u.port) : secure ? 443 : 1935;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const tcUrl = `${u.protocol}//${u.host}/${app}`;
  return { secure, host, port, app, streamName, tcUrl };
}

type Client = {
  socket: Socket | null;
  connected: boolean;
  baseUri: string;
  urlInfo: unknown;
  streamId: number;
  handshakeReject: ((e: Error) => void) | null;
  onHandshakeCallback: () => void;
  onCloseCallback: (hadError: boolean) => void;
  onErrorCallback: (e: Error) => void;
  handleData: (d: Buffer) => void;
  resetProtocolState(): void;
  sendClientHandshake(): void;
  stopHeartbeat(): void;
  startHeartbeat(ms?: number): void;
  rejectAllPending(e: Error): void;
  rejectHandshake(e: Error): void;
  sendConnect(): Promise<unknown>;
  sendCreateStream(): Promise<number>;
  sendPublish(name: string): Promise<unknown>;
  disconnect(): void;
};

/** Opens the connection (TCP or TLS) and publishes; resolves when the server said Publish.Start. */
export async function openPublisher(
  target: PushTarget,
  onClose: (error: Error | null) => void,
): Promise<{ socket: Socket; streamId: number; close(): void }> {
  const info = parsePushUrl(target.url);
  const client = new RtmpClient() as Client;
  client.onCloseCallback = () => onClose(lastError);
  let lastError: Error | null = null;
  client.onErrorCallback = (e: Error) => {
    lastError = e;
  };
  await new Promise<void>((resolve, reject) => {
    client.urlInfo = {
      host: info.host,
      port: info.port,
      app: info.app,
      streamName: info.streamName,
      query: {},
    };
    client.baseUri = info.tcUrl;
    client.resetProtocolState();
    client.handshakeReject = reject;
    const opts = { host: info.host, port: info.port, lookup: target.lookup };
    const socket: Socket = info.secure
      ? tls.connect({ ...opts, servername: net.isIP(info.host) ? undefined : info.host })
      : net.createConnection(opts);
    socket.setNoDelay(true);
    client.socket = socket;
    const timer = setTimeout(
      () => socket.destroy(new Error('connect timed out')),
      target.connectTimeoutMs ?? 10_000,
    );
    socket.once(info.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      client.connected = true;
      client.sendClientHandshake();
    });
    socket.on('data', client.handleData);
    socket.on('close', (hadError: boolean) => {
      clearTimeout(timer);
      client.connected = false;
      client.socket = null;
      client.stopHeartbeat();
      client.rejectAllPending(new Error('connection closed'));
      client.rejectHandshake(lastError ?? new Error('connection closed during handshake'));
      client.onCloseCallback(hadError);
    });
    socket.on('error', (e: Error) => {
      lastError = e;
      client.connected = false;
      client.rejectHandshake(e);
    });
    client.onHandshakeCallback = resolve;
  });
  await client.sendConnect();
  const streamId = await client.sendCreateStream();
  await client.sendPublish(info.streamName);
  client.startHeartbeat();
  const socket = client.socket;
  if (!socket) throw new Error('connection closed');
  return { socket, streamId, close: () => client.disconnect() };
}

/**
 * Writes one chunked RTMP message from the ingest, on the destination's message stream.
 * The ingest chunks every message with a type-0 header first (11 bytes after a 1-byte
 * basic header for our low chunk stream ids); only the 4-byte stream id differs per
 * destination, so only that header is copied.
 */
export function writeMessage(socket: Socket, message: Buffer, streamId: number): void {
  const fmt = (message[0] ?? 0) >> 6;
  const cid = (message[0] ?? 0) & 0x3f;
  if (streamId === 0 || fmt !== 0 || cid < 2 || message.length < 12) {
    socket.write(message);
    return;
  }
  const header = Buffer.from(message.subarray(0, 12));
  header.writeUInt32LE(streamId, 8);
  socket.cork();
  socket.write(header);
  socket.write(message.subarray(12));
  socket.uncork();
}
