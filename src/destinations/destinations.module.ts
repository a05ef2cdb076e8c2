import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChannelsModule } from '../channels/channels.module';
import { Destination } from './destination.entity';
import { DestinationPresetsController } from './destination-presets.controller';
import { DestinationsController } from './destinations.controller';
import { DestinationsService } from './destinations.service';

@Module({
  imports: [TypeOrmModule.forFeature([Destination]), ChannelsModule],
  providers: [DestinationsService],
  exports: [DestinationsService],
})
export class DestinationsModule {}

/** HTTP routes: `api` role only. */
@Module({
  imports: [DestinationsModule],
  controllers: [DestinationsController, DestinationPresetsController],
})
export class DestinationsHttpModule {}
