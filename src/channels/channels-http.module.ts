import { Module } from '@nestjs/common';
import { SessionsModule } from '../ingest/ingest.module';
import { ChannelsController } from './channels.controller';
import { ChannelsModule } from './channels.module';

/**
 * Channels' HTTP routes: loaded only in the `api` role. In a file of its own because it
 * needs sessions (deleting a live channel ends its session) and sessions need channels.
 */
@Module({ imports: [ChannelsModule, SessionsModule], controllers: [ChannelsController] })
export class ChannelsHttpModule {}
