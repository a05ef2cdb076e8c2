/* eslint-disable @typescript-eslint/no-require-imports */
import { Injectable, Logger } from '@nestjs/common';
import type { AddressInfo, Server, Socket } from 'node:net';
import { openPublisher, PushTarget, writeMessage } from './rtmp-push';

/**
 * The one file that knows node-media-server (v4.4.3, read from its source):
 * an RTMP server for creators, in-process subscriptions to a live stream (FLV bytes),
 * and pulls from another ingest node for relay workers elsewhere.
 *
 * Why its internals and not `new NodeMediaServer()`: that class also starts an HTTP
 * server, a JSON store and a logger that prints stream paths (which carry stream keys).
 * We construct only the RTMP server, replace its logger, and hold publishes until our own
 * (async) key check has answered.
 */
const Context = require('node-media-server/src/core/context.js');
const nmsLogger = require('node-media-server/src/core/logger.js');
const NodeRtmpServer = require('node-media-server/src/server/rtmp_server.js');
const BaseSession = require('node-media-server/src/session/base_session.js');
const BroadcastServer = require('node-media-server/src/server/broadcast_server.js');
const RtmpClientSession = require('node-media-server/src/session/rtmp_client_session.js');

/** Apps on our RTMP server: creators publish on `live`, relay workers read `internal`. */
export const PUBLISH_APP = 'live';
export const INTERNAL_APP = 'internal';

const STREAM_KEY_IN_PATH = /\/(live)\/[A-Za-z0-9_-]+/g;

/** NMS logs stream paths; those of `live` contain the stream key. */
export function redactStreamPaths(message: string): string {
  return message.replace(STREAM_KEY_IN_PATH, '/$1/****');
}

let installed = false;
function installContext(): void {
  if (installed) return;
  installed = true;
  Context.config = { ...(Context.config ?? {}), bind: '0.0.0.0' };
  const nest = new Logger('node-media-server');
  nmsLogger.log = (message: string, level = 'info') => {
    const text = redactStreamPaths(String(message));
    if (level === 'error') nest.warn(text);
    else if (level === 'warn') nest.log(text);
    else nest.debug(text);
  };
}

type PullSession = {
  broadcast: { broadcastMessage(p: unknown): void } | null;
  rtmpClient: { onPacketCallback: (p: Packet) => void };
  createClient: () => unknown;
  onPacket: (p: Packet) => void;
};
type Packet = { data: Buffer; size: number };

/**
 * node-media-server 4.4.3's pull registers its broadcast only after the `play` promise
 * resolves, but the origin sends metadata, sequence headers and the GOP right behind
 * Play.Start, in the same read: they were dropped, and readers got no decoder config.
 * Keep what arrives before registration (copied: the parser reuses its buffer) and
 * replay it first.
 */
function keepEarlyPackets(session: PullSession): void {
  const original = session.onPacket;
  let early: Packet[] = [];
  const onPacket = (packet: Packet) => {
    if (!session.broadcast) {
      if (early.length < 2000) {
        early.push({ ...packet, data: Buffer.from(packet.data.subarray(0, packet.size)) });
      }
      return;
    }
    if (early.length) {
      const queued = early;
      early = [];
      for (const p of queued) original(p);
    }
    original(packet);
  };
  session.onPacket = onPacket;
  session.rtmpClient.onPacketCallback = onPacket;
  // A reconnect builds a new client from `this.onPacket` (now ours): start clean.
  const createClient = session.createClient;
  session.createClient = () => {
    early = [];
    return createClient();
  };
}

/** A creator's publish, as the ingest service sees it. */
export interface PublishAttempt {
  /** NMS session id (opaque). */
  id: string;
  app: string;
  /** The stream name: on `live`, the stream key. Never log it. */
  name: string;
  remoteAddress: string;
}

export interface PublisherStats {
  inBytes: number;
  videoCodec: number;
  audioCodec: number;
  width: number;
  height: number;
  fps: number;
}

type NmsSession = {
  id: string;
  ip: string;
  isPublisher: boolean;
  protocol: string;
  streamApp: string;
  streamName: string;
  streamPath: string;
  inBytes: number;
  videoCodec: number;
  audioCodec: number;
  videoWidth: number;
  videoHeight: number;
  videoFramerate: number;
  socket?: Socket;
  broadcast?: { publishGraceMs: number; publisher: unknown };
};

export interface PushRun {
  /** Resolves when the push ended: an error text, or null when stopped by us. */
  exited: Promise<string | null>;
  stats(): { bytesWritten: number; mediaBytes: number };
  stop(): Promise<void>;
}

export interface MediaSubscription {
  close(): void;
}

