import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job } from 'bullmq';
import { QueueName } from '../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { RelayOrchestrator } from './relay-orchestrator.service';
import { RelaySupervisor } from './relay-supervisor.service';

/**
 * Relay jobs last as long as their session. A worker that dies loses its job lock within
 * `lockDuration`; BullMQ's stalled check then hands the job to another worker, whose run
 * takes the relay over (fenced by run token). Short lock + stalled interval keep that
 * under 10 s; a high `maxStalledCount` because a relay may be handed over many times.
 */
export const RELAY_WORKER_OPTIONS = {
  concurrency: 500,
  lockDuration: 4000,
  stalledInterval: 2000,
  maxStalledCount: 1_000_000,
};

@Processor(QueueName.Relays, RELAY_WORKER_OPTIONS)
export class RelayProcessor extends TypedProcessor<QueueName.Relays> implements OnModuleDestroy {
  protected readonly queueName = QueueName.Relays;
  private readonly shutdown = new AbortController();

  constructor(private readonly supervisor: RelaySupervisor) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Relays> = {
    'relay.run': async ({ relayId, generation }, job: Job) => {
      const result = await this.supervisor.run(relayId, generation, this.shutdown.signal, (p) =>
        job.updateProgress(p),
      );
      return { result };
    },
  };

  /** Stop every run of this worker first (ffmpegs ended) so jobs are released, not lost. */
  onModuleDestroy(): void {
    this.shutdown.abort();
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn(`relay worker: ${err.message}`);
  }
}

/** Re-enqueues active relays every few seconds (see RelayOrchestrator.resumeActiveRelays). */
@Injectable()
export class RelayResumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(RelayResumer.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly orchestrator: RelayOrchestrator) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      this.orchestrator
        .resumeActiveRelays()
        .catch((err: Error) => this.log.warn(`resume relays: ${err.message}`))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, 5000);
        });
    };
    this.timer = setTimeout(tick, 1000);
  }

  onModuleDestroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
