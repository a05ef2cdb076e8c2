import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { MediaHub, Publication, queuedIn, writeRtmpMessage } from './media-hub';
import { RtmpServerProtocol } from './rtmp-protocol';
import { ReadCoalescer } from './read-coalescer';
import { READ_BYTES, readIntoSharedBuffer } from './shared-read';

/** Limits on connections before they published or played an authorized stream. */
export interface IngestLimits {
  /** All connections at once (authorized ones included). */
  maxConnections: number;
  /** Unauthorized connections from one address at once. */
  maxPendingPerAddress: number;
  /** From TCP accept to the end of the RTMP handshake (and TLS's, for RTMPS). */
  handshakeTimeoutMs: number;
  /** From the end of the handshake to an authorized publish or play. */
  readyTimeoutMs: number;
  /** Bytes a connection may send before it is authorized. */
  maxBytesBeforeReady: number;
  /** What may queue for a reader (a relay worker playing a stream) before it is dropped. */
  maxQueuedBytes: number;
  /** A publisher's socket is read at most once per this window (see ReadCoalescer); 0: at once. */
  readWindowMs: number;
}

/** How often the deadlines of unauthenticated connections are checked (while any exist). */
export const INGEST_SWEEP_MS = 250;

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxConnections: 1000,
  maxPendingPerAddress: 10,
  handshakeTimeoutMs: 5000,
  readyTimeoutMs: 10_000,
  maxBytesBeforeReady: 64 * 1024,
  maxQueuedBytes: 16 * 1024 * 1024,
  readWindowMs: 50,
};

/** A publish as the ingest service sees it. */
export interface PublishAttempt {
  /** Connection id (opaque). */
  id: string;
  app: string;
  /** On `live`, the stream key. Never log it. */
  name: string;
  remoteAddress: string;
}

export interface IngestHandlers {
  /** The internal stream name to publish as, or null to refuse. Reading waits meanwhile. */
  authorizePublish(attempt: PublishAttempt): Promise<string | null>;
  /** The accepted stream is live in the hub. */
  published(connectionId: string): void;
  /** A publish accepted earlier ended (publisher left or was disconnected). */
  publishEnded(connectionId: string): void;
  /** May a reader play `/<app>/<name>`? (relay workers on other nodes read `/internal/<name>`) */
  mayPlay(app: string, name: string): boolean;
}

type Phase = 'handshake' | 'connected' | 'authorizing' | 'publishing' | 'playing' | 'closed';

interface Connection {
  id: string;
  socket: net.Socket;
  address: string;
  protocol: RtmpServerProtocol;
  phase: Phase;
  /** When the current phase times out (pending phases only). */
  deadline: number;
  bytesIn: number;
  publication: Publication | null;
  unsubscribe: (() => void) | null;
  /** Set once authorizePublish accepted: publishEnded is owed when it ends. */
  accepted: boolean;
  /**
   * Reads into the shared buffer, so its publish is read once per window (plain TCP;
   * TLS decrypts a record at a time, and is read as it comes).
   */
  batched: boolean;
}

export interface IngestCounts {
  connections: number;
  pending: number;
  publishing: number;
  playing: number;
}

