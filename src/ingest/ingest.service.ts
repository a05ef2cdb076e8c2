import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { PeriodicLoop } from '../common/periodic-loop';
import { hashSecret } from '../common/secrets';
import { MetricsService } from '../ops/metrics.service';
import { RelayOrchestrator } from '../relay/relay-orchestrator.service';
import { MediaService, PUBLISH_APP } from '../media/media.service';
import type { StreamInfo } from '../media/media-hub';
import type { PublishAttempt } from '../media/rtmp-ingest-server';
import { EndReason, SessionsService } from './sessions.service';
import type { IngestInfo } from './session.entity';

/** A publisher that stops sending for this long is disconnected and its session ends. */
export const STALL_MS = 10_000;
export const INGEST_WATCH_MS = 1000;
/** Sessions whose ingest node has not been heard of for this long are ended (node lost). */
const ORPHAN_MS = 30_000;
/** How often this node looks for sessions of lost nodes (a third of ORPHAN_MS). */
const ORPHAN_SWEEP_MS = 10_000;

interface LivePublish {
  sessionId: string;
  /** The stream's name in the media hub (`/internal/<name>` for other nodes). */
  streamName: string;
  channelId: string;
  keyHash: Buffer;
  lastBytes: number;
  lastBytesAt: number;
  lastInfoAt: number;
  bytesAtInfo: number;
}

const VIDEO_CODECS: Record<string, string> = {
  '7': 'h264',
  '12': 'hevc',
  avc1: 'h264',
  hvc1: 'hevc',
};
const AUDIO_CODECS: Record<string, string> = {
  '10': 'aac',
  '2': 'mp3',
  mp4a: 'aac',
  '11': 'speex',
};

/** Ingest info of API.md from what the publisher announced and what it sent. */
export function ingestInfo(stats: StreamInfo, kbps: number | null): IngestInfo {
  return {
    videoCodec: stats.videoCodec
      ? (VIDEO_CODECS[String(stats.videoCodec)] ?? String(stats.videoCodec))
      : null,
    audioCodec: stats.audioCodec
      ? (AUDIO_CODECS[String(stats.audioCodec)] ?? String(stats.audioCodec))
      : null,
    width: stats.width || null,
    height: stats.height || null,
    fps: stats.fps ? Math.round(stats.fps * 100) / 100 : null,
    bitrateKbps: kbps,
  };
}

/**
 * The `ingest` role: authorizes publishes against hashed stream keys, opens and ends
 * sessions, and disconnects publishers whose session was stopped, whose key was
 * rotated, whose channel was deleted, or who stopped sending.
 */
