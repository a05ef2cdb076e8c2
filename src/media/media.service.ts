import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { publishFlv } from './flv-source';
import { HubSubscriber, MediaHub, StreamInfo } from './media-hub';
import { startPush, PushRun } from './rtmp-push';
import { RtmpPull } from './rtmp-pull';
import {
  DEFAULT_INGEST_LIMITS,
  IngestCounts,
  IngestHandlers,
  IngestLimits,
  RtmpIngestServer,
} from './rtmp-ingest-server';

/** Apps on our RTMP server: creators publish on `live`, relay workers read `internal`. */
export const PUBLISH_APP = 'live';
export const INTERNAL_APP = 'internal';

export interface MediaSubscription {
  close(): void;
}

export interface IngestListenOptions {
  host: string;
  port: number;
  tls?: { port: number; cert: Buffer; key: Buffer };
  limits?: Partial<IngestLimits>;
}

export interface PushTarget {
  url: string;
  lookup?: LookupFunction;
}

/**
 * The process's media part: its hub of live streams, the RTMP(S) ingest listener (in
 * the `ingest` role), pulls of streams held by other ingest nodes (shared by every
 * subscriber of this process), pushes to destinations and ffmpeg outputs fed back in.
 * It knows nothing of channels, sessions, relays or destinations.
 */
@Injectable()
export class MediaService implements OnApplicationShutdown {
  private readonly log = new Logger(MediaService.name);
  readonly hub = new MediaHub();
  private ingest: RtmpIngestServer | null = null;
  private readonly pulls = new Map<string, { pull: RtmpPull; refs: number }>();

  /** Starts the ingest listener(s); resolves with the bound ports. */
  async listen(
    options: IngestListenOptions,
    handlers: Omit<IngestHandlers, 'mayPlay'>,
  ): Promise<{ port: number; tlsPort: number | null }> {
    const server = new RtmpIngestServer(
      this.hub,
      {
        ...handlers,
        // Only relay reads of a live ingest stream; nobody plays `/live/<key>`.
        mayPlay: (app, name) => app === INTERNAL_APP && this.hub.producerOf(name) === 'ingest',
      },
      { ...DEFAULT_INGEST_LIMITS, ...options.limits },
    );
    this.ingest = server;
    const port = await server.listen(options.port, options.host);
    const tlsPort = options.tls
      ? await server.listenTls(options.tls.port, options.host, options.tls.cert, options.tls.key)
      : null;
    return { port, tlsPort };
  }

  async close(): Promise<void> {
    for (const p of this.pulls.values()) p.pull.close();
    this.pulls.clear();
    const server = this.ingest;
    this.ingest = null;
    await server?.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Disconnects an ingest connection now (its publish ends). */
  disconnect(connectionId: string): void {
    this.ingest?.disconnect(connectionId);
  }

  ingestCounts(): IngestCounts | null {
    return this.ingest?.counts() ?? null;
  }

  /** Bytes an ingest connection sent, and what its stream says of itself. */
  publisherStats(
    connectionId: string,
    streamName: string,
  ): (StreamInfo & { inBytes: number }) | null {
    const inBytes = this.ingest?.bytesIn(connectionId);
    const info = this.hub.info(streamName);
    if (inBytes === null || inBytes === undefined || !info) return null;
    return { ...info, inBytes };
  }

  /** True when this process holds the ingest publish of `name`. */
  hasLocal(name: string): boolean {
    return this.hub.producerOf(name) === 'ingest';
  }

  /**
   * Subscribes to stream `name` here. When it is held by another ingest node, `pullFrom`
   * (`rtmp://host:port`) is read once per process and shared by every subscriber here.
   */
  subscribe(name: string, pullFrom: string | null, subscriber: HubSubscriber): MediaSubscription {
    const release = !this.hub.has(name) && pullFrom ? this.retainPull(name, pullFrom) : null;
    const unsubscribe = this.hub.subscribe(name, subscriber);
    let closed = false;
    return {
      close: () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        release?.();
      },
    };
  }

  /** Pushes stream `name` to an RTMP/RTMPS destination from this process. */
  push(
    name: string,
    pullFrom: string | null,
    target: PushTarget,
    maxBufferedBytes: number,
  ): PushRun {
    const release = !this.hub.has(name) && pullFrom ? this.retainPull(name, pullFrom) : null;
    const run = startPush(this.hub, name, target, { maxBufferedBytes });
    void run.exited.then(() => release?.());
    return run;
  }

  /** Publishes an encoder's FLV output as stream `name` (for pushes to read). */
  publishFlv(name: string, input: Readable): { ended: Promise<string | null> } {
    const source = publishFlv(this.hub, name, input);
    if (!source) throw new Error('stream name in use');
    return { ended: source.ended };
  }

  private retainPull(name: string, origin: string): () => void {
    let entry = this.pulls.get(name);
    if (!entry) {
      const pull = new RtmpPull(this.hub, origin, INTERNAL_APP, name);
      entry = { pull, refs: 0 };
      this.pulls.set(name, entry);
      pull.start();
      this.log.debug(`pulling ${name.slice(0, 6)}… from ${origin}`);
    }
    entry.refs += 1;
    const held = entry;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held.refs -= 1;
      if (held.refs === 0 && this.pulls.get(name) === held) {
        this.pulls.delete(name);
        held.pull.close();
      }
    };
  }
}
