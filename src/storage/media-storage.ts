import type { Readable } from 'node:stream';

/** What a stored object is served as: its bytes (streamed), their length and type. */
export interface StoredObject {
  body: Readable;
  size: number;
  contentType: string;
}

/**
 * Where HLS renditions and recordings live (STORAGE_DRIVER): a flat key space like
 * `hls/<destinationId>/index.m3u8` or `recordings/<sessionId>/seg_000012.ts`. Workers
 * write, the api role reads; with `s3` they need not share a disk.
 */
export interface MediaStorage {
  readonly driver: 'local' | 's3';
  /** Writes the whole object at once (readers see the old or the new one, never a part). */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Uploads a local file (large ones in parts: S3 multipart). */
  putFile(key: string, path: string, contentType: string): Promise<number>;
  /** The object, or null when there is none. */
  get(key: string): Promise<StoredObject | null>;
  /** The whole object as a buffer, or null (small objects: playlists). */
  read(key: string): Promise<Buffer | null>;
  /** Deletes one object (none there: nothing happens). */
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix` (a folder: ends with `/`). */
  deletePrefix(prefix: string): Promise<void>;
  /** A time-limited URL that serves the object without us, or null when the driver has none. */
  presignedUrl(key: string, expiresSeconds: number): Promise<string | null>;
}

export const MEDIA_STORAGE = Symbol('MEDIA_STORAGE');

/** The content type of a media file by its name. */
export function mediaContentType(key: string): string {
  if (key.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (key.endsWith('.ts')) return 'video/mp2t';
  return 'application/octet-stream';
}

/** Keys are ours, never a client's: refuse anything that could leave its folder. */
export function assertKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) || key.includes('..') || key.includes('//')) {
    throw new Error(`invalid storage key "${key}"`);
  }
}
