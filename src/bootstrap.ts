import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '../config/env.schema';
import { AppModule } from './app.module';
import { bodyParserErrorTranslator, HttpExceptionFilter } from './common/http-exception.filter';
import { MAX_BODY_BYTES } from './common/http-limits';
import { buildOpenApiDocument } from './common/openapi';
import { QUIET_NEST_CONTEXTS, requestIdMiddleware } from './common/logging';
import { storableTextMiddleware } from './common/storable-text';
import { createValidationPipe } from './common/validation';
import { type DatabasePreparation, prepareDatabase } from './database/prepare-database';
import { MetricsService } from './ops/metrics.service';

/**
 * Builds the application for a validated configuration: creates the database and runs
 * migrations (under a lock), then wires Nest. Used by main.ts and by the tests.
 */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  return (await createAppWithReport(config)).app;
}

/** createApp, with what it did to the database (main.ts's start-up summary says it). */
export async function createAppWithReport(
  config: AppConfig,
): Promise<{ app: NestExpressApplication; database: DatabasePreparation }> {
  const database = await prepareDatabase(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
  });
  app.useLogger(quietStartLogger(app.get(Logger)));
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
  return { app, database };
}

/** The app's logger, with Nest's per-route and per-module start-up lines at debug. */
function quietStartLogger(pino: Logger): LoggerService {
  const quiet = (optional: unknown[]) => QUIET_NEST_CONTEXTS.has(String(optional.at(-1)));
  return {
    log: (m: unknown, ...o: unknown[]) => (quiet(o) ? pino.debug(m, ...o) : pino.log(m, ...o)),
    error: (m: unknown, ...o: unknown[]) => pino.error(m, ...o),
    warn: (m: unknown, ...o: unknown[]) => pino.warn(m, ...o),
    debug: (m: unknown, ...o: unknown[]) => pino.debug(m, ...o),
    verbose: (m: unknown, ...o: unknown[]) => pino.verbose(m, ...o),
    fatal: (m: unknown, ...o: unknown[]) => pino.fatal(m, ...o),
  };
}
