import { INestApplication, Logger } from '@nestjs/common';
import { redactText } from './common/redact';
import { ConfigValidationError, loadConfigFromProcess, type AppConfig } from '../config/env.schema';
import { createAppWithReport } from './bootstrap';
import { probeFfmpeg } from './ops/ffmpeg-probe';
import { findOnPath, startupSummary } from './ops/startup-summary';

/** Time a graceful stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 30_000;

/**
 * SIGTERM/SIGINT: stop taking work and close every module (HTTP server, BullMQ workers,
 * child processes) through Nest's shutdown hooks, then exit 0 — or 1 at the deadline.
 */
function installShutdown(app: INestApplication, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Exit code after an exception nothing handled (EX_SOFTWARE). */
const CRASH_EXIT_CODE = 70;

/**
 * What the process does on a truly unexpected exception (one no connection, job or
 * request handler contained): log it once, redacted, and exit at once with 70. Its
 * state can no longer be trusted, and nothing needs it: rows and jobs are durable, a
 * dead worker's relay jobs are taken over by another within seconds (4 s locks), its
 * ffmpegs end with it (stdin EOF and the exit hook), its live sessions are ended by the
 * orphan sweep and creators reconnect. A supervisor (systemd, Kubernetes, compose
 * `restart:`) starts it again. Peer input never gets here: see src/media/.
 */
function installCrashHandler(logger: Logger): void {
  const crash = (kind: string) => (err: unknown) => {
    const e = err as Error;
    logger.fatal(
      redactText(`${kind}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}\n${e?.stack ?? ''}`),
    );
    process.exit(CRASH_EXIT_CODE);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = new Logger('Castbridge');
  installCrashHandler(logger);
  const { app, database } = await createAppWithReport(config);
  // (With NODE_ENV=production the configuration refuses the development key.)
  if (config.encryptionKeysAreDevelopmentDefault) {
    logger.warn(
      'ENCRYPTION_KEYS is not set: using the public development key. Never use it for real data.',
    );
  }
  installShutdown(app, logger);
  await app.listen(config.port, config.host);
  const ffmpegPath = findOnPath(config.ffmpegPath, config.ffmpegEnv.PATH);
  const version = ffmpegPath ? await probeFfmpeg(ffmpegPath).catch(() => null) : null;
  const summary = startupSummary({
    config,
    database,
    rtmpPort: config.roles.has('ingest') ? config.rtmp.port : null,
    ffmpeg: { path: ffmpegPath, version },
    dashboard: config.roles.has('api') && config.ops !== null,
  });
  logger.log({ summary: summary.fields, msg: summary.text });
}

main().catch((err: Error) => {
  process.stderr.write(`Castbridge failed to start: ${err.message}\n`);
  process.exit(1);
});
