import type { Response } from 'express';
import { pipeline } from 'node:stream';
import type { AppConfig } from '../../config/env.schema';
import { AppError } from '../common/errors';
import type { MediaStorage } from '../storage/media-storage';

/** How long a presigned segment URL is valid. */
export const PRESIGNED_SECONDS = 300;

/**
 * Caching: a playlist changes every segment (live) or while recording, so it is kept
 * a second at most; a segment is never rewritten under its name, so it is immutable.
 */
export function cacheControl(key: string, live: boolean): string {
  if (key.endsWith('.m3u8')) return live ? 'public, max-age=1' : 'public, max-age=2';
  return 'public, max-age=31536000, immutable';
}

/**
 * Serves one media file of the storage driver: streamed from it, or — segments, with
 * S3_PRESIGNED_URLS — a redirect to a presigned URL. A missing file is a 404; a read
 * error or a short file after the headers destroys the response (the client sees an
 * incomplete response, never a short one that looks whole); a client that leaves stops
 * the read.
 */
export async function sendMedia(
  storage: MediaStorage,
  config: AppConfig,
  key: string,
  res: Response,
  opts: { live: boolean; what: string },
): Promise<void> {
  const playlist = key.endsWith('.m3u8');
  res.setHeader('access-control-allow-origin', '*');
  if (!playlist && config.storage.presignedRedirects) {
    const url = await storage.presignedUrl(key, PRESIGNED_SECONDS);
    if (url) {
      res.setHeader('cache-control', `private, max-age=${PRESIGNED_SECONDS - 60}`);
      res.redirect(302, url);
      return;
    }
  }
  const found = await storage.get(key);
  if (!found) throw AppError.notFound(opts.what);
  if (res.destroyed) {
    found.body.destroy();
    return;
  }
  res.setHeader('content-type', playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t');
  res.setHeader('cache-control', cacheControl(key, opts.live));
  res.setHeader('content-length', String(found.size));
  pipeline(found.body, res, () => {});
}
