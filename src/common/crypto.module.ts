import { Global, Module } from '@nestjs/common';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from './app-config';
import { SecretBox } from './secret-box';

/** Provides the one SecretBox (ENCRYPTION_KEYS) for secrets kept at rest. */
@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new SecretBox(config.encryptionKeys),
    },
  ],
  exports: [SecretBox],
})
export class CryptoModule {}
