import { Global, Module } from '@nestjs/common';
import { LIVE_SESSIONS } from '../channels/live-sessions';
import { ChannelsModule } from '../channels/channels.module';
import { RecordingModule } from '../recording/recording.module';
import { ShoppingModule } from '../shopping/shopping.module';
import { IngestService } from './ingest.service';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/**
 * Sessions (every role). Global: it is the channels part's LIVE_SESSIONS, which that part
 * knows only as an interface (deleting a live channel ends its session).
 */
@Global()
@Module({
  imports: [ShoppingModule, ChannelsModule, RecordingModule],
  providers: [SessionsService, { provide: LIVE_SESSIONS, useExisting: SessionsService }],
  exports: [SessionsService, LIVE_SESSIONS],
})
export class SessionsModule {}

/** HTTP routes: `api` role. */
@Module({ imports: [SessionsModule], controllers: [SessionsController] })
export class SessionsHttpModule {}

/** The embedded RTMP server: `ingest` role. */
@Module({ imports: [SessionsModule], providers: [IngestService] })
export class IngestServerModule {}
