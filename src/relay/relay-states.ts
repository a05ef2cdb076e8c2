import type { EntityManager } from 'typeorm';
import type { OutboxService } from '../notifications/outbox.service';
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
