import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Destination } from '../destinations/destination.entity';
import { OutboxService } from '../notifications/outbox.service';
import { Relay, RelayState } from './relay.entity';
import type { RelayWarning } from './preflight';
import {
  ACTIVE_STATES,
  RelayFence,
  RelayPatch,
  setRelayWarnings,
  transitionRelay,
} from './relay-states';

/** What a relay run needs of its session (read here; the session lifecycle owns the row). */
export interface RelaySession {
  id: string;
  status: 'live' | 'ended';
  /** Internal name of the live stream (`/internal/<name>` on its ingest node). */
  streamName: string;
  /** The ingest node holding it (`rtmp://host:port`). */
  ingestNode: string;
}

export interface RelaySnapshot {
  relay: Relay;
  session: RelaySession | null;
  /** null when the destination was deleted. */
  destination: Destination | null;
}

/**
 * The relay rows as a run reads and writes them: the claim that takes a relay for one
 * run (its run token fences every later write), a snapshot of the relay with its session
 * and destination, and fenced state changes (each with its outbox event).
 */
@Injectable()
export class RelayStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  /** Takes the relay for this run; the bytes it had sent before, or null when not ours. */
  async claim(relayId: string, fence: RelayFence): Promise<{ bytesSent: number } | null> {
    const rows = (await this.db.query(
      `UPDATE relays SET worker_id = $3, updated_at = now()
        WHERE id = $1 AND generation = $2 AND state = ANY($4::text[])
        RETURNING bytes_sent`,
      [relayId, fence.generation, fence.runToken, ACTIVE_STATES],
    )) as [Array<{ bytes_sent: string }>, number];
    const row = rows[0]?.[0];
    return row ? { bytesSent: Number(row.bytes_sent) || 0 } : null;
  }

  current(relayId: string): Promise<Relay | null> {
    return this.db.getRepository(Relay).findOneBy({ id: relayId });
  }

  async snapshot(relayId: string): Promise<RelaySnapshot | null> {
    const relay = await this.current(relayId);
    if (!relay) return null;
    const [sessions, destination] = await Promise.all([
      this.db.query(`SELECT id, status, stream_name, ingest_node FROM sessions WHERE id = $1`, [
        relay.sessionId,
      ]) as Promise<
        Array<{ id: string; status: 'live' | 'ended'; stream_name: string; ingest_node: string }>
      >,
      this.db.getRepository(Destination).findOneBy({ id: relay.destinationId }),
    ]);
    const s = sessions[0];
    return {
      relay,
      session: s
        ? { id: s.id, status: s.status, streamName: s.stream_name, ingestNode: s.ingest_node }
        : null,
      destination,
    };
  }

  /** Moves the relay to `to` if this run still holds it; null when it lost it. */
  write(
    relayId: string,
    fence: RelayFence,
    to: RelayState,
    patch: RelayPatch,
  ): Promise<Relay | null> {
    return this.db.transaction((m) => transitionRelay(m, this.outbox, relayId, to, patch, fence));
  }

  /** Stores the relay's warnings (and their event) if this run still holds it; null when lost. */
  writeWarnings(
    relayId: string,
    fence: RelayFence,
    warnings: RelayWarning[],
  ): Promise<boolean | null> {
    return this.db.transaction((m) => setRelayWarnings(m, this.outbox, relayId, warnings, fence));
  }
}
