import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Aspect, PresetId } from './destination-presets';

export const DESTINATION_KINDS = ['social_platform', 'partner_shop', 'brand_site'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

export const FITS = ['crop', 'pad', 'blur'] as const;
/**
 * How a picture goes into a frame of another aspect: `crop` fills it (the middle of the
 * picture), `pad` fits it with black bars, `blur` fits it over a blurred copy of itself
 * scaled to fill (as vertical platforms show landscape video).
 */
export type Fit = (typeof FITS)[number];

/** A transcode profile: each setting named overrides the destination's preset. */
export interface TranscodeProfile {
  maxHeight?: number;
  fps?: number;
  videoBitrateKbps?: number;
  audioBitrateKbps?: number;
  /** The output's aspect: `source` keeps the ingest's (even on a 9:16 preset). */
  aspect?: 'source' | Aspect;
  fit?: Fit;
  /** Audio only: the video is dropped. */
  audioOnly?: true;
}

/**
 * A destination's profile: null is passthrough (stream copy, the default); `auto`
 * transcodes only what the preset's constraints need, and passes through otherwise; an
 * object transcodes.
 */
export type DestinationProfile = TranscodeProfile | 'auto' | null;

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

  /** The platform whose constraints apply (`custom`: none). */
  @Column({ type: 'text', default: 'custom' })
  preset: PresetId;

  /** null (passthrough), the JSON string "auto", or a transcode profile object. */
  @Column({ type: 'jsonb', nullable: true })
  profile: DestinationProfile;

  /** Bumped when url, key or profile change: a live relay on an older version restarts. */
  @Column({ name: 'config_version', type: 'int', default: 1 })
  configVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
