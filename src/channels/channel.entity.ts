import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

@Entity({ name: 'channels' })
@Index(['partnerId', 'createdAt', 'id'])
export class Channel {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'brand_id', type: 'uuid', nullable: true })
  brandId: string | null;

  /** SHA-256 of the ingest stream key; the key itself is shown once. */
  @Index({ unique: true })
  @Column({ name: 'stream_key_hash', type: 'bytea' })
  streamKeyHash: Buffer;

  /** Whether its sessions are recorded (API.md "Recordings and replays"). */
  @Column({ type: 'boolean', default: false })
  recording: boolean;

  /** The live session, when there is one (set by the ingest). */
  @Column({ name: 'current_session_id', type: 'uuid', nullable: true })
  currentSessionId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
