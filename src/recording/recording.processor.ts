import { Processor } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicLoop } from '../common/periodic-loop';
import { QueueName } from '../queues/queue-registry';
import { JobHandlers, TypedProcessor } from '../queues/typed-processor';
import { RELAY_WORKER_OPTIONS } from '../relay/relay.processor';
import { Recorder } from './recorder';
import { RecordingsService } from './recordings.service';

@Processor(QueueName.Recordings, RELAY_WORKER_OPTIONS)
export class RecordingProcessor extends TypedProcessor<QueueName.Recordings> {
  protected readonly queueName = QueueName.Recordings;

  constructor(
    private readonly recorder: Recorder,
    private readonly recordings: RecordingsService,
  ) {
    super();
  }

  protected readonly handlers: JobHandlers<QueueName.Recordings> = {
    'recording.run': async ({ sessionId }, _job, signal) => {
      const result = await this.recorder.run(sessionId, signal);
      // Shutdown: the run stored what it had; another worker carries on.
      signal.throwIfAborted();
      return { result };
    },
    'recordings.prune': async () => ({ deleted: await this.recordings.prune() }),
  };
}

/** How often a worker re-enqueues the recordings under way (lost jobs). */
export const RECORDING_RESUME_MS = 5000;

/** Re-enqueues recordings under way every few seconds (a no-op when their job exists). */
@Injectable()
export class RecordingResumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(RecordingResumer.name);
  private readonly loop = new PeriodicLoop(
    'resume recordings',
    RECORDING_RESUME_MS,
    // (resume() answers how many it re-enqueued: not a delay for the loop.)
    async () => {
      await this.recordings.resume();
    },
    this.log,
  );

  constructor(private readonly recordings: RecordingsService) {}

  onApplicationBootstrap(): void {
    this.loop.start(1000);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }
}
