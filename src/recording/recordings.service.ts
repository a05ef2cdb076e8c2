import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { offsetInRecording, PinRange } from '../media/hls-playlist';
import { OutboxService } from '../notifications/outbox.service';
import { JobQueue } from '../queues/job-queue.service';
import { recordingJobId } from '../queues/queue-registry';
import { PinsService } from '../shopping/pins.service';
import { toRanges } from './pin-ranges';
import { MEDIA_STORAGE, MediaStorage } from '../storage/media-storage';
import type { PublishedFile } from '../relay/hls-publisher';
import { RecordingDto } from './recording.dto';

export type RecordingState = 'recording' | 'ready' | 'failed' | 'deleted';

export interface RecordingRow {
  sessionId: string;
  partnerId: string;
  state: RecordingState;
  durationSeconds: number;
  sizeBytes: number;
  workerId: string | null;
  createdAt: Date;
}

/** The storage folder of a session's recording. */
export const recordingPrefix = (sessionId: string) => `recordings/${sessionId}/`;

/** As many recordings deleted per retention run (the next run takes the rest). */
const PRUNE_BATCH = 100;

/**
 * Recordings (tables `recordings` and `recording_segments`): created with their session
 * when its channel records, each segment noted as it is stored (fenced by the run that
 * holds the recording), finished when the session ends, removed on DELETE or by
 * RECORDING_RETENTION.
 */
@Injectable()
export class RecordingsService {
  private readonly log = new Logger(RecordingsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    private readonly outbox: OutboxService,
    private readonly pins: PinsService,
    private readonly jobs: JobQueue,
  ) {}

  /** The session's recording starts with it (in the session's transaction). */
  async create(m: EntityManager, sessionId: string, partnerId: string, channelId: string) {
    await m.query(
      `INSERT INTO recordings (session_id, partner_id, channel_id) VALUES ($1, $2, $3)`,
      [sessionId, partnerId, channelId],
    );
  }

  /** Queues the recording's run (a no-op while one is queued or running). */
  async enqueue(sessionId: string): Promise<void> {
    try {
      await this.jobs.add('recording.run', { sessionId }, { jobId: recordingJobId(sessionId) });
    } catch (err) {
      this.log.warn(`recording ${sessionId} not enqueued yet: ${(err as Error).message}`);
    }
  }

  /** Re-enqueues every recording under way (the resumer: lost jobs, crashes before enqueue). */
  async resume(): Promise<number> {
    const rows = (await this.db.query(
      `SELECT session_id FROM recordings WHERE state = 'recording'`,
    )) as Array<{ session_id: string }>;
    for (const r of rows) await this.enqueue(r.session_id);
    return rows.length;
  }

  async row(sessionId: string): Promise<RecordingRow | null> {
    const [r] = (await this.db.query(
      `SELECT session_id, partner_id, state, duration_seconds, size_bytes, worker_id, created_at
         FROM recordings WHERE session_id = $1`,
      [sessionId],
    )) as Array<{
      session_id: string;
      partner_id: string;
      state: RecordingState;
      duration_seconds: number;
      size_bytes: string;
      worker_id: string | null;
      created_at: Date;
    }>;
    return r
      ? {
          sessionId: r.session_id,
          partnerId: r.partner_id,
          state: r.state,
          durationSeconds: r.duration_seconds,
          sizeBytes: Number(r.size_bytes),
          workerId: r.worker_id,
          createdAt: r.created_at,
        }
      : null;
  }

  /** Takes the recording for a run (a run of another worker loses its fence). */
  async claim(sessionId: string, runToken: string): Promise<boolean> {
    const [, n] = (await this.db.query(
      `UPDATE recordings SET worker_id = $2 WHERE session_id = $1 AND state = 'recording'`,
      [sessionId, runToken],
    )) as [unknown, number];
    return n > 0;
  }

  /** Segments stored so far, in order. */
  async segments(sessionId: string): Promise<PublishedFile[]> {
    const rows = (await this.db.query(
      `SELECT seq, uri, duration_seconds, started_at, bytes, discontinuity
         FROM recording_segments WHERE session_id = $1 ORDER BY seq`,
      [sessionId],
    )) as Array<{
      seq: number;
      uri: string;
      duration_seconds: number;
      started_at: Date;
      bytes: number;
      discontinuity: boolean;
    }>;
    return rows.map((r) => ({
      uri: r.uri,
      key: `${recordingPrefix(sessionId)}${r.uri}`,
      durationSeconds: r.duration_seconds,
      startedAt: r.started_at.getTime(),
      bytes: r.bytes,
      discontinuity: r.discontinuity,
    }));
  }

