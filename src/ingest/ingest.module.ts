import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { RelayModule } from '../relay/relay.module';
import { ShoppingModule } from '../shopping/shopping.module';
import { IngestService } from './ingest.service';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/** Sessions (every role). */
@Module({
  imports: [RelayModule, ShoppingModule, ChannelsModule],
  providers: [SessionsService],
  exports: [SessionsService],
})
export class SessionsModule {}

/** HTTP routes: `api` role. */
@Module({ imports: [SessionsModule], controllers: [SessionsController] })
export class SessionsHttpModule {}

/** The embedded RTMP server: `ingest` role. */
@Module({ imports: [SessionsModule, RelayModule], providers: [IngestService] })
export class IngestServerModule {}
