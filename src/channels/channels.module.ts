import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrandsModule } from '../brands/brands.module';
import { Channel } from './channel.entity';
import { ChannelsService } from './channels.service';

/** Channels' services: loaded in every role (the ingest authorizes keys with them). */
@Module({
  imports: [TypeOrmModule.forFeature([Channel]), BrandsModule],
  providers: [ChannelsService],
  exports: [ChannelsService],
})
export class ChannelsModule {}
