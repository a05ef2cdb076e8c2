import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/api-docs';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { recordingPrefix, RecordingsService } from '../recording/recordings.service';
import { PinsService } from '../shopping/pins.service';
import { MEDIA_STORAGE, MediaStorage } from '../storage/media-storage';
import { PAGE_CSP } from './embed.controller';
import { EmbedStateService } from './embed-state.service';
import { HLS_FILE } from './hls.controller';
import { sendMedia } from './media-files';
import { REPLAY_CSS, REPLAY_JS, replayHtml } from './replay-page';
import { offsetInRecording } from '../media/hls-playlist';

/**
 * `/replay/<sessionId>`: the shoppable replay page of a recording (API.md "Media
 * endpoints"), what it shows (`/state`), and the recording's playlist and segments from
 * the storage driver. 404 unless the session has a recording that is under way or ready.
 */
@ApiTags('media')
@Controller('replay')
export class ReplayController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    private readonly recordings: RecordingsService,
    private readonly pins: PinsService,
    private readonly embed: EmbedStateService,
  ) {}

  @Get('assets/:file')
  @ApiDoc({
    summary: "The replay page's assets",
    description: 'The script and stylesheet of the replay page (`replay.js`, `replay.css`).',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'text/javascript', schema: { type: 'string' } },
  })
  @ApiParam({ name: 'file', enum: ['replay.js', 'replay.css'] })
  asset(@Param('file') file: string, @Res() res: Response): void {
    const assets: Record<string, [string, string]> = {
      'replay.js': ['text/javascript; charset=utf-8', REPLAY_JS],
      'replay.css': ['text/css; charset=utf-8', REPLAY_CSS],
    };
    const a = Object.hasOwn(assets, file) ? assets[file] : undefined;
    if (!a) throw AppError.notFound('asset');
    res.setHeader('content-type', a[0]);
    res.setHeader('cache-control', 'public, max-age=300');
    res.send(a[1]);
  }

  @Get(':sessionId')
  @ApiDoc({
    summary: 'The shoppable replay page',
    description:
      'An HTML page (`playback.replayUrl` of a recording) to put in an iframe: the recording with a chapter per pin; seeking to a chapter, or the playhead reaching a pin, shows its product. Public; 404 unless the session has a recording under way or ready.',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'text/html', schema: { type: 'string' } },
  })
  async page(@Param('sessionId') sessionId: string, @Res() res: Response): Promise<void> {
    const r = await this.playable(sessionId);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', PAGE_CSP);
    res.setHeader('cache-control', 'no-cache');
    res.send(replayHtml(sessionId, r.title));
  }

  @Get(':sessionId/state')
  @ApiDoc({
    summary: 'What the replay page shows',
    description:
      '`{title, state, hlsUrl, pins: [{productId, pinnedAt, unpinnedAt}], products, chapters: [{productId, offsetSeconds}]}` for the replay page. Public.',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'application/json', schema: { type: 'object' } },
  })
  async state(@Param('sessionId') sessionId: string, @Res() res: Response): Promise<void> {
    const r = await this.playable(sessionId);
    const [pins, products, segments] = await Promise.all([
      this.pins.timeline(sessionId),
      this.embed.products(sessionId),
      this.recordings.segments(sessionId),
    ]);
    res.setHeader('cache-control', 'no-cache');
    res.json({
      title: r.title,
      state: r.state,
      hlsUrl: `/replay/${sessionId}/index.m3u8`,
      pins,
      products,
      chapters: pins.map((p) => ({
        productId: p.productId,
        offsetSeconds: offsetInRecording(segments, Date.parse(p.pinnedAt)),
      })),
    });
  }

  @Get(':sessionId/:file')
  @ApiDoc({
    summary: "The recording's playlist and segments",
    description:
      '`index.m3u8` (EXT-X-PROGRAM-DATE-TIME, one EXT-X-DATERANGE per pin; short cache while recording) and its segments (immutable), from the storage driver, or a redirect to a presigned URL when S3_PRESIGNED_URLS is on. Public.',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'application/vnd.apple.mpegurl', schema: { type: 'string' } },
  })
  async file(
    @Param('sessionId') sessionId: string,
    @Param('file') file: string,
    @Res() res: Response,
  ): Promise<void> {
    if (!HLS_FILE.test(file)) throw AppError.notFound('recording');
    const r = await this.playable(sessionId);
    await sendMedia(this.storage, this.config, `${recordingPrefix(sessionId)}${file}`, res, {
      live: r.state === 'recording',
      what: 'recording',
    });
  }

  private async playable(sessionId: string): Promise<{ title: string; state: string }> {
    if (!isUuid(sessionId)) throw AppError.notFound('recording');
    const [r] = (await this.db.query(
      `SELECT r.state, c.name FROM recordings r JOIN channels c ON c.id = r.channel_id
        WHERE r.session_id = $1 AND r.state IN ('recording', 'ready')`,
      [sessionId],
    )) as Array<{ state: string; name: string }>;
    if (!r) throw AppError.notFound('recording');
    return { title: r.name, state: r.state };
  }
}
