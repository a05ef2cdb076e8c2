import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../../config/env.schema';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export type WithId = IncomingMessage;

/** Keeps a well-formed incoming x-request-id, else makes one; always echoes it. */
export function requestId(req: WithId, res: ServerResponse): string {
  const existing = (req as { id?: unknown }).id;
  if (typeof existing === 'string' && existing) return existing;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
  (req as { id?: unknown }).id = id;
  res.setHeader('x-request-id', id);
  return id;
}

/** First middleware of the app, so even body-parser errors carry the request id. */
export function requestIdMiddleware(req: WithId, res: ServerResponse, next: () => void): void {
  requestId(req, res);
  next();
}

/** Paths are logged without their query: OAuth codes and HMACs travel there. */
function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0];
}

/**
 * Header values and body fields that must never reach a log line, wherever they appear.
 * (Stream keys are never logged by construction: they are hashed or encrypted.)
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-shopify-hmac-sha256"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.streamKey',
  '*.secret',
  '*.accessToken',
  '*.token',
  '*.password',
  // Buyers' personal data (sealed at rest; never meant for a log line either).
  '*.customer',
  '*.email',
  '*.shippingAddress',
  '*.billingAddress',
];

/** Whether log lines are for a person (pino-pretty) or for a collector (JSON lines). */
export function prettyLogs(format: AppConfig['logFormat'], stdoutIsTty: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTty);
}

/**
 * Nest's own start-up lines (one per route, module and provider: ~110 of them) go to
 * debug; main.ts logs one summary instead.
 */
export const QUIET_NEST_CONTEXTS = new Set([
  'RouterExplorer',
  'RoutesResolver',
  'InstanceLoader',
  'NestFactory',
  'NestApplication',
]);

export function loggerParams(config: AppConfig): Params {
  const pretty = prettyLogs(config.logFormat, process.stdout.isTTY === true);
  return {
    pinoHttp: {
      level: config.logLevel,
      ...(pretty
        ? {
            transport: {
              target: 'pino-pretty',
              options: {
                colorize: true,
                translateTime: 'SYS:HH:MM:ss.l',
                ignore: 'pid,hostname,summary',
              },
            },
          }
        : {}),
      genReqId: (req, res) => requestId(req as WithId, res),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: pathOnly(req.url),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: {
        ignore: (req) => /^\/(health|metrics)(\/|$)/.test(req.url ?? ''),
      },
      quietReqLogger: true,
    },
  };
}
