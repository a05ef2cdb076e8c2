import { DynamicModule, Module, Type } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '../config/env.schema';
import { BrandsHttpModule, BrandsModule } from './brands/brands.module';
import { CatalogHttpModule, CatalogModule, CatalogWorkerModule } from './catalog/catalog.module';
import { ChannelsHttpModule } from './channels/channels-http.module';
import { ChannelsModule } from './channels/channels.module';
import { AppConfigModule } from './common/app-config';
import { CryptoModule } from './common/crypto.module';
import { loggerParams } from './common/logging';
import { RateLimitModule } from './common/rate-limit.module';
import { DatabaseModule } from './database/database.module';
import { DestinationsHttpModule, DestinationsModule } from './destinations/destinations.module';
import { IngestServerModule, SessionsHttpModule, SessionsModule } from './ingest/ingest.module';
import { MediaModule } from './media/media.module';
import { PlaybackHttpModule } from './playback/playback.module';
import { ShoppingHttpModule, ShoppingModule } from './shopping/shopping.module';
import { RelayModule } from './relay/relay.module';
import { RelayWorkerModule } from './relay/relay-worker.module';
import {
  NotificationsHttpModule,
  NotificationsModule,
  NotificationsWorkerModule,
} from './notifications/notifications.module';
import { KeysModule } from './keys/keys.module';
import { OpsModule } from './ops/ops.module';
import { PartnersHttpModule, PartnersModule } from './partners/partners.module';
import { PrivacyHttpModule, PrivacyModule, PrivacyWorkerModule } from './privacy/privacy.module';
import { QueuesModule } from './queues/queues.module';
import {
  OrdersHttpModule,
  OrdersModule,
  OrdersWorkerModule,
} from './shopping/orders/orders.module';
import { StoresHttpModule, StoresModule } from './stores/stores.module';
import { WorkerReadinessCheck } from './queues/worker-readiness';
import { JobSchedules } from './ops/periodic-work';
import {
  RecordingHttpModule,
  RecordingModule,
  RecordingWorkerModule,
} from './recording/recording.module';
import { StorageModule } from './storage/storage.module';

/**
 * Which modules load depends on ROLES:
 * - every role: config, logging, Postgres, queues (producers), services, health;
 * - `api`: the HTTP routes of every feature (…HttpModule);
 * - `worker`: BullMQ processors (…WorkerModule);
 * - `ingest`: the embedded RTMP server.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const imports: Array<Type | DynamicModule> = [
      AppConfigModule.forRoot(config),
      LoggerModule.forRoot(loggerParams(config)),
      CryptoModule,
      DatabaseModule,
      QueuesModule,
      NotificationsModule,
      PartnersModule,
      BrandsModule,
      ChannelsModule,
      DestinationsModule,
      MediaModule,
      StorageModule,
      RelayModule,
      RecordingModule,
      SessionsModule,
      StoresModule,
      CatalogModule,
      ShoppingModule,
      OrdersModule,
      KeysModule,
      PrivacyModule,
      OpsModule.forRoot(config),
    ];
    const providers = [];
    if (config.roles.has('api')) {
      imports.push(
        PartnersHttpModule,
        BrandsHttpModule,
        ChannelsHttpModule,
        DestinationsHttpModule,
        SessionsHttpModule,
        PlaybackHttpModule,
        ShoppingHttpModule,
        NotificationsHttpModule,
        StoresHttpModule,
        CatalogHttpModule,
        OrdersHttpModule,
        PrivacyHttpModule,
        RecordingHttpModule,
      );
      if (config.rateLimitPerMinute > 0) imports.push(RateLimitModule);
    }
    if (config.roles.has('worker')) {
      imports.push(
        NotificationsWorkerModule,
        RelayWorkerModule,
        CatalogWorkerModule,
        OrdersWorkerModule,
        PrivacyWorkerModule,
        RecordingWorkerModule,
      );
      providers.push(WorkerReadinessCheck, JobSchedules);
    }
    if (config.roles.has('ingest')) imports.push(IngestServerModule);
    return { module: AppModule, imports, providers };
  }
}
