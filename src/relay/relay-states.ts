import type { EntityManager } from 'typeorm';
import type { OutboxService } from '../notifications/outbox.service';
import { sameWarnings, type RelayWarning } from './preflight';
import { Relay, RelayState } from './relay.entity';

export const ACTIVE_STATES: readonly RelayState[] = ['starting', 'live', 'retrying'];

/** Who may write a relay row: the orchestrator (no fence) or the run that holds it. */
export interface RelayFence {
  generation: number;
  runToken: string;
}

export type RelayPatch = Partial<
  Pick<
    Relay,
    | 'attempts'
    | 'lastError'
    | 'nextRetryAt'
    | 'failingSince'
    | 'bitrateKbps'
    | 'bytesSent'
    | 'generation'
    | 'workerId'
  >
>;

/**
 * Moves a relay to `to` inside the caller's transaction and records
 * `destination.state_changed` with it (transactional outbox). With a fence, a run that
 * lost the relay (newer generation, or another run token) changes nothing: returns null.
 */
export async function transitionRelay(
  m: EntityManager,
  outbox: OutboxService,
  relayId: string,
  to: RelayState,
  patch: RelayPatch = {},
  fence: RelayFence | null = null,
): Promise<Relay | null> {
  const repo = m.getRepository(Relay);
  const relay = await repo
    .createQueryBuilder('r')
    .setLock('pessimistic_write')
    .where('r.id = :relayId', { relayId })
    .getOne();
  if (!relay) return null;
  if (fence && (relay.generation !== fence.generation || relay.workerId !== fence.runToken)) {
    return null;
  }
  const previous = relay.state;
  Object.assign(relay, patch);
  if (previous !== to) {
    relay.state = to;
    relay.since = new Date();
  }
  await repo.save(relay);
  if (previous !== to) {
    await outbox.record(m, relay.partnerId, 'destination.state_changed', {
      sessionId: relay.sessionId,
      destinationId: relay.destinationId,
      state: to,
      previousState: previous,
      attempts: relay.attempts,
      lastError: relay.lastError,
    });
  }
  return relay;
}

/**
 * Stores the relay's pre-flight warnings inside the caller's transaction and, when they
 * changed, records `destination.warning` with them (transactional outbox). Fenced like a
 * state change: a run that lost the relay changes nothing (null). True when they changed.
 */
export async function setRelayWarnings(
  m: EntityManager,
  outbox: OutboxService,
  relayId: string,
  warnings: RelayWarning[],
  fence: RelayFence,
): Promise<boolean | null> {
  const rows = (await m.query(
    `SELECT partner_id, session_id, destination_id, warnings, generation, worker_id
       FROM relays WHERE id = $1 FOR UPDATE`,
    [relayId],
  )) as Array<{
    partner_id: string;
    session_id: string;
    destination_id: string;
    warnings: RelayWarning[];
    generation: number;
    worker_id: string | null;
  }>;
  const r = rows[0];
  if (!r || r.generation !== fence.generation || r.worker_id !== fence.runToken) return null;
  if (sameWarnings(r.warnings, warnings)) return false;
  await m.query(`UPDATE relays SET warnings = $2, updated_at = now() WHERE id = $1`, [
    relayId,
    JSON.stringify(warnings),
  ]);
  await outbox.record(m, r.partner_id, 'destination.warning', {
    sessionId: r.session_id,
    destinationId: r.destination_id,
    warnings,
  });
  return true;
}
