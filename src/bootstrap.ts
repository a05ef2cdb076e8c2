import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '../config/env.schema';
import { AppModule } from './app.module';
import { bodyParserErrorTranslator, HttpExceptionFilter } from './common/http-exception.filter';
import { requestIdMiddleware } from './common/logging';
import { createValidationPipe } from './common/validation';
import { prepareDatabase } from './database/prepare-database';
import { MetricsService } from './ops/metrics.service';
import { rawBodyCapture } from './stores/webhooks/raw-body.middleware';

/** Largest accepted request body (inbound store webhooks included). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Builds the application for a validated configuration: creates the database and runs
 * migrations (under a lock), then wires Nest. Used by main.ts and by the tests.
 */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  await prepareDatabase(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    // The raw body is kept for signature checks (inbound webhooks).
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  // Order matters: request id and metrics first (they see every response), then parsers,
  // then the translation of their errors.
  app.use(requestIdMiddleware);
  app.use(app.get(MetricsService).httpMiddleware());
  // Inbound store webhooks are signed over their exact bytes: keep them raw (1 MB, else 413).
  app.use('/webhooks/shopify', rawBodyCapture(MAX_BODY_BYTES));
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.useBodyParser('urlencoded', { limit: MAX_BODY_BYTES, extended: false });
  app.use(bodyParserErrorTranslator);
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());

  if (config.roles.has('api')) {
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Castbridge API')
        .setDescription('Simulcast and commerce-sync broker for live shopping (API.md v1)')
        .setVersion('1')
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
        .addBearerAuth(
          { type: 'http', scheme: 'bearer', description: 'partner API key' },
          'partner',
        )
        .build(),
    );
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  }
  return app;
}
