import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export interface IngestInfo {
  videoCodec: string | null;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrateKbps: number | null;
}

/** One broadcast of a channel. */
@Entity({ name: 'sessions' })
@Index(['channelId', 'startedAt', 'id'])
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @Column({ type: 'text' })
  status: 'live' | 'ended';

  @Column({ name: 'started_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', precision: 3, nullable: true })
  endedAt: Date | null;

  @Column({ name: 'end_reason', type: 'text', nullable: true })
  endReason: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  ingest: Partial<IngestInfo>;

  /** Where relays pull the stream from: `rtmp://<ingest node>:<port>/<app>/<internal name>`. */
  @Column({ name: 'ingest_node', type: 'text' })
  ingestNode: string;

  /** Internal stream name on the ingest node (not the stream key). */
  @Column({ name: 'stream_name', type: 'text' })
  streamName: string;

  /** The ingest node last saw media at this time (a stalled publisher ends the session). */
  @Column({ name: 'last_media_at', type: 'timestamptz', precision: 3, nullable: true })
  lastMediaAt: Date | null;
}