export interface RtmpServerHandlers {
  /**
   * Resolve the internal name relays will read the stream as (`/internal/<name>`) to
   * accept, null to refuse. Called once per publish; media waits unread meanwhile.
   */
  authorizePublish(attempt: PublishAttempt): Promise<string | null>;
  /** The accepted stream is readable as `/internal/<name>`. */
  published(publisherId: string): void;
  /** A publish accepted earlier ended (publisher left or was disconnected). */
  publishEnded(sessionId: string): void;
}

@Injectable()
export class RtmpServerAdapter {
  private readonly log = new Logger(RtmpServerAdapter.name);
  private server: { tcpServer?: Server; run(): void; stop(): void } | null = null;
  private handlers: RtmpServerHandlers | null = null;
  /** Accepted publishers by NMS session id. */
  private readonly publishers = new Map<string, NmsSession>();
  /** Internal names aliased to a publisher's broadcast. */
  private readonly aliases = new Map<string, string>();
  /** Pulls from remote ingest nodes, refcounted by internal name. */
  private readonly pulls = new Map<string, { session: { close(): void }; refs: number }>();
  private readonly onPrePlay = (s: NmsSession) => this.checkPlay(s);
  private readonly onPostPublish = (s: NmsSession) =>
    process.nextTick(() => void this.checkPublish(s));
  private readonly onDonePublish = (s: NmsSession) => this.publishDone(s);

  constructor() {
    installContext();
  }

