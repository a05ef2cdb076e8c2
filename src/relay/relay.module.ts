import { Module } from '@nestjs/common';
import { RelayOrchestrator } from './relay-orchestrator.service';

/** Decides relays (every role that changes sessions or destinations). */
@Module({ providers: [RelayOrchestrator], exports: [RelayOrchestrator] })
export class RelayModule {}