  /** A segment is in storage: noted, if the run still holds the recording (else throws). */
  async addSegment(
    sessionId: string,
    runToken: string,
    seq: number,
    s: PublishedFile,
  ): Promise<void> {
    await this.db.transaction(async (m) => {
      const [, n] = (await m.query(
        `UPDATE recordings SET duration_seconds = duration_seconds + $3,
                size_bytes = size_bytes + $4
          WHERE session_id = $1 AND worker_id = $2 AND state = 'recording'`,
        [sessionId, runToken, s.durationSeconds, s.bytes],
      )) as [unknown, number];
      if (n === 0) throw new Error('the recording is no longer held by this run');
      await m.query(
        `INSERT INTO recording_segments
           (session_id, seq, uri, duration_seconds, started_at, bytes, discontinuity)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [sessionId, seq, s.uri, s.durationSeconds, new Date(s.startedAt), s.bytes, s.discontinuity],
      );
    });
  }

  /** The session ended: ready (with `recording.ready`) when media was stored, else failed. */
  async finish(sessionId: string, runToken: string | null, error: string | null): Promise<void> {
    await this.db.transaction(async (m) => {
      const [rows] = (await m.query(
        `UPDATE recordings SET
            state = CASE WHEN EXISTS (SELECT 1 FROM recording_segments WHERE session_id = $1)
                         THEN 'ready' ELSE 'failed' END,
            ready_at = now(), worker_id = NULL,
            error = CASE WHEN EXISTS (SELECT 1 FROM recording_segments WHERE session_id = $1)
                         THEN NULL ELSE coalesce($3, 'no media was recorded') END
          WHERE session_id = $1 AND state = 'recording'
            AND ($2::text IS NULL OR worker_id = $2 OR worker_id IS NULL)
          RETURNING state, partner_id, duration_seconds`,
        [sessionId, runToken, error],
      )) as [
        Array<{ state: RecordingState; partner_id: string; duration_seconds: number }>,
        number,
      ];
      const r = rows[0];
      if (r?.state === 'ready') {
        await this.outbox.record(m, r.partner_id, 'recording.ready', {
          sessionId,
          durationSeconds: round3(r.duration_seconds),
        });
      }
    });
  }

  /** Pins of the session as the playlists carry them. */
  async pinRanges(sessionId: string): Promise<PinRange[]> {
    return toRanges(await this.pins.timeline(sessionId));
  }

  async get(partnerId: string, sessionId: string): Promise<RecordingDto> {
    const r = isUuid(sessionId) ? await this.row(sessionId) : null;
    if (!r || r.partnerId !== partnerId) throw AppError.notFound('recording');
    return this.toDto(r);
  }

  /** DELETE: the media goes; the row stays as `deleted` (what happened stays readable). */
  async remove(partnerId: string, sessionId: string): Promise<void> {
    const r = isUuid(sessionId) ? await this.row(sessionId) : null;
    if (!r || r.partnerId !== partnerId) throw AppError.notFound('recording');
    await this.delete(sessionId);
  }

  /** Deletes recordings created before RECORDING_RETENTION; how many. */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.config.recordingRetentionMs);
    const rows = (await this.db.query(
      `SELECT session_id FROM recordings
        WHERE state IN ('ready', 'failed') AND created_at < $1
        ORDER BY created_at LIMIT ${PRUNE_BATCH}`,
      [cutoff],
    )) as Array<{ session_id: string }>;
    for (const r of rows) await this.delete(r.session_id);
    return rows.length;
  }

  private async delete(sessionId: string): Promise<void> {
    // The row first: a run still recording loses its fence and stops writing; then the media.
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE recordings SET state = 'deleted', deleted_at = now(), worker_id = NULL,
                size_bytes = 0 WHERE session_id = $1`,
        [sessionId],
      );
      await m.query(`DELETE FROM recording_segments WHERE session_id = $1`, [sessionId]);
    });
    await this.storage.deletePrefix(recordingPrefix(sessionId));
  }

  async toDto(r: RecordingRow): Promise<RecordingDto> {
    const base = this.config.publicBaseUrl;
    const segments = await this.segments(r.sessionId);
    const pins = await this.pins.timeline(r.sessionId);
    return {
      sessionId: r.sessionId,
      state: r.state,
      durationSeconds: round3(r.durationSeconds),
      sizeBytes: r.sizeBytes,
      playback: {
        hlsUrl: `${base}/replay/${r.sessionId}/index.m3u8`,
        replayUrl: `${base}/replay/${r.sessionId}`,
      },
      pins: pins.map((p) => ({
        ...p,
        offsetSeconds: round3(offsetInRecording(segments, Date.parse(p.pinnedAt))),
      })),
      createdAt: r.createdAt.toISOString(),
    };
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
