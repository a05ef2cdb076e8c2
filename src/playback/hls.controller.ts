import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { hlsDir } from '../media/media-paths';

const FILE = /^(index\.m3u8|seg_\d{6}\.ts)$/;

/** What a missing file looks like to open() and fstat(): answered 404, anything else is a 500. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ESTALE']);

/**
 * Opens `path` once and reads its size from the open descriptor, so that what is sent is
 * the file that was found even if ffmpeg deletes it (`delete_segments`) or replaces it
 * (`temp_file`) right after. null when there is no such regular file.
 */
async function openFile(path: string): Promise<{ handle: FileHandle; size: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return { handle, size: info.size };
  } catch (err) {
    if (!GONE.has((err as NodeJS.ErrnoException).code ?? '')) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
  await handle.close().catch(() => undefined);
  return null;
}

/** Passes exactly `size` bytes on, and fails when the file ended before (it was truncated). */
function exactly(size: number) {
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let sent = 0;
    for await (const chunk of source) {
      sent += chunk.length;
      yield chunk;
    }
    if (sent < size) throw new Error(`file ended after ${sent} of ${size} bytes`);
  };
}

/**
 * The brand-site rendition: `/hls/<destinationId>/index.m3u8` and its segments, written
 * by the destination's relay into MEDIA_DIR (shared with workers on other machines).
 * 404 unless the destination's relay is running in its channel's live session.
 *
 * A file is opened once and streamed from its descriptor: gone before the headers → 404;
 * a read error or a short file after them → the response is destroyed (the client sees
 * an incomplete response, never a short one that looks whole); a client that leaves
 * mid-file → the read stops and the descriptor is closed.
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
    const found = await openFile(join(hlsDir(this.config.mediaDir, destinationId), file));
    if (!found) throw AppError.notFound('rendition');
    const { handle, size } = found;
    if (res.destroyed) {
      // The client left while we looked: nothing to send.
      await handle.close().catch(() => undefined);
      return;
    }
    const playlist = file.endsWith('.m3u8');
    res.setHeader('content-type', playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t');
    res.setHeader('cache-control', playlist ? 'no-cache' : 'public, max-age=60');
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('content-length', String(size));
    if (size === 0) {
      await handle.close().catch(() => undefined);
      res.end();
      return;
    }
    // pipeline destroys every stream on an error or an early close: the response (the
    // client sees it cut) and the read stream, which closes the descriptor.
    pipeline(handle.createReadStream({ start: 0, end: size - 1 }), exactly(size), res, () => {});
  }
}