@Injectable()
export class IngestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(IngestService.name);
  private readonly live = new Map<string, LivePublish>();
  private readonly loop = new PeriodicLoop(
    'ingest watch',
    INGEST_WATCH_MS,
    () => this.watch(),
    this.log,
  );
  private nodeUrl = '';
  private lastOrphanSweepAt = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly media: MediaService,
    private readonly sessions: SessionsService,
    private readonly relays: RelayOrchestrator,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rtmp = this.config.rtmp;
    const { port, tlsPort } = await this.media.listen(
      {
        host: this.config.host,
        port: rtmp.port,
        tls: rtmp.tls
          ? {
              port: rtmp.tls.port,
              cert: readFileSync(rtmp.tls.certFile),
              key: readFileSync(rtmp.tls.keyFile),
            }
          : undefined,
        limits: {
          maxConnections: rtmp.maxConnections,
          maxPendingPerAddress: rtmp.maxConnectionsPerIp,
        },
      },
      {
        authorizePublish: (a) => this.authorize(a),
        published: (id) => void this.started(id),
        publishEnded: (id) => void this.ended(id, 'publisher_left'),
      },
    );
    rtmp.port = port;
    if (rtmp.tls && tlsPort !== null) rtmp.tls.port = tlsPort;
    this.nodeUrl = `rtmp://${rtmp.internalHost}:${port}`;
    this.log.log(
      `RTMP ingest listening on ${this.config.host}:${port}` +
        (tlsPort !== null ? `, RTMPS on ${this.config.host}:${tlsPort}` : ''),
    );
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    const ids = [...this.live.keys()];
    await this.media.close();
    for (const id of ids) await this.ended(id, 'publisher_left');
  }

  /** Returns the internal stream name relays read, or null to refuse the publish. */
  private async authorize(a: PublishAttempt): Promise<string | null> {
    if (a.app !== PUBLISH_APP) return null;
    const keyHash = hashSecret(a.name);
    const internalName = randomBytes(16).toString('hex');
    try {
      const opened = await this.sessions.start(keyHash, this.nodeUrl, internalName);
      if (!opened) {
        this.log.log(`publish refused from ${a.remoteAddress}`);
        return null;
      }
      const now = Date.now();
      this.live.set(a.id, {
        ...opened,
        streamName: internalName,
        keyHash,
        lastBytes: 0,
        lastBytesAt: now,
        lastInfoAt: 0,
        bytesAtInfo: 0,
      });
      this.metrics.ingestSessionStarted();
      this.log.log(`session ${opened.sessionId} started on channel ${opened.channelId}`);
      return internalName;
    } catch (err) {
      this.log.error(`publish authorization failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** Called once the adapter made the stream readable: start the relays. */
  private async started(publisherId: string): Promise<void> {
    const p = this.live.get(publisherId);
    if (!p) return;
    try {
      await this.relays.syncChannel(p.channelId);
    } catch (err) {
      this.log.error(`starting relays of ${p.sessionId}: ${(err as Error).message}`);
    }
  }

  private async ended(publisherId: string, reason: EndReason): Promise<void> {
    const p = this.live.get(publisherId);
    if (!p) return;
    this.live.delete(publisherId);
    this.metrics.ingestSessionEnded();
    try {
      await this.sessions.end(p.sessionId, reason);
      this.log.log(`session ${p.sessionId} ended (${reason})`);
    } catch (err) {
      // Postgres away: the orphan sweep of any ingest node ends it later.
      this.log.error(`ending session ${p.sessionId}: ${(err as Error).message}`);
    }
  }

  private async watch(): Promise<void> {
    const now = Date.now();
    for (const [id, p] of this.live) {
      const stats = this.media.publisherStats(id, p.streamName);
      if (!stats) continue;
      if (stats.inBytes > p.lastBytes) {
        p.lastBytes = stats.inBytes;
        p.lastBytesAt = now;
      } else if (now - p.lastBytesAt > STALL_MS) {
        this.media.disconnect(id);
        await this.ended(id, 'stalled');
        continue;
      }
      if (now - p.lastInfoAt >= 5000) {
        const kbps =
          p.lastInfoAt > 0
            ? Math.round(((stats.inBytes - p.bytesAtInfo) * 8) / (now - p.lastInfoAt))
            : null;
        p.lastInfoAt = now;
        p.bytesAtInfo = stats.inBytes;
        await this.sessions.recordIngest(p.sessionId, ingestInfo(stats, kbps));
      }
    }
    if (this.live.size > 0) await this.enforce();
    if (now - this.lastOrphanSweepAt >= ORPHAN_SWEEP_MS) {
      this.lastOrphanSweepAt = now;
      await this.sweepOrphans();
    }
  }

  /** Disconnects publishers whose session ended elsewhere, key rotated, channel deleted. */
  private async enforce(): Promise<void> {
    const byId = new Map([...this.live].map(([pid, p]) => [p.sessionId, { pid, p }]));
    const seen = await this.sessions.liveStates([...byId.keys()]);
    for (const [sessionId, { pid, p }] of byId) {
      const r = seen.get(sessionId);
      const keep = r && r.live && r.streamKeyHash?.equals(p.keyHash);
      if (keep) continue;
      this.media.disconnect(pid);
      await this.ended(pid, 'stopped');
    }
  }

  /** Ends live sessions of ingest nodes that stopped reporting (crashed, cut off). */
  private async sweepOrphans(): Promise<void> {
    const mine = new Set([...this.live.values()].map((p) => p.sessionId));
    await this.sessions.endOrphans(ORPHAN_MS, mine);
  }
}
