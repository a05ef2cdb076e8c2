import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Destination } from '../destinations/destination.entity';
import type { DestinationRuntime } from '../destinations/destination-runtime';
import { OutboxService } from '../notifications/outbox.service';
import { JobQueue } from '../queues/job-queue.service';
import { relayJobId } from '../queues/queue-registry';
import { Relay, RelayState } from './relay.entity';
import { ACTIVE_STATES, transitionRelay } from './relay-states';

interface RelayRun {
  relayId: string;
  generation: number;
}

/** What the orchestrator does to bring a session's relays in line with its destinations. */
export interface RelayPlan {
  /** Enabled destinations without a relay in the session: a new relay each. */
  create: string[];
  /** Relays to start again: stopped ones of enabled destinations, and errored ones the
   *  partner touched after they gave up (API.md: "re-enable the destination to try again"). */
  restart: string[];
  /** Active relays whose destination is gone or disabled. */
  stop: string[];
}

/** The decision, pure: destinations of the channel and relays of its live session. */
export function planRelays(
  destinations: Array<Pick<Destination, 'id' | 'enabled' | 'updatedAt'>>,
  relays: Array<Pick<Relay, 'id' | 'destinationId' | 'state' | 'since'>>,
): RelayPlan {
  const byDestination = new Map(relays.map((r) => [r.destinationId, r]));
  const wanted = new Map(destinations.filter((d) => d.enabled).map((d) => [d.id, d]));
  const plan: RelayPlan = { create: [], restart: [], stop: [] };
  for (const d of wanted.values()) {
    const r = byDestination.get(d.id);
    if (!r) plan.create.push(d.id);
    else if (r.state === 'stopped' || (r.state === 'errored' && d.updatedAt > r.since)) {
      plan.restart.push(r.id);
    }
  }
  for (const r of relays) {
    if (!wanted.has(r.destinationId) && ACTIVE_STATES.includes(r.state)) plan.stop.push(r.id);
  }
  return plan;
}

/**
 * Decides which relays a live session has: one per enabled destination. Runs in the
 * API (destination changes) and the ingest (publish, unpublish); the relay runs
 * themselves are BullMQ jobs picked up by workers.
 */
@Injectable()
export class RelayOrchestrator implements DestinationRuntime {
  private readonly log = new Logger(RelayOrchestrator.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
    private readonly jobs: JobQueue,
  ) {}

  /** Brings the relays of the channel's live session in line with its destinations. */
  async syncChannel(channelId: string): Promise<void> {
    const runs = await this.db.transaction(async (m) => {
      const [session] = (await m.query(
        `SELECT id, partner_id FROM sessions WHERE channel_id = $1 AND status = 'live' FOR UPDATE`,
        [channelId],
      )) as Array<{ id: string; partner_id: string }>;
      if (!session) return [];
      return this.syncSession(m, session.id, session.partner_id, channelId);
    });
    await this.enqueue(runs);
  }

  async relayStates(sessionId: string, destinationIds: string[]): Promise<Map<string, string>> {
    const relays = await this.db
      .getRepository(Relay)
      .findBy({ sessionId, destinationId: In(destinationIds) });
    return new Map(relays.map((r) => [r.destinationId, r.state]));
  }

  /** Stops every relay of a session (the session is ending), in the caller's transaction. */
  async stopSessionRelays(m: EntityManager, sessionId: string): Promise<void> {
    const relays = await m
      .getRepository(Relay)
      .findBy({ sessionId, state: In([...ACTIVE_STATES, 'errored']) });
    for (const r of relays) await this.stopRelay(m, r);
  }

  /**
   * Re-enqueues the run of every active relay. A run's job id is fixed by (relay,
   * generation), so this is a no-op for runs that exist; it repairs a crash between a
   * commit and its enqueue, and a job lost with Redis.
   */
  async resumeActiveRelays(): Promise<number> {
    const rows = await this.db.getRepository(Relay).find({
      select: { id: true, generation: true },
      where: { state: In([...ACTIVE_STATES]) },
    });
    await this.enqueue(rows.map((r) => ({ relayId: r.id, generation: r.generation })));
    return rows.length;
  }

  /** Relays of live sessions by state (the castbridge_relays gauge; same in every worker). */
  async countLiveSessionRelays(): Promise<Partial<Record<RelayState, number>>> {
    const rows = (await this.db.query(
      `SELECT r.state, count(*)::int AS n FROM relays r
         JOIN sessions s ON s.id = r.session_id AND s.status = 'live' GROUP BY r.state`,
    )) as Array<{ state: RelayState; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  private async syncSession(
    m: EntityManager,
    sessionId: string,
    partnerId: string,
    channelId: string,
  ): Promise<RelayRun[]> {
    const destinations = await m.getRepository(Destination).findBy({ channelId });
    const relays = await m.getRepository(Relay).findBy({ sessionId });
    const plan = planRelays(destinations, relays);
    const byId = new Map(relays.map((r) => [r.id, r]));
    const runs: RelayRun[] = [];

    for (const destinationId of plan.create) {
      const created = await m.getRepository(Relay).save({
        partnerId,
        sessionId,
        destinationId,
        state: 'starting',
        generation: 1,
      });
      await this.outbox.record(m, partnerId, 'destination.state_changed', {
        sessionId,
        destinationId,
        state: 'starting',
        previousState: null,
        attempts: 0,
        lastError: null,
      });
      runs.push({ relayId: created.id, generation: created.generation });
    }
    for (const relayId of plan.restart) {
      const r = byId.get(relayId)!;
      const next = await transitionRelay(m, this.outbox, r.id, 'starting', {
        generation: r.generation + 1,
        attempts: 0,
        lastError: null,
        nextRetryAt: null,
        failingSince: null,
        bitrateKbps: null,
        workerId: null,
      });
      if (next) runs.push({ relayId: next.id, generation: next.generation });
    }
    for (const relayId of plan.stop) await this.stopRelay(m, byId.get(relayId)!);
    return runs;
  }

  /** Stopped, and a new generation so that the run still holding it lets go. */
  private async stopRelay(m: EntityManager, r: Relay): Promise<void> {
    await transitionRelay(m, this.outbox, r.id, 'stopped', {
      generation: r.generation + 1,
      nextRetryAt: null,
      bitrateKbps: null,
    });
  }

  private async enqueue(runs: RelayRun[]): Promise<void> {
    for (const run of runs) {
      try {
        await this.jobs.add('relay.run', run, { jobId: relayJobId(run.relayId, run.generation) });
      } catch (err) {
        // Committed already: the periodic resume enqueues it once Redis answers.
        this.log.warn(`relay ${run.relayId} not enqueued yet: ${(err as Error).message}`);
      }
    }
  }
}
