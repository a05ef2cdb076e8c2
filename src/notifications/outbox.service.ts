import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OutboxEvent } from './outbox-event.entity';
import type { EventPayloads } from './event-payloads';
import type { EventType } from './event-types';

@Injectable()
export class OutboxService {
  /**
   * Records an event inside the caller's transaction: pass the transaction's
   * EntityManager so the event commits (or rolls back) with the state change.
   */
  async record<T extends EventType>(
    manager: EntityManager,
    partnerId: string,
    type: T,
    data: EventPayloads[T],
  ): Promise<OutboxEvent> {
    return manager.getRepository(OutboxEvent).save({
      partnerId,
      type,
      data: data as unknown as Record<string, unknown>,
    });
  }
}