/** IPv4-mapped IPv6 peers count as their IPv4 address. */
function addressOf(socket: net.Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * The RTMP(S) ingest: creators publish, relay workers of other nodes play. Every
 * connection is an untrusted peer until its publish or play was authorized: it is
 * counted (in all, and per address), timed out in the handshake and until it is
 * authorized, limited in what it may send and in message sizes (rtmp-protocol.ts), and
 * whatever it does ends that connection only. Media of a connection goes to the hub
 * only after its publish was accepted; a refused publisher is destroyed at once.
 */
export class RtmpIngestServer {
  private readonly log = new Logger('RtmpIngest');
  private readonly connections = new Map<string, Connection>();
  private readonly pendingByAddress = new Map<string, number>();
  private readonly servers: net.Server[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Refusals and protocol failures, logged individually up to a rate, then summed. */
  private logBudget = { windowStart: 0, lines: 0, suppressed: 0 };

  constructor(
    private readonly hub: MediaHub,
    private readonly handlers: IngestHandlers,
    private readonly limits: IngestLimits = DEFAULT_INGEST_LIMITS,
  ) {
    this.reads = new ReadCoalescer(limits.readWindowMs);
  }

  /** Publishers' reads, batched per window. */
  private readonly reads: ReadCoalescer;

  /** Listens for RTMP; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      if (!this.admit(addressOf(s))) return s.destroy();
      // Before its first read, which comes on a later turn of the loop.
      this.accept(s, addressOf(s), readIntoSharedBuffer(s));
    });
    return this.start(server, port, host);
  }

  /**
   * Listens for RTMPS with this certificate and key (PEM). TLS is layered on the accepted
   * TCP socket here (not tls.Server), so a connection is counted, capped and timed out
   * from its first byte, before TLS spends anything on it.
   */
  listenTls(port: number, host: string, cert: Buffer, key: Buffer): Promise<number> {
    const secureContext = tls.createSecureContext({ cert, key });
    const server = net.createServer((raw) => {
      raw.on('error', () => undefined);
      if (!this.admit(addressOf(raw))) return raw.destroy();
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
      this.accept(secure, addressOf(raw), false);
    });
    return this.start(server, port, host);
  }

  private async start(server: net.Server, port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A deep accept queue: under a flood, connections are refused or timed out by us, not
      // left waiting in the kernel (the kernel caps it at net.core.somaxconn).
      server.listen({ port, host, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error(`RTMP listener error: ${err.message}`));
    this.servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const closing = this.servers.map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    for (const c of [...this.connections.values()]) this.end(c, null);
    this.servers.length = 0;
    await Promise.all(closing);
  }

  counts(): IngestCounts {
    const out: IngestCounts = { connections: 0, pending: 0, publishing: 0, playing: 0 };
    for (const c of this.connections.values()) {
      out.connections += 1;
      if (c.phase === 'publishing') out.publishing += 1;
      else if (c.phase === 'playing') out.playing += 1;
      else out.pending += 1;
    }
    return out;
  }

  /** Ends a connection now (publisher stopped, key rotated, channel deleted). */
  disconnect(connectionId: string): void {
    const c = this.connections.get(connectionId);
    if (c) this.end(c, null);
  }

  /** Bytes received from a connection (publishers: media and all). */
  bytesIn(connectionId: string): number | null {
    return this.connections.get(connectionId)?.bytesIn ?? null;
  }

  /** Counts a new TCP connection against the caps; false when it must be refused. */
  private admit(address: string): boolean {
    if (this.connections.size >= this.limits.maxConnections) {
      this.note(address, 'refused: connection limit reached');
      return false;
    }
    if ((this.pendingByAddress.get(address) ?? 0) >= this.limits.maxPendingPerAddress) {
      this.note(address, 'refused: too many unauthenticated connections from this address');
      return false;
    }
    return true;
  }

  private accept(socket: net.Socket, address: string, batched: boolean): void {
    socket.on('error', () => undefined); // reported through 'close'
    const id = randomBytes(9).toString('base64url');
    const c: Connection = {
      id,
      socket,
      address,
      protocol: null as unknown as RtmpServerProtocol,
      phase: 'handshake',
      deadline: Date.now() + this.limits.handshakeTimeoutMs,
      bytesIn: 0,
      publication: null,
      unsubscribe: null,
      accepted: false,
      batched,
    };
    c.protocol = new RtmpServerProtocol({
      output: (buf) => {
        if (!socket.destroyed) socket.write(buf);
      },
      request: (kind, app, name) => this.onRequest(c, kind, app, name),
      finished: () => this.end(c, null),
      media: (m) => c.publication?.write(m),
    });
    this.connections.set(id, c);
    this.pendingByAddress.set(address, (this.pendingByAddress.get(address) ?? 0) + 1);
    this.ensureSweep();
    socket.on('data', (data: Buffer) => this.onData(c, data));
    socket.on('close', () => this.end(c, null));
    socket.on('end', () => this.end(c, null));
  }

  private onData(c: Connection, data: Buffer): void {
    if (c.phase === 'closed') return;
    c.bytesIn += data.length;
    const pending = c.phase === 'handshake' || c.phase === 'connected' || c.phase === 'authorizing';
    if (pending && c.bytesIn > this.limits.maxBytesBeforeReady) {
      return this.end(c, 'too much data before publish or play');
    }
    const error = c.protocol.feed(data);
    if (error) return this.end(c, error);
    // A full read may have left more waiting: read on until a read comes up short.
    if (c.batched && c.phase === 'publishing' && data.length < READ_BYTES) {
      this.reads.hold(c.socket);
    } else if (c.phase === 'handshake' && c.protocol.handshakeDone) {
      c.phase = 'connected';
      c.deadline = Date.now() + this.limits.readyTimeoutMs;
    }
  }

  private onRequest(c: Connection, kind: 'publish' | 'play', app: string, name: string): void {
    if (kind === 'play') {
      if (!this.handlers.mayPlay(app, name)) {
        c.protocol.refuse('play');
        return this.end(c, 'play of an unknown stream refused');
      }
      c.protocol.acceptPlay();
      this.markReady(c, 'playing');
      const streamId = c.protocol.messageStreamId;
      const socket = c.socket;
      c.unsubscribe = this.hub.subscribe(name, {
        deliver: (m) => {
          if (socket.writableLength > this.limits.maxQueuedBytes) {
            this.end(c, 'reader too slow');
            return;
          }
          writeRtmpMessage(socket, m, streamId);
        },
        busy: () => queuedIn(socket),
      });
      return;
    }
    // Nothing more is read from this peer until its key was checked.
    c.phase = 'authorizing';
    c.socket.pause();
    this.handlers
      .authorizePublish({ id: c.id, app, name, remoteAddress: c.address })
      .catch((err: Error) => {
        this.log.error(`publish authorization failed: ${err.message}`);
        return null;
      })
      .then((internalName) => this.onAuthorized(c, internalName));
  }

  private onAuthorized(c: Connection, internalName: string | null): void {
    if (internalName) c.accepted = true;
    if (c.phase === 'closed') {
      if (internalName) this.handlers.publishEnded(c.id);
      return;
    }
    const publication = internalName ? this.hub.publish(internalName, 'ingest') : null;
    if (!publication) {
      if (internalName) this.handlers.publishEnded(c.id);
      c.accepted = false;
      c.protocol.refuse('publish');
      return this.end(c, 'publish refused');
    }
    c.publication = publication;
    c.protocol.payloads = publication.payloads;
    c.protocol.acceptPublish();
    this.markReady(c, 'publishing');
    c.socket.resume();
    this.handlers.published(c.id);
  }

  private markReady(c: Connection, phase: 'publishing' | 'playing'): void {
    this.releasePending(c);
    c.phase = phase;
  }

  private releasePending(c: Connection): void {
    const n = (this.pendingByAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.pendingByAddress.set(c.address, n);
    else this.pendingByAddress.delete(c.address);
  }

  /** Ends a connection once: `reason` (a protocol failure or a timeout) is logged. */
  private end(c: Connection, reason: string | null): void {
    if (c.phase === 'closed') return;
    const wasPending = c.phase !== 'publishing' && c.phase !== 'playing';
    if (wasPending) this.releasePending(c);
    c.phase = 'closed';
    this.reads.forget(c.socket);
    this.connections.delete(c.id);
    if (reason) this.note(c.address, reason);
    c.unsubscribe?.();
    c.unsubscribe = null;
    c.protocol.payloads = null;
    c.publication?.end();
    c.publication = null;
    c.socket.destroy();
    if (c.accepted) {
      c.accepted = false;
      this.handlers.publishEnded(c.id);
    }
    if (this.connections.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /** One timer for every connection's deadline, running only while any exists. */
  private ensureSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections.values()) {
        if (c.phase === 'publishing' || c.phase === 'playing') continue;
        if (now < c.deadline) continue;
        this.end(
          c,
          c.phase === 'handshake' ? 'handshake timed out' : 'no authorized publish or play in time',
        );
      }
    }, INGEST_SWEEP_MS);
    this.sweepTimer.unref();
  }

  /** A log line naming the peer and the reason, never what it sent; rate-limited. */
  private note(address: string, reason: string): void {
    const now = Date.now();
    const b = this.logBudget;
    if (now - b.windowStart > 10_000) {
      if (b.suppressed > 0) {
        this.log.warn(`${b.suppressed} more RTMP connections refused or closed in the last 10 s`);
      }
      b.windowStart = now;
      b.lines = 0;
      b.suppressed = 0;
    }
    if (b.lines < 20) {
      b.lines += 1;
      this.log.warn(`RTMP peer ${address}: ${reason}`);
    } else b.suppressed += 1;
  }
}
