import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { QueueName } from './queue-registry';
import { PROCESSED_QUEUES } from './typed-processor';

/** In the worker role: refuse to start when a registered queue has no processor. */
@Injectable()
export class WorkerReadinessCheck implements OnApplicationBootstrap {
  onApplicationBootstrap(): void {
    const missing = Object.values(QueueName).filter((q) => !PROCESSED_QUEUES.has(q));
    if (missing.length) {
      throw new Error(`worker role: no processor for queue(s): ${missing.join(', ')}`);
    }
  }
}