  /** Starts the RTMP listener; resolves with the bound port. */
  async listen(port: number, host: string, handlers: RtmpServerHandlers): Promise<number> {
    this.handlers = handlers;
    Context.config = { ...Context.config, bind: host, rtmp: { port: port || 1 } };
    const server = new NodeRtmpServer();
    const tcp: Server = server.tcpServer;
    Context.eventEmitter.on('prePlay', this.onPrePlay);
    Context.eventEmitter.on('postPublish', this.onPostPublish);
    Context.eventEmitter.on('donePublish', this.onDonePublish);
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    tcp.on('error', (err) => this.log.error(`RTMP listener error: ${err.message}`));
    this.server = server;
    return (tcp.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    Context.eventEmitter.off('prePlay', this.onPrePlay);
    Context.eventEmitter.off('postPublish', this.onPostPublish);
    Context.eventEmitter.off('donePublish', this.onDonePublish);
    for (const p of this.pulls.values()) p.session.close();
    this.pulls.clear();
    for (const id of [...this.publishers.keys()]) this.disconnect(id);
    const server = this.server;
    this.server = null;
    if (server?.tcpServer) {
      const tcp = server.tcpServer;
      await new Promise<void>((resolve) => {
        server.stop();
        tcp.once('close', () => resolve());
        setTimeout(resolve, 2000).unref();
      });
    }
  }

  /** Makes an accepted publish readable by relay workers as `/internal/<name>`. */
  alias(publisherId: string, internalName: string): void {
    const s = this.publishers.get(publisherId);
    if (!s?.broadcast) return;
    Context.broadcasts.set(`/${INTERNAL_APP}/${internalName}`, s.broadcast);
    this.aliases.set(internalName, publisherId);
  }

  /** Disconnects a publisher now (no resume window). */
  disconnect(publisherId: string): void {
    const s = this.publishers.get(publisherId);
    if (!s) return;
    if (s.broadcast) s.broadcast.publishGraceMs = 0;
    s.socket?.destroy();
  }

  stats(publisherId: string): PublisherStats | null {
    const s = this.publishers.get(publisherId);
    if (!s) return null;
    return {
      inBytes: s.inBytes,
      videoCodec: Number(s.videoCodec) || 0,
      audioCodec: Number(s.audioCodec) || 0,
      width: Number(s.videoWidth) || 0,
      height: Number(s.videoHeight) || 0,
      fps: Number(s.videoFramerate) || 0,
    };
  }

  /** True when this process holds a live publish readable as `/internal/<name>`. */
  hasLocal(internalName: string): boolean {
    return this.aliases.has(internalName);
  }

  /**
   * Subscribes to `/internal/<name>` in this process: FLV bytes (header, metadata,
   * sequence headers, the current GOP, then live tags). When the stream is held by
   * another ingest node, `pullFrom` (`rtmp://host:port`) is read once per process and
   * shared by every subscriber here.
   */
  subscribe(
    internalName: string,
    pullFrom: string | null,
    onData: (chunk: Buffer) => void,
    protocol: 'flv' | 'rtmp' = 'flv',
  ): MediaSubscription {
    const path = `/${INTERNAL_APP}/${internalName}`;
    let releasePull: (() => void) | null = null;
    if (!this.aliases.has(internalName) && pullFrom) {
      releasePull = this.retainPull(internalName, pullFrom);
    }
    this.log.debug(
      `subscribe ${internalName.slice(0, 6)}…: ${releasePull ? `pull from ${pullFrom}` : 'local'}`,
    );
    let broadcast = Context.broadcasts.get(path);
    if (!broadcast) {
      broadcast = new BroadcastServer(path);
      Context.broadcasts.set(path, broadcast);
    }
    const sub = new BaseSession();
    sub.protocol = protocol;
    sub.ip = '';
    sub.streamPath = path;
    sub.sendBuffer = (buf: Buffer) => onData(buf);
    broadcast.postPlay(sub);
    let closed = false;
    return {
      close: () => {
        if (closed) return;
        closed = true;
        broadcast.donePlay(sub);
        releasePull?.();
      },
    };
  }

  /**
   * Publishes `/internal/<name>` to an RTMP/RTMPS destination from this process: the
   * ingest's RTMP messages are forwarded as they are (see rtmp-push.ts).
   */
  push(
    internalName: string,
    pullFrom: string | null,
    target: PushTarget,
    maxBufferedBytes: number,
  ): PushRun {
    let stopped = false;
    let mediaBytes = 0;
    let socket: Socket | null = null;
    let closeConn: (() => void) | null = null;
    let sub: MediaSubscription | null = null;
    let settle: (error: string | null) => void = () => undefined;
    const exited = new Promise<string | null>((resolve) => {
      let done = false;
      settle = (error) => {
        if (done) return;
        done = true;
        sub?.close();
        closeConn?.();
        resolve(error);
      };
    });
    openPublisher(target, (err) =>
      settle(stopped ? null : (err?.message ?? 'destination closed the connection')),
    ).then(
      (conn) => {
        socket = conn.socket;
        closeConn = conn.close;
        if (stopped) return settle(null);
        sub = this.subscribe(
          internalName,
          pullFrom,
          (buf) => {
            if (conn.socket.writableLength > maxBufferedBytes) {
              settle('destination too slow: output buffer overflow');
              return;
            }
            writeMessage(conn.socket, buf, conn.streamId);
            mediaBytes += buf.length;
          },
          'rtmp',
        );
      },
      (err: Error) => settle(stopped ? null : err.message || 'connection failed'),
    );
    return {
      exited,
      stats: () => ({ bytesWritten: socket?.bytesWritten ?? 0, mediaBytes }),
      stop: async () => {
        stopped = true;
        settle(null);
        await exited;
      },
    };
  }

  private retainPull(internalName: string, origin: string): () => void {
    let pull = this.pulls.get(internalName);
    if (!pull) {
      const session = new RtmpClientSession({
        url: `${origin.replace(/\/+$/, '')}/${INTERNAL_APP}/${internalName}`,
        mode: 'pull',
        streamPath: `/${INTERNAL_APP}/${internalName}`,
        reconnect: true,
        reconnectInterval: 500,
      });
      keepEarlyPackets(session);
      void session.run();
      pull = { session, refs: 0 };
      this.pulls.set(internalName, pull);
    }
    pull.refs += 1;
    const held = pull;
    return () => {
      held.refs -= 1;
      if (held.refs === 0 && this.pulls.get(internalName) === held) {
        this.pulls.delete(internalName);
        held.session.close();
      }
    };
  }

  /** Only relay reads of `/internal/<live stream>` are allowed; nobody plays `/live/<key>`. */
  private checkPlay(s: NmsSession): void {
    const ok = s.streamApp === INTERNAL_APP && this.aliases.has(s.streamName);
    if (!ok) process.nextTick(() => s.socket?.destroy());
  }

  private async checkPublish(s: NmsSession): Promise<void> {
    if (!s.isPublisher || !s.socket) return;
    let name: string | null = null;
    if (s.streamApp === PUBLISH_APP && this.handlers) {
      try {
        name = await this.handlers.authorizePublish({
          id: s.id,
          app: s.streamApp,
          name: s.streamName,
          remoteAddress: s.ip,
        });
      } catch (err) {
        this.log.error(
          `publish authorization failed: ${redactStreamPaths((err as Error).message)}`,
        );
      }
    }
    if (s.broadcast) s.broadcast.publishGraceMs = 0;
    if (s.socket.destroyed) {
      if (name) this.handlers?.publishEnded(s.id);
      return;
    }
    if (!name) {
      s.socket.destroy();
      return;
    }
    this.publishers.set(s.id, s);
    this.alias(s.id, name);
    this.handlers?.published(s.id);
  }

  private publishDone(s: NmsSession): void {
    if (!this.publishers.delete(s.id)) return;
    for (const [name, id] of this.aliases) {
      if (id !== s.id) continue;
      this.aliases.delete(name);
      const path = `/${INTERNAL_APP}/${name}`;
      const b = Context.broadcasts.get(path);
      if (b === s.broadcast) Context.broadcasts.delete(path);
      // Subscribers of the alias stay attached to the old broadcast object; they see no
      // more data and their relays stop when the session ends.
    }
    this.handlers?.publishEnded(s.id);
  }
}
