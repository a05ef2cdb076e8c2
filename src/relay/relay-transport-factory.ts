import { Inject, Injectable } from '@nestjs/common';
import { mkdir, rm } from 'node:fs/promises';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { assertUrlAllowed, guardedLookup } from '../common/egress-guard';
import type { Destination } from '../destinations/destination.entity';
import { DestinationsService, PUSH_SCHEMES } from '../destinations/destinations.service';
import { hlsDir } from '../media/media-paths';
import { MediaService } from '../media/media.service';
import { buildRelayCommand, scrub, secretsOfUrl } from './ffmpeg-command';
import { FfmpegRunner } from './ffmpeg-runner';
import type { RelaySession } from './relay-store';
import {
  ffmpegTransport,
  pushTransport,
  RelayTransport,
  transcodeTransport,
} from './relay-transports';

/** Opens the transport of one attempt, and cleans up after a relay ends. */
export interface RelayTransportFactory {
  open(destination: Destination, session: RelaySession): Promise<RelayTransport>;
  /** What a finished relay leaves behind (the brand-site rendition's files). */
  release(destinationId: string): Promise<void>;
  /** The strings of a destination that errors must never show (its push URL and key). */
  secretsOf(destination: Destination): string[];
}

/**
 * How a destination is carried: RTMP/RTMPS always by this process's push client
 * (passthrough as it is, transcodes from ffmpeg's FLV output), the brand-site HLS
 * rendition by ffmpeg into MEDIA_DIR. The push URL is checked by the egress guard again
 * right before connecting (DNS may have changed since it was saved).
 */
@Injectable()
export class RelayTransports implements RelayTransportFactory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly destinations: DestinationsService,
    private readonly media: MediaService,
    private readonly runner: FfmpegRunner,
  ) {}

  async open(d: Destination, session: RelaySession): Promise<RelayTransport> {
    const stream = { streamName: session.streamName, ingestNode: session.ingestNode };
    if (d.kind === 'brand_site') {
      const dir = hlsDir(this.config.mediaDir, d.id);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const command = buildRelayCommand({
        output: { kind: 'hls', dir, segmentSeconds: 1, listSize: 6 },
        profile: d.profile,
      });
      return ffmpegTransport(this.runner, this.media, stream, command);
    }
    const url = this.destinations.revealPushUrl(d);
    const policy = { allowPrivateNetworks: this.config.egressAllowPrivateNetworks };
    try {
      await assertUrlAllowed('url', d.url ?? '', PUSH_SCHEMES, policy);
    } catch (err) {
      throw new Error(scrub((err as Error).message, secretsOfUrl(url)));
    }
    const lookup = guardedLookup(policy);
    if (!d.profile) return pushTransport(this.media, stream, url, lookup);
    const command = buildRelayCommand({ output: { kind: 'flv-stdout' }, profile: d.profile });
    return transcodeTransport(this.runner, this.media, stream, command, url, lookup);
  }

  async release(destinationId: string): Promise<void> {
    await rm(hlsDir(this.config.mediaDir, destinationId), { recursive: true, force: true });
  }

  secretsOf(d: Destination): string[] {
    return d.url ? secretsOfUrl(this.destinations.revealPushUrl(d)) : [];
  }
}
