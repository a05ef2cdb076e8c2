import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { hlsDir } from '../media/media-paths';

const FILE = /^(index\.m3u8|seg_\d{6}\.ts)$/;

/**
 * The brand-site rendition: `/hls/<destinationId>/index.m3u8` and its segments, written
 * by the destination's relay into MEDIA_DIR (shared with workers on other machines).
 * 404 unless the destination's relay is running in its channel's live session.
 */
@ApiExcludeController()
@Controller('hls')
export class HlsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get(':destinationId/:file')
  async file(
    @Param('destinationId') destinationId: string,
    @Param('file') file: string,
    @Res() res: Response,
  ): Promise<void> {
    if (!isUuid(destinationId) || !FILE.test(file)) throw AppError.notFound('rendition');
    const [live] = (await this.db.query(
      `SELECT 1 FROM destinations d
         JOIN channels c ON c.id = d.channel_id
         JOIN relays r ON r.session_id = c.current_session_id AND r.destination_id = d.id
        WHERE d.id = $1 AND d.kind = 'brand_site' AND r.state IN ('starting', 'live', 'retrying')`,
      [destinationId],
    )) as unknown[];
    if (!live) throw AppError.notFound('rendition');
    const path = join(hlsDir(this.config.mediaDir, destinationId), file);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw AppError.notFound('rendition');
    const playlist = file.endsWith('.m3u8');
    res.setHeader('content-type', playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t');
    res.setHeader('cache-control', playlist ? 'no-cache' : 'public, max-age=60');
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('content-length', String(info.size));
    createReadStream(path).pipe(res);
  }
}
