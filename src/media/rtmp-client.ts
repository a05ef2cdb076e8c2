import type { LookupFunction, Socket } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { OUT_CHUNK_SIZE } from './media-hub';
import { ParserLimits, RtmpClientProtocol } from './rtmp-protocol';
import { sharedOnread } from './shared-read';

/**
 * An outgoing RTMP/RTMPS connection (pushes to destinations, pulls from other ingest
 * nodes) on NMS's client protocol code: TLS verified, the DNS answer checked by the
 * caller's lookup (the egress guard), and every step timed: TCP/TLS connect, the RTMP
 * handshake, each command. A server that stalls or sends garbage ends this connection.
 */

export interface RtmpEndpoint {
  /** rtmp://host[:port]/app[/…]/streamName or rtmps://… */
  url: string;
  lookup?: LookupFunction;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  commandTimeoutMs?: number;
}

export const DEFAULT_TIMEOUTS = { connect: 10_000, handshake: 5000, command: 10_000 };

export function parseRtmpUrl(raw: string): {
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

export interface RtmpConnection {
  client: RtmpClientProtocol;
  socket: Socket;
  streamName: string;
  /** Resolves once the connection closed, with why (null: closed by us). */
  closed: Promise<string | null>;
  /** Runs an RTMP command step, failing the connection when it takes too long. */
  step<T>(what: string, run: () => Promise<T>): Promise<T>;
  close(): void;
}

/**
 * Connects and completes the RTMP handshake. Rejects (and leaves nothing open) on any
 * failure; `close()` may be called at any moment, before or after it resolves.
 */
export function connectRtmp(
  endpoint: RtmpEndpoint,
  limits: ParserLimits,
): { connection: Promise<RtmpConnection>; cancel(): void } {
  const info = parseRtmpUrl(endpoint.url);
  const client = new RtmpClientProtocol(limits);
  const commandMs = endpoint.commandTimeoutMs ?? DEFAULT_TIMEOUTS.command;
  let byUs = false;
  let lastError: string | null = null;
  let settleClosed: (reason: string | null) => void = () => undefined;
  const closed = new Promise<string | null>((r) => (settleClosed = r));

  const opts = { host: info.host, port: info.port, lookup: endpoint.lookup };
  // Plain sockets read into the shared buffer (the parser copies what it keeps); TLS
  // decrypts into buffers of its own.
  const socket: Socket = info.secure
    ? tls.connect({ ...opts, servername: net.isIP(info.host) ? undefined : info.host })
    : net.createConnection({ ...opts, onread: sharedOnread((d) => client.handleData(d)) });
  socket.setNoDelay(true);
  client.socket = socket;
  client.urlInfo = {
    host: info.host,
    port: info.port,
    app: info.app,
    streamName: info.streamName,
    query: {},
  };
  client.baseUri = info.tcUrl;
  client.resetProtocolState();
  client.outChunkSize = OUT_CHUNK_SIZE;
  client.onErrorCallback = (e: Error) => {
    lastError ??= e.message;
  };

  const close = () => {
    byUs = true;
    client.stopHeartbeat();
    socket.destroy();
  };

  let timer: NodeJS.Timeout | null = setTimeout(
    () => client.fail('connect timed out'),
    endpoint.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connect,
  );
  const clear = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const connection = new Promise<RtmpConnection>((resolve, reject) => {
    client.handshakeReject = reject;
    client.onHandshakeCallback = () => {
      clear();
      resolve({
        client,
        socket,
        streamName: info.streamName,
        closed,
        close,
        step: (what, run) => {
          let t: NodeJS.Timeout | null = null;
          const timeout = new Promise<never>((_, rej) => {
            t = setTimeout(() => {
              client.fail(`${what} timed out`);
              rej(new Error(`${what} timed out`));
            }, commandMs);
          });
          return Promise.race([run(), timeout]).finally(() => {
            if (t) clearTimeout(t);
          });
        },
      });
    };
    socket.once(info.secure ? 'secureConnect' : 'connect', () => {
      clear();
      timer = setTimeout(
        () => client.fail('RTMP handshake timed out'),
        endpoint.handshakeTimeoutMs ?? DEFAULT_TIMEOUTS.handshake,
      );
      client.connected = true;
      client.sendClientHandshake();
    });
    if (info.secure) socket.on('data', client.handleData);
    socket.on('error', (e: Error) => {
      lastError ??= e.message;
      client.connected = false;
      client.rejectHandshake(e);
    });
    socket.on('close', () => {
      clear();
      client.connected = false;
      client.socket = null;
      client.stopHeartbeat();
      const reason = byUs ? null : (client.failure ?? lastError ?? 'connection closed');
      const err = new Error(reason ?? 'closed');
      client.rejectAllPending(err);
      client.rejectHandshake(err);
      settleClosed(reason);
    });
  });
  // A cancelled or failed connect must not leave an unhandled rejection behind.
  connection.catch(() => undefined);
  return { connection, cancel: close };
}
