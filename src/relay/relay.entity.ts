import { Column, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { RelayWarning } from './preflight';

export const RELAY_STATES = ['starting', 'live', 'retrying', 'errored', 'stopped'] as const;
export type RelayState = (typeof RELAY_STATES)[number];

/** One destination within one session. */
@Entity({ name: 'relays' })
@Index(['sessionId', 'destinationId'], { unique: true })
export class Relay {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'partner_id', type: 'uuid' })
  partnerId: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  /** Plain id, no foreign key: the relay row outlives a deleted destination. */
  @Column({ name: 'destination_id', type: 'uuid' })
  destinationId: string;

  @Column({ type: 'text' })
  state: RelayState;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'next_retry_at', type: 'timestamptz', precision: 3, nullable: true })
  nextRetryAt: Date | null;

  /** When the relay entered its current state. */
  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  since: Date;

  /** Start of the current run of failures (errored after RELAY_GIVE_UP_MS without success). */
  @Column({ name: 'failing_since', type: 'timestamptz', precision: 3, nullable: true })
  failingSince: Date | null;

  @Column({ name: 'bitrate_kbps', type: 'int', nullable: true })
  bitrateKbps: number | null;

  @Column({ name: 'bytes_sent', type: 'bigint', default: 0 })
  bytesSent: string;

  /** What the pre-flight found wrong with what this destination receives (API.md Relay). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  warnings: RelayWarning[];

  /** Fencing token: bumped by each worker that takes the relay over; stale writers lose. */
  @Column({ type: 'int', default: 0 })
  generation: number;

  /** Which worker runs it (diagnostics). */
  @Column({ name: 'worker_id', type: 'text', nullable: true })
  workerId: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
