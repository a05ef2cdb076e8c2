import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { hlsKeyPrefix } from '../media/media-paths';
import { MEDIA_STORAGE, MediaStorage } from '../storage/media-storage';
import { sendMedia } from './media-files';

/** The playlist and the segment names the publisher writes (hls-publisher.ts). */
export const HLS_FILE = /^(index\.m3u8|seg_[0-9a-z_]{1,40}\.ts)$/;

/**
 * The brand-site rendition: `/hls/<destinationId>/index.m3u8` and its segments, stored
 * through the storage driver by the destination's relay (in whichever worker runs it).
 * 404 unless the destination's relay is running in its channel's live session.
 */
@ApiExcludeController()
@Controller('hls')
export class HlsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
  ) {}

  @Get(':destinationId/:file')
  async file(
    @Param('destinationId') destinationId: string,
    @Param('file') file: string,
    @Res() res: Response,
  ): Promise<void> {
    if (!isUuid(destinationId) || !HLS_FILE.test(file)) throw AppError.notFound('rendition');
    const [live] = (await this.db.query(
      `SELECT 1 FROM destinations d
         JOIN channels c ON c.id = d.channel_id
         JOIN relays r ON r.session_id = c.current_session_id AND r.destination_id = d.id
        WHERE d.id = $1 AND d.kind = 'brand_site' AND r.state IN ('starting', 'live', 'retrying')`,
      [destinationId],
    )) as unknown[];
    if (!live) throw AppError.notFound('rendition');
    await sendMedia(this.storage, this.config, `${hlsKeyPrefix(destinationId)}${file}`, res, {
      live: true,
      what: 'rendition',
    });
  }
}
