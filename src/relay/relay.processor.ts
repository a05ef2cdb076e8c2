import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job } from 'bullmq';
import { PeriodicLoop } from '../common/periodic-loop';
import { QueueName } from '../queues/queue-registry';
import { workerOptions } from '../queues/worker-options';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { MetricsService } from '../ops/metrics.service';
import { RelayOrchestrator } from './relay-orchestrator.service';
import { RelaySupervisor } from './relay-supervisor.service';

/**
 * Relay jobs last as long as their session. A worker that dies loses its job lock within
 * `lockDuration`; BullMQ's stalled check then hands the job to another worker, whose run
 * takes the relay over (fenced by run token). Short lock + stalled interval keep that
 * under 10 s; a high `maxStalledCount` because a relay may be handed over many times.
 */
export const RELAY_WORKER_OPTIONS = workerOptions({
  concurrency: 500,
  lockDuration: 4000,
  stalledInterval: 2000,
  maxStalledCount: 1_000_000,
});

@Processor(QueueName.Relays, RELAY_WORKER_OPTIONS)
export class RelayProcessor extends TypedProcessor<QueueName.Relays> {
  protected readonly queueName = QueueName.Relays;

  constructor(private readonly supervisor: RelaySupervisor) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Relays> = {
    'relay.run': async ({ relayId, generation }, job: Job, signal: AbortSignal) => {
      const result = await this.supervisor.run(relayId, generation, signal, {
        report: (p) => job.updateProgress(p),
        log: (line) => job.log(line),
      });
      // Shutdown: the run stopped its ffmpeg; throwing puts the job back on the queue for
      // another worker to take the relay over (TypedProcessor).
      signal.throwIfAborted();
      return { result };
    },
  };

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn(`relay worker: ${err.message}`);
  }
}

/** How often a worker re-enqueues active relays and refreshes the relay gauge. */
export const RELAY_RESUME_MS = 5000;

/** Re-enqueues active relays every few seconds (see RelayOrchestrator.resumeActiveRelays). */
@Injectable()
export class RelayResumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(RelayResumer.name);
  private readonly loop = new PeriodicLoop(
    'resume relays',
    RELAY_RESUME_MS,
    async () => {
      await this.orchestrator.resumeActiveRelays();
      this.metrics.setRelaysByState(await this.orchestrator.countLiveSessionRelays());
    },
    this.log,
  );

  constructor(
    private readonly orchestrator: RelayOrchestrator,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(1000);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }
}
