import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrandsModule } from '../brands/brands.module';
import { Channel } from './channel.entity';
import { ChannelsController } from './channels.controller';
import { ChannelsService } from './channels.service';
import { SessionsModule } from '../ingest/ingest.module';

/** Channels' services: loaded in every role (the ingest authorizes keys with them). */
@Module({
  imports: [TypeOrmModule.forFeature([Channel]), BrandsModule],
  providers: [ChannelsService],
  exports: [ChannelsService],
})
export class ChannelsModule {}

/** Channels' HTTP routes: loaded only in the `api` role. */
@Module({ imports: [ChannelsModule, SessionsModule], controllers: [ChannelsController] })
export class ChannelsHttpModule {}
