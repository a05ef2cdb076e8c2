import { Module } from '@nestjs/common';
import { HlsController } from './hls.controller';

/** Media served over HTTP (`api` role). */
@Module({ controllers: [HlsController] })
export class PlaybackHttpModule {}
