import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { Destination } from '../destinations/destination.entity';
import { OutboxService } from '../notifications/outbox.service';
import { JobQueue } from '../queues/job-queue.service';
import { relayJobId } from '../queues/queue-registry';
import { Relay, RelayState } from './relay.entity';
import { ACTIVE_STATES, transitionRelay } from './relay-states';

interface RelayRun {
  relayId: string;
  generation: number;
}

/**
 * Decides which relays a live session has: one per enabled destination. Runs in the
 * API (destination changes) and the ingest (publish, unpublish); the relay runs
 * themselves are BullMQ jobs picked up by workers.
 */
@Injectable()
export class RelayOrchestrator {
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
    const byDestination = new Map(relays.map((r) => [r.destinationId, r]));
    const wanted = new Map(destinations.filter((d) => d.enabled).map((d) => [d.id, d]));
    const runs: RelayRun[] = [];

    for (const d of wanted.values()) {
      const r = byDestination.get(d.id);
      if (!r) {
        const created = await m.getRepository(Relay).save({
          partnerId,
          sessionId,
          destinationId: d.id,
          state: 'starting',
          generation: 1,
        });
        await this.outbox.record(m, partnerId, 'destination.state_changed', {
          sessionId,
          destinationId: d.id,
          state: 'starting',
          previousState: null,
          attempts: 0,
          lastError: null,
        });
        runs.push({ relayId: created.id, generation: created.generation });
        continue;
      }
      // A stopped relay starts again; an errored one when the partner touched the
      // destination after it gave up (API.md: "re-enable the destination to try again").
      const restart = r.state === 'stopped' || (r.state === 'errored' && d.updatedAt > r.since);
      if (!restart) continue;
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

    for (const r of relays) {
      if (!wanted.has(r.destinationId) && ACTIVE_STATES.includes(r.state)) {
        await this.stopRelay(m, r);
      }
    }
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
