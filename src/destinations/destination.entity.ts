import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const DESTINATION_KINDS = ['social_platform', 'partner_shop', 'brand_site'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** A transcode profile; null means passthrough (stream copy). */
export interface TranscodeProfile {
  maxHeight?: number;
  fps?: number;
  videoBitrateKbps?: number;
  audioBitrateKbps?: number;
}

@Entity({ name: 'destinations' })
@Index(['channelId', 'createdAt'])
export class Destination {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  kind: DestinationKind;

  /** rtmp:// or rtmps:// push URL, without the stream key; null for brand_site. */
  @Column({ type: 'text', nullable: true })
  url: string | null;

  /** Key id of ENCRYPTION_KEYS that sealed the stream key. */
  @Column({ name: 'stream_key_key_id', type: 'text', nullable: true })
  streamKeyKeyId: string | null;

  /** The stream key sealed with AES-256-GCM (aad `destination:<id>`); never returned. */
  @Column({ name: 'stream_key_sealed', type: 'text', nullable: true })
  streamKeySealed: string | null;

  @Column({ name: 'stream_key_hint', type: 'text', nullable: true })
  streamKeyHint: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'jsonb', nullable: true })
  profile: TranscodeProfile | null;

  /** Bumped when url, key or profile change: a live relay on an older version restarts. */
  @Column({ name: 'config_version', type: 'int', default: 1 })
  configVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
