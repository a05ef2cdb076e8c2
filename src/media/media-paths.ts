import { join } from 'node:path';

/** The storage folder (key prefix) of a brand-site rendition: playlist and segments. */
export function hlsKeyPrefix(destinationId: string): string {
  return `hls/${destinationId}/`;
}

/**
 * Where an HLS rendition's playlist and segments live with STORAGE_DRIVER=local (the
 * local driver keeps key `k` at `<MEDIA_DIR>/k`).
 */
export function hlsDir(mediaDir: string, renditionId: string): string {
  return join(mediaDir, 'hls', renditionId);
}

/** A worker's own scratch folder, where ffmpeg packages before the publisher stores it. */
export function scratchDir(mediaDir: string, kind: 'hls' | 'recordings', id: string): string {
  return join(mediaDir, 'scratch', kind, id);
}
