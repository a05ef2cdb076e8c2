import { Global, Module } from '@nestjs/common';
import { RtmpServerAdapter } from './rtmp-server.adapter';

/**
 * The process's one media hub (node-media-server's context is per process): the RTMP
 * server in the `ingest` role, stream subscriptions and pulls for relays in `worker`.
 */
@Global()
@Module({ providers: [RtmpServerAdapter], exports: [RtmpServerAdapter] })
export class MediaModule {}
