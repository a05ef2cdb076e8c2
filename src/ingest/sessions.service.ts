import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ChannelsService } from '../channels/channels.service';
import type { LiveSessions } from '../channels/live-sessions';
import { AppError } from '../common/errors';
import { decodeCursor, encodeCursor, isUuid, Page } from '../common/pagination';
import { OutboxService } from '../notifications/outbox.service';
import { RelayOrchestrator } from '../relay/relay-orchestrator.service';
import { PinsService } from '../shopping/pins.service';
import { RecordingsService } from '../recording/recordings.service';
import { Relay } from '../relay/relay.entity';
import { IngestInfo, Session } from './session.entity';
import { SessionDto } from './session.dto';

export type EndReason = 'publisher_left' | 'stopped' | 'stalled' | 'ingest_lost';

/** Sessions as partners see them, and the one way a session ends. */
@Injectable()
export class SessionsService implements LiveSessions {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
    private readonly relays: RelayOrchestrator,
    private readonly pins: PinsService,
    private readonly channels: ChannelsService,
    private readonly recordings: RecordingsService,
  ) {}

  async get(partnerId: string, id: string): Promise<Session> {
    const s = isUuid(id) ? await this.db.getRepository(Session).findOneBy({ id, partnerId }) : null;
    if (!s) throw AppError.notFound('session');
    return s;
  }

  async list(
    partnerId: string,
    channelId: string,
    limit = 50,
    cursor?: string,
  ): Promise<Page<Session>> {
    await this.channels.get(partnerId, channelId); // 404 `channel` unless it is this partner's
    const qb = this.db
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.partner_id = :partnerId AND s.channel_id = :channelId', { partnerId, channelId })
      .orderBy('s.started_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .take(limit + 1);
    if (cursor) {
      const c = decodeCursor(cursor);
      qb.andWhere('(s.started_at, s.id) < (:createdAt, :id)', c);
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      data: page,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ createdAt: last.startedAt, id: last.id })
          : null,
    };
  }

  /** POST /v1/sessions/:id/stop: the ingest node holding it disconnects the publisher. */
  async stop(partnerId: string, id: string): Promise<void> {
    const s = await this.get(partnerId, id);
    await this.end(s.id, 'stopped');
  }

  /**
   * Starts the session of the channel whose stream key this is: the row, the channel's
   * `currentSessionId` and `session.started`, in one transaction. null when the key is
   * unknown or the channel is live already (one live session per channel: a unique index).
   */
  async start(
    keyHash: Buffer,
    ingestNode: string,
    streamName: string,
  ): Promise<{ sessionId: string; channelId: string } | null> {
    const started = await this.db.transaction(async (m) => {
      const channel = await this.channels.lockByStreamKeyHash(m, keyHash);
      if (!channel) return null;
      const rows = (await m.query(
        `INSERT INTO sessions (partner_id, channel_id, status, ingest_node, stream_name, last_media_at)
         VALUES ($1, $2, 'live', $3, $4, now())
         ON CONFLICT (channel_id) WHERE status = 'live' DO NOTHING
         RETURNING id`,
        [channel.partnerId, channel.id, ingestNode, streamName],
      )) as Array<{ id: string }>;
      const session = rows[0];
      if (!session) return null; // already live: a second publisher is refused
      await this.channels.setCurrentSession(m, channel.id, session.id);
      await this.outbox.record(m, channel.partnerId, 'session.started', {
        sessionId: session.id,
        channelId: channel.id,
      });
      if (channel.recording) {
        await this.recordings.create(m, session.id, channel.partnerId, channel.id);
      }
      return { sessionId: session.id, channelId: channel.id, recorded: channel.recording };
    });
    if (!started) return null;
    // Recorded from its first key frame: the run is queued at once (the resumer repairs a
    // crash between the commit and this).
    if (started.recorded) await this.recordings.enqueue(started.sessionId);
    return { sessionId: started.sessionId, channelId: started.channelId };
  }

  /** What the publisher sends (codec, size, bitrate), and that it still sends. */
  async recordIngest(sessionId: string, info: IngestInfo): Promise<void> {
    await this.db.query(`UPDATE sessions SET ingest = $2, last_media_at = now() WHERE id = $1`, [
      sessionId,
      JSON.stringify(info),
    ]);
  }

  /** Status and channel stream key hash of these sessions (a rotated key shows as another hash). */
  async liveStates(
    sessionIds: string[],
  ): Promise<Map<string, { live: boolean; streamKeyHash: Buffer | null }>> {
    const rows = (await this.db.query(
      `SELECT s.id, s.status, c.stream_key_hash FROM sessions s
         LEFT JOIN channels c ON c.id = s.channel_id WHERE s.id = ANY($1::uuid[])`,
      [sessionIds],
    )) as Array<{ id: string; status: string; stream_key_hash: Buffer | null }>;
    return new Map(
      rows.map((r) => [r.id, { live: r.status === 'live', streamKeyHash: r.stream_key_hash }]),
    );
  }

  /**
   * Ends live sessions whose ingest node stopped reporting media for `silentMs` (a node
   * that crashed or was cut off), except those in `mine`.
   */
  async endOrphans(silentMs: number, mine: Set<string>): Promise<number> {
    const rows = (await this.db.query(
      `SELECT id FROM sessions WHERE status = 'live'
         AND coalesce(last_media_at, started_at) < now() - make_interval(secs => $1)`,
      [silentMs / 1000],
    )) as Array<{ id: string }>;
    let ended = 0;
    for (const r of rows) {
      if (!mine.has(r.id) && (await this.end(r.id, 'ingest_lost'))) ended += 1;
    }
    return ended;
  }

  /**
   * Ends a live session: its row, the channel, every relay `stopped`, and
   * `session.ended`, in one transaction. Idempotent.
   */
  async end(sessionId: string, reason: EndReason): Promise<boolean> {
    return this.db.transaction(async (m) => {
      const [rows] = (await m.query(
        `UPDATE sessions SET status = 'ended', ended_at = now(), end_reason = $2
          WHERE id = $1 AND status = 'live' RETURNING partner_id, channel_id`,
        [sessionId, reason],
      )) as [Array<{ partner_id: string; channel_id: string }>, number];
      const row = rows[0];
      if (!row) return false;
      await this.channels.clearCurrentSession(m, sessionId);
      await this.relays.stopSessionRelays(m, sessionId);
      await this.outbox.record(m, row.partner_id, 'session.ended', {
        sessionId,
        channelId: row.channel_id,
        reason,
      });
      return true;
    });
  }

  endSession(sessionId: string, reason: 'stopped'): Promise<boolean> {
    return this.end(sessionId, reason);
  }

  async toDtos(sessions: Session[]): Promise<SessionDto[]> {
    const ids = sessions.map((s) => s.id);
    const relays = ids.length
      ? await this.db.getRepository(Relay).find({
          where: { sessionId: In(ids) },
          order: { since: 'ASC' },
        })
      : [];
    const pins = await this.pins.of(ids);
    return sessions.map((s) => ({
      id: s.id,
      channelId: s.channelId,
      status: s.status,
      startedAt: s.startedAt.toISOString(),
      endedAt: s.endedAt ? s.endedAt.toISOString() : null,
      ingest: {
        videoCodec: s.ingest.videoCodec ?? null,
        audioCodec: s.ingest.audioCodec ?? null,
        width: s.ingest.width ?? null,
        height: s.ingest.height ?? null,
        fps: s.ingest.fps ?? null,
        bitrateKbps: s.ingest.bitrateKbps ?? null,
      },
      destinations: relays
        .filter((r) => r.sessionId === s.id)
        .map((r) => ({
          destinationId: r.destinationId,
          state: r.state,
          attempts: r.attempts,
          lastError: r.lastError,
          nextRetryAt: r.nextRetryAt ? r.nextRetryAt.toISOString() : null,
          since: r.since.toISOString(),
          bitrateKbps: r.bitrateKbps,
          bytesSent: Number(r.bytesSent),
          warnings: r.warnings.map(({ code, message }) => ({ code, message })),
        })),
      pins: pins.get(s.id) ?? [],
    }));
  }
}
