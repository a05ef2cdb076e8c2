import { Module } from '@nestjs/common';
import { DestinationsModule } from '../destinations/destinations.module';
import { RelayModule } from './relay.module';
import { RelayProcessor, RelayResumer } from './relay.processor';
import { RelaySupervisor } from './relay-supervisor.service';

/** Runs relays: `worker` role only. (The process's media hub comes from MediaModule.) */
@Module({
  imports: [RelayModule, DestinationsModule],
  providers: [RelaySupervisor, RelayProcessor, RelayResumer],
})
export class RelayWorkerModule {}
