import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '../config/env.schema';
import { AppModule } from './app.module';
import { bodyParserErrorTranslator, HttpExceptionFilter } from './common/http-exception.filter';
import { MAX_BODY_BYTES } from './common/http-limits';
import { buildOpenApiDocument } from './common/openapi';
import { requestIdMiddleware } from './common/logging';
import { storableTextMiddleware } from './common/storable-text';
import { createValidationPipe } from './common/validation';
import { prepareDatabase } from './database/prepare-database';
import { MetricsService } from './ops/metrics.service';

/**
 * Builds the application for a validated configuration: creates the database and runs
 * migrations (under a lock), then wires Nest. Used by main.ts and by the tests.
 */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  await prepareDatabase(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  // Order matters: request id and metrics first (they see every response), then parsers,
  // then the translation of their errors, then text Postgres could not store (any route).
  app.use(requestIdMiddleware);
  app.use(app.get(MetricsService).httpMiddleware());
  // Inbound store webhooks (POST /webhooks/<provider>) never get here: StoreWebhooksRoute
  // serves them ahead of Express, reading their raw bytes itself.
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.useBodyParser('urlencoded', { limit: MAX_BODY_BYTES, extended: false });
  app.use(bodyParserErrorTranslator);
  app.use(storableTextMiddleware);
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());

  if (config.roles.has('api')) {
    const doc = buildOpenApiDocument(app);
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}
