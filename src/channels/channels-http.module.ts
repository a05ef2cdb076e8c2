import { Module } from '@nestjs/common';
import { ChannelsController } from './channels.controller';
import { ChannelsModule } from './channels.module';

/** Channels' HTTP routes: loaded only in the `api` role. */
@Module({ imports: [ChannelsModule], controllers: [ChannelsController] })
export class ChannelsHttpModule {}
