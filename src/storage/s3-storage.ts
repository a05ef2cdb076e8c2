import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { assertKey, MediaStorage, StoredObject } from './media-storage';

export interface S3Settings {
  endpoint: string | null;
  bucket: string;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  forcePathStyle: boolean;
}

/** Files above this go up in parts (S3's minimum part size is 5 MiB). */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
const PART_SIZE = 5 * 1024 * 1024;

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * STORAGE_DRIVER=s3: any S3-compatible store (S3_ENDPOINT, S3_BUCKET, S3_REGION,
 * S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY or the SDK's default credential chain,
 * S3_FORCE_PATH_STYLE). Large files are uploaded with multipart uploads (lib-storage).
 */
export class S3Storage implements MediaStorage {
  readonly driver = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly s: S3Settings) {
    this.client = new S3Client({
      region: s.region,
      endpoint: s.endpoint ?? undefined,
      forcePathStyle: s.forcePathStyle,
      credentials:
        s.accessKeyId && s.secretAccessKey
          ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
          : undefined,
    });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    assertKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.s.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
      }),
    );
  }

  async putFile(key: string, path: string, contentType: string): Promise<number> {
    assertKey(key);
    const { size } = await stat(path);
    if (size < MULTIPART_THRESHOLD) {
      const { readFile } = await import('node:fs/promises');
      await this.put(key, await readFile(path), contentType);
      return size;
    }
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.s.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentType: contentType,
      },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
    return size;
  }

  async get(key: string): Promise<StoredObject | null> {
    assertKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: key }));
      return {
        body: out.Body as Readable,
        size: Number(out.ContentLength ?? 0),
        contentType: out.ContentType ?? 'application/octet-stream',
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async read(key: string): Promise<Buffer | null> {
    const found = await this.get(key);
    if (!found) return null;
    const chunks: Buffer[] = [];
    for await (const c of found.body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: key }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    assertKey(prefix);
    if (!prefix.endsWith('/')) throw new Error('deletePrefix takes a folder (ending with "/")');
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.s.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length) {
        await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.s.bucket,
            Delete: { Objects: keys, Quiet: true },
          }),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  presignedUrl(key: string, expiresSeconds: number): Promise<string | null> {
    assertKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.s.bucket, Key: key }), {
      expiresIn: expiresSeconds,
    });
  }

  /** Object keys under `prefix` (tests and diagnostics). */
  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.s.bucket,
          Prefix: prefix,
          ContinuationToken: token,
        }),
      );
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  destroy(): void {
    this.client.destroy();
  }
}
