import { join } from 'node:path';

/** Where an HLS rendition's playlist and segments live under MEDIA_DIR (one folder each). */
export function hlsDir(mediaDir: string, renditionId: string): string {
  return join(mediaDir, 'hls', renditionId);
}
