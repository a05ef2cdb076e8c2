import { Global, Module } from '@nestjs/common';
import { MediaService } from './media.service';

/**
 * The process's one media part (every role): the hub of live streams, the RTMP(S) ingest
 * listener when the `ingest` role starts it, pulls and pushes for relays in `worker`.
 */
@Global()
@Module({ providers: [MediaService], exports: [MediaService] })
export class MediaModule {}
