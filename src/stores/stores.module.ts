import { Module, Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrandsModule } from '../brands/brands.module';
import { ComplianceRequestsService } from './compliance/compliance-requests.service';
import { OAuthCallbackController } from './oauth-callback.controller';
import { ShopifyProvider } from './providers/shopify/shopify.provider';
import { STORE_PROVIDERS, StoreProvider } from './providers/store-provider';
import { StoreConnection } from './store-connection.entity';
import { StoreConnectionsController } from './store-connections.controller';
import { StoreConnectionsService } from './store-connections.service';
import { StoreConnectionSyncState } from './store-connection-sync-state.service';
import { StoreCredentials } from './store-credentials.service';
import { StoreOAuthService } from './store-oauth.service';
import { StoreProviders } from './store-providers';
import { StoreTokens } from './store-tokens.service';
import { InboundEventSource } from './webhooks/inbound-event-source.service';
import { InboundEventsService } from './webhooks/inbound-events.service';
import { InboundKicker } from './webhooks/inbound-kicker.service';
import { StoreWebhooksRoute } from './webhooks/store-webhooks.route';

/** Every shop platform Castbridge links to: adding one is a folder in providers/ and a line here. */
const STORE_PROVIDER_CLASSES: Type<StoreProvider>[] = [ShopifyProvider];

/**
 * Store connections (reads and CRUD), the OAuth install, their credentials and sync state,
 * providers, and the inbound webhook record: every role.
 */
@Module({
  imports: [TypeOrmModule.forFeature([StoreConnection]), BrandsModule],
  providers: [
    ...STORE_PROVIDER_CLASSES,
    {
      provide: STORE_PROVIDERS,
      inject: STORE_PROVIDER_CLASSES,
      useFactory: (...providers: StoreProvider[]) => providers,
    },
    StoreProviders,
    StoreConnectionsService,
    StoreOAuthService,
    StoreCredentials,
    StoreConnectionSyncState,
    StoreTokens,
    ComplianceRequestsService,
    InboundEventsService,
    InboundEventSource,
    InboundKicker,
  ],
  exports: [
    StoreTokens,
    ComplianceRequestsService,
    StoreProviders,
    StoreConnectionsService,
    StoreOAuthService,
    StoreCredentials,
    StoreConnectionSyncState,
    InboundEventsService,
    InboundEventSource,
    InboundKicker,
  ],
})
export class StoresModule {}

/** HTTP routes (`api` role): the store-connection API, the OAuth callback, inbound webhooks. */
@Module({
  imports: [StoresModule],
  controllers: [StoreConnectionsController, OAuthCallbackController],
  providers: [StoreWebhooksRoute],
})
export class StoresHttpModule {}
