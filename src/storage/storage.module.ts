import { Global, Module, OnApplicationShutdown, Inject } from '@nestjs/common';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { LocalStorage } from './local-storage';
import { MEDIA_STORAGE, MediaStorage } from './media-storage';
import { S3Storage } from './s3-storage';

/** The storage driver STORAGE_DRIVER names. */
export function createMediaStorage(config: AppConfig): MediaStorage {
  const s = config.storage;
  return s.driver === 's3' && s.s3 ? new S3Storage(s.s3) : new LocalStorage(config.mediaDir);
}

class StorageCloser implements OnApplicationShutdown {
  constructor(@Inject(MEDIA_STORAGE) private readonly storage: MediaStorage) {}
  onApplicationShutdown(): void {
    if (this.storage instanceof S3Storage) this.storage.destroy();
  }
}

/** The media storage (every role): live renditions and recordings (src/storage). */
@Global()
@Module({
  providers: [
    { provide: MEDIA_STORAGE, useFactory: createMediaStorage, inject: [APP_CONFIG] },
    StorageCloser,
  ],
  exports: [MEDIA_STORAGE],
})
export class StorageModule {}
