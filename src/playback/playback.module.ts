import { Module } from '@nestjs/common';
import { RecordingModule } from '../recording/recording.module';
import { ShoppingModule } from '../shopping/shopping.module';
import { EmbedController } from './embed.controller';
import { EmbedStateService } from './embed-state.service';
import { HlsController } from './hls.controller';
import { ReplayController } from './replay.controller';

/** Media served over HTTP (`api` role): HLS, the shoppable player page and replays. */
@Module({
  imports: [ShoppingModule, RecordingModule],
  controllers: [HlsController, EmbedController, ReplayController],
  providers: [EmbedStateService],
})
export class PlaybackHttpModule {}
