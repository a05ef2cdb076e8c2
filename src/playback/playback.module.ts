import { Module } from '@nestjs/common';
import { EmbedController } from './embed.controller';
import { EmbedStateService } from './embed-state.service';
import { HlsController } from './hls.controller';

/** Media served over HTTP (`api` role): HLS and the shoppable player page. */
@Module({ controllers: [HlsController, EmbedController], providers: [EmbedStateService] })
export class PlaybackHttpModule {}
