import { Global, Module } from '@nestjs/common';
import { DESTINATION_RUNTIME } from '../destinations/destination-runtime';
import { RelayOrchestrator } from './relay-orchestrator.service';

/**
 * Decides relays (every role that changes sessions or destinations). Global: it is the
 * destinations part's DESTINATION_RUNTIME, which that part knows only as an interface.
 */
@Global()
@Module({
  providers: [RelayOrchestrator, { provide: DESTINATION_RUNTIME, useExisting: RelayOrchestrator }],
  exports: [RelayOrchestrator, DESTINATION_RUNTIME],
})
export class RelayModule {}
