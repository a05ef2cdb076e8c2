import { Inject, Injectable } from '@nestjs/common';
import { mkdir, rm } from 'node:fs/promises';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { assertUrlAllowed, guardedLookup } from '../common/egress-guard';
import type { Destination } from '../destinations/destination.entity';
import { DestinationsService, PUSH_SCHEMES } from '../destinations/destinations.service';
import { MediaClock } from '../media/media-clock';
import { hlsKeyPrefix, scratchDir } from '../media/media-paths';
import { MediaService } from '../media/media.service';
import { MetricsService } from '../ops/metrics.service';
import { EncoderPool } from './encoder-pool';
import { buildRelayCommand, scrub, secretsOfUrl } from './ffmpeg-command';
import { FfmpegRunner } from './ffmpeg-runner';
import { HlsPublisher } from './hls-publisher';
import type { DestinationPlan } from './output-plan';
import { StreamFigureWatch, type FiguresHandle } from './stream-figures';
import { PinsService } from '../shopping/pins.service';
import { toRanges } from '../recording/pin-ranges';
import { MEDIA_STORAGE, MediaStorage } from '../storage/media-storage';
import type { RelaySession } from './relay-store';
import {
  ffmpegTransport,
  hlsTransport,
  pullFrom,
  pushTransport,
  RelayTransport,
  transcodeTransport,
} from './relay-transports';

/** Opens the transport of one attempt, and cleans up after a relay ends. */
export interface RelayTransportFactory {
  /** Follows the session's stream in this process: the figures its pre-flight reads. */
  watch(session: RelaySession): FiguresHandle;
  /** Carries the destination as the pre-flight planned it (passthrough or its encode). */
  open(
    destination: Destination,
    session: RelaySession,
    plan: DestinationPlan,
  ): Promise<RelayTransport>;
  /** What a finished relay leaves behind (the brand-site rendition's files). */
  release(destinationId: string): Promise<void>;
  /** The strings of a destination that errors must never show (its push URL and key). */
  secretsOf(destination: Destination): string[];
}

/** Segments in the live playlist. */
export const LIVE_LIST_SIZE = 6;

/**
 * How a destination is carried: RTMP/RTMPS always by this process's push client
 * (passthrough as it is, transcodes from the FLV output of the encoder it shares with
 * every destination of the stream that has the same encode), the brand-site HLS
 * rendition by ffmpeg into a scratch folder and from there through the storage driver
 * (packaging the shared encode when it is transcoded). The push URL is checked by the egress guard again right before
 * connecting (DNS may have changed since it was saved).
 */
@Injectable()
export class RelayTransports implements RelayTransportFactory {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly destinations: DestinationsService,
    private readonly media: MediaService,
    private readonly runner: FfmpegRunner,
    metrics: MetricsService,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    private readonly pins: PinsService,
  ) {
    this.figures = new StreamFigureWatch(media);
    this.encoders = new EncoderPool(runner, media, {
      share: config.relaySharedEncoders,
      onRestart: () => metrics.ffmpegRestarted(),
    });
  }

  /** The encoders of this process (one per distinct output of a stream). */
  readonly encoders: EncoderPool;

  private readonly figures: StreamFigureWatch;

  watch(session: RelaySession): FiguresHandle {
    return this.figures.watch({ streamName: session.streamName, ingestNode: session.ingestNode });
  }

  async open(
    d: Destination,
    session: RelaySession,
    plan: DestinationPlan,
  ): Promise<RelayTransport> {
    const { encode } = plan;
    const stream = { streamName: session.streamName, ingestNode: session.ingestNode };
    const source = { streamName: stream.streamName, pullFrom: pullFrom(this.media, stream) };
    if (d.kind === 'brand_site') {
      // ffmpeg packages into this worker's scratch folder; the publisher stores each
      // segment and the playlist through the storage driver (the api role serves them).
      const dir = scratchDir(this.config.mediaDir, 'hls', d.id);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await this.storage.deletePrefix(hlsKeyPrefix(d.id));
      // The rendition packages: the ingest as it is, or the encode it shares with the
      // destinations of the same output (its ffmpeg copies it into segments).
      const command = buildRelayCommand({
        output: { kind: 'hls', dir, segmentSeconds: 1, listSize: 6, keepSegments: true },
        encode: null,
      });
      const lease = encode ? this.encoders.acquire(source, encode) : null;
      const clock = new MediaClock();
      const packager = ffmpegTransport(this.runner, this.media, stream, command, lease, clock);
      const publisher = new HlsPublisher(
        dir,
        {
          storage: this.storage,
          prefix: hlsKeyPrefix(d.id),
          type: 'live',
          listSize: LIVE_LIST_SIZE,
          pins: async () => toRanges(await this.pins.timeline(session.id)),
        },
        clock,
      );
      return hlsTransport(packager, publisher, () => rm(dir, { recursive: true, force: true }));
    }
    const url = this.destinations.revealPushUrl(d);
    const policy = { allowPrivateNetworks: this.config.egressAllowPrivateNetworks };
    try {
      await assertUrlAllowed('url', d.url ?? '', PUSH_SCHEMES, policy);
    } catch (err) {
      throw new Error(scrub((err as Error).message, secretsOfUrl(url)));
    }
    const lookup = guardedLookup(policy);
    if (!encode) return pushTransport(this.media, stream, url, lookup);
    return transcodeTransport(this.media, this.encoders.acquire(source, encode), url, lookup);
  }

  /** The rendition's files go when its relay ends (its session ended, or it was turned off). */
  async release(destinationId: string): Promise<void> {
    await rm(scratchDir(this.config.mediaDir, 'hls', destinationId), {
      recursive: true,
      force: true,
    });
    await this.storage.deletePrefix(hlsKeyPrefix(destinationId));
  }

  secretsOf(d: Destination): string[] {
    return d.url ? secretsOfUrl(this.destinations.revealPushUrl(d)) : [];
  }
}
