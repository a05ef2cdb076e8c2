import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { assertKey, mediaContentType, MediaStorage, StoredObject } from './media-storage';

/** What a missing file looks like to open() and fstat(): none, anything else is an error. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ESTALE', 'EISDIR']);

/**
 * Opens `path` once and reads its size from the open descriptor, so that what is sent is
 * the file that was found even if it is deleted or replaced right after. null when there
 * is no such regular file.
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
function exactly(size: number): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(sent < size ? new Error(`file ended after ${sent} of ${size} bytes`) : null);
    },
  });
}

/**
 * STORAGE_DRIVER=local: objects are files under MEDIA_DIR (`<MEDIA_DIR>/<key>`), written
 * to a temporary name and renamed into place. The api and worker roles must share
 * MEDIA_DIR (one machine, or a shared volume).
 */
export class LocalStorage implements MediaStorage {
  readonly driver = 'local' as const;

  constructor(private readonly root: string) {}

  path(key: string): string {
    assertKey(key);
    return join(this.root, key);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  async putFile(key: string, source: string): Promise<number> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await copyFile(source, tmp);
    await rename(tmp, path);
    const found = await openFile(path);
    if (!found) return 0;
    await found.handle.close();
    return found.size;
  }

  async get(key: string): Promise<StoredObject | null> {
    const found = await openFile(this.path(key));
    if (!found) return null;
    const { handle, size } = found;
    const contentType = mediaContentType(key);
    if (size === 0) {
      await handle.close().catch(() => undefined);
      return { body: createReadStream('/dev/null'), size, contentType };
    }
    const stream = handle.createReadStream({ start: 0, end: size - 1 });
    const body = stream.pipe(exactly(size));
    stream.on('error', (e) => body.destroy(e));
    body.on('close', () => stream.destroy());
    return { body, size, contentType };
  }

  async read(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertKey(prefix);
    if (!prefix.endsWith('/')) throw new Error('deletePrefix takes a folder (ending with "/")');
    await rm(join(this.root, prefix), { recursive: true, force: true });
  }

  presignedUrl(): Promise<string | null> {
    return Promise.resolve(null);
  }
}
