import { Module } from '@nestjs/common';
import { ShoppingModule } from '../shopping/shopping.module';
import { FFMPEG_RUNNER_PROVIDER } from '../relay/relay-worker.module';
import { RecordingProcessor, RecordingResumer } from './recording.processor';
import { Recorder } from './recorder';
import { RecordingsController } from './recordings.controller';
import { RecordingsService } from './recordings.service';

/** Recordings (every role: sessions create them, the api reads them, workers record). */
@Module({
  imports: [ShoppingModule],
  providers: [RecordingsService],
  exports: [RecordingsService],
})
export class RecordingModule {}

/** HTTP routes: `api` role. */
@Module({ imports: [RecordingModule], controllers: [RecordingsController] })
export class RecordingHttpModule {}

/** Recording runs and retention: `worker` role. */
@Module({
  imports: [RecordingModule],
  providers: [Recorder, RecordingProcessor, RecordingResumer, FFMPEG_RUNNER_PROVIDER],
})
export class RecordingWorkerModule {}
