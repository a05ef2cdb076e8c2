import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * The one place that turns environment variables into typed configuration.
 * Every variable of CONFIG.md is parsed here; a bad value is collected, not thrown,
 * so that start-up fails with a single message naming every bad variable.
 */

export const ALL_ROLES = ['api', 'worker', 'ingest'] as const;
export type Role = (typeof ALL_ROLES)[number];

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface AppConfig {
  nodeEnv: string;
  port: number;
  host: string;
  publicBaseUrl: string;
  /** port 0 = ephemeral (tests): the ingest server writes back the port it got. */
  rtmp: {
    port: number;
    publicHost: string;
    internalHost: string;
    /** RTMPS ingest (all three variables or none). port 0 = ephemeral (tests). */
    tls: { port: number; certFile: string; keyFile: string } | null;
    /** All ingest connections at once. */
    maxConnections: number;
    /** Connections from one address that have not yet published or played a stream. */
    maxConnectionsPerIp: number;
  };
  databaseUrl: string;
  migrationsRun: boolean;
  redisUrl: string;
  queuePrefix: string;
  roles: ReadonlySet<Role>;
  adminToken: string | null;
  /** The first key encrypts; all of them decrypt (rotation). */
  encryptionKeys: EncryptionKey[];
  encryptionKeysAreDevelopmentDefault: boolean;
  ops: { user: string; password: string } | null;
  egressAllowPrivateNetworks: boolean;
  ffmpegPath: string;
  /** The whole environment ffmpeg gets (PATH only: no secret of ours). */
  ffmpegEnv: Record<string, string>;
  mediaDir: string;
  /**
   * Destinations of a stream with the same encode share one encoder (true). false runs
   * one encoder per destination: for benchmarks comparing the two only.
   */
  relaySharedEncoders: boolean;
  shopify: {
    apiKey: string | null;
    apiSecret: string | null;
    scopes: string[];
    apiVersion: string;
    apiOrigin: string | null;
    /** How often a waiting import asks the store about its bulk operation (webhook missing). */
    bulkPollIntervalMs: number;
  };
  reconcileIntervalMs: number;
  /** First retry delay of an outbound webhook delivery; later ones grow from it. */
  webhookRetryBaseMs: number;
  /** How long a buyer's personal data is kept after its order reached a final state. */
  buyerDataRetentionMs: number;
  /** API requests per minute per API key and per client address; 0 = not limited. */
  rateLimitPerMinute: number;
  /** Caps per partner (409 LIMIT_REACHED). */
  limits: { destinationsPerChannel: number; transcodesPerPartner: number };
  logLevel: string;
  /** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
  logFormat: 'auto' | 'pretty' | 'json';
  /** STORAGE_DRIVER: where HLS renditions and recordings go (src/storage). */
  storage: {
    driver: 'local' | 's3';
    s3: {
      endpoint: string | null;
      bucket: string;
      region: string;
      accessKeyId: string | null;
      secretAccessKey: string | null;
      forcePathStyle: boolean;
    } | null;
    /** S3_PRESIGNED_URLS: segments answered with a redirect to a presigned URL. */
    presignedRedirects: boolean;
  };
  /** RECORDING_RETENTION: recordings older than this are deleted. */
  recordingRetentionMs: number;
}

export class ConfigValidationError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** A fixed, public development key. Never use it for real data: a warning is logged. */
const DEVELOPMENT_ENCRYPTION_KEY = 'dev:Y2FzdGJyaWRnZS1kZXZlbG9wbWVudC1rZXktMDAwMDA=';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

type Env = Record<string, string | undefined>;

/** Shortest ADMIN_TOKEN / OPS_PASSWORD accepted with NODE_ENV=production. */
export const MIN_PRODUCTION_SECRET_LENGTH = 24;

/**
 * Values that are public (placeholders, examples, the tests' token): refused as
 * ADMIN_TOKEN or OPS_PASSWORD in production whatever their length. Compared lowercased.
 */
const WELL_KNOWN_SECRETS = new Set([
  'change-me',
  'changeme',
  'admin',
  'administrator',
  'secret',
  'password',
  'passw0rd',
  'dev-admin',
  'test',
  'castbridge',
  'test-admin-token-0123456789',
  'change-me-to-a-long-random-value',
]);

/** Why a secret is too weak for production, or null. Never includes the value. */
export function weakSecretReason(value: string): string | null {
  if (WELL_KNOWN_SECRETS.has(value.trim().toLowerCase())) return 'is a well-known value';
  if (value.length < MIN_PRODUCTION_SECRET_LENGTH) {
    return `is shorter than ${MIN_PRODUCTION_SECRET_LENGTH} characters`;
  }
  if (new Set(value).size < 6) return 'repeats too few distinct characters';
  return null;
}

export function resolveFfmpegPath(env: Env): string {
  if (env.FFMPEG_PATH) return env.FFMPEG_PATH;
  try {
    // ffmpeg-static is optional: its install cannot always download the binary.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const candidate = require('ffmpeg-static') as string | null;
    if (candidate && existsSync(candidate)) return candidate;
  } catch {
    /* not installed */
  }
  return 'ffmpeg';
}

export function parseDuration(value: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) return null;
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms'];
}

/**
 * ENCRYPTION_KEYS (`keyId:base64key,…`, the first one encrypts) as keys, or the problem
 * (never echoing a value: they are secrets). Also used by the migration that seals data
 * kept in clear before.
 */
export function parseEncryptionKeys(raw: string): EncryptionKey[] | string {
  const keys: EncryptionKey[] = [];
  for (const pair of raw.split(',').map((p) => p.trim())) {
    const idx = pair.indexOf(':');
    const id = idx > 0 ? pair.slice(0, idx) : '';
    const key = Buffer.from(idx > 0 ? pair.slice(idx + 1) : '', 'base64');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      return 'ENCRYPTION_KEYS must be keyId:base64key pairs with 32-byte keys';
    }
    if (keys.some((k) => k.id === id)) return `ENCRYPTION_KEYS repeats key id "${id}"`;
    keys.push({ id, key });
  }
  return keys;
}

export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const v = env[name];
    return v === undefined || v === '' ? fallback : v;
  };
  const optional = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v === '' ? null : v;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const v = str(name, fallback);
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${u.protocol}")`);
      }
    } catch {
      problems.push(`${name} must be a URL`);
    }
    return v;
  };

  const roles = new Set<Role>();
  for (const part of str('ROLES', ALL_ROLES.join(','))
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)) {
    if ((ALL_ROLES as readonly string[]).includes(part)) roles.add(part as Role);
    else problems.push(`ROLES contains unknown role "${part}" (allowed: ${ALL_ROLES.join(', ')})`);
  }
  if (roles.size === 0) problems.push('ROLES must name at least one role');

  const encryptionRaw = str('ENCRYPTION_KEYS', DEVELOPMENT_ENCRYPTION_KEY);
  const parsedKeys = parseEncryptionKeys(encryptionRaw);
  if (typeof parsedKeys === 'string') problems.push(parsedKeys);
  const encryptionKeys: EncryptionKey[] = typeof parsedKeys === 'string' ? [] : parsedKeys;

  const opsUser = optional('OPS_USER');
  const opsPassword = optional('OPS_PASSWORD');
  if ((opsUser === null) !== (opsPassword === null)) {
    problems.push('OPS_USER and OPS_PASSWORD must be set together');
  }

  const logFormat = str('LOG_FORMAT', 'auto');
  if (!['auto', 'pretty', 'json'].includes(logFormat)) {
    problems.push(`LOG_FORMAT must be auto, pretty or json (got "${logFormat}")`);
  }
  const logLevel = str('LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const reconcileRaw = str('RECONCILE_INTERVAL', '15m');
  const reconcileIntervalMs = parseDuration(reconcileRaw);
  if (reconcileIntervalMs === null || reconcileIntervalMs < 1000) {
    problems.push(
      `RECONCILE_INTERVAL must be a duration like 30s, 15m or 1h (got "${reconcileRaw}")`,
    );
  }

  const webhookRetryRaw = str('WEBHOOK_RETRY_BASE', '5s');
  const webhookRetryBaseMs = parseDuration(webhookRetryRaw);
  if (webhookRetryBaseMs === null || webhookRetryBaseMs < 10 || webhookRetryBaseMs > 3_600_000) {
    problems.push(
      `WEBHOOK_RETRY_BASE must be a duration from 10ms to 1h, like 5s (got "${webhookRetryRaw}")`,
    );
  }

  const retentionRaw = str('BUYER_DATA_RETENTION', '30d');
  const buyerDataRetentionMs = parseDuration(retentionRaw);
  if (buyerDataRetentionMs === null || buyerDataRetentionMs < 1000) {
    problems.push(
      `BUYER_DATA_RETENTION must be a duration of at least 1s, like 30d, 12h or 90m (got "${retentionRaw}")`,
    );
  }

  const shopifyOrigin = optional('SHOPIFY_API_ORIGIN');
  if (shopifyOrigin !== null) url('SHOPIFY_API_ORIGIN', shopifyOrigin, ['http:', 'https:']);

  const apiVersion = str('SHOPIFY_API_VERSION', '2026-10');
  const bulkPollRaw = str('SHOPIFY_BULK_POLL_INTERVAL', '10s');
  const bulkPollIntervalMs = parseDuration(bulkPollRaw);
  if (bulkPollIntervalMs === null || bulkPollIntervalMs < 100 || bulkPollIntervalMs > 3_600_000) {
    problems.push(
      `SHOPIFY_BULK_POLL_INTERVAL must be a duration from 100ms to 1h, like 10s (got "${bulkPollRaw}")`,
    );
  }
  if (!/^\d{4}-\d{2}$/.test(apiVersion)) {
    problems.push(`SHOPIFY_API_VERSION must look like 2025-10 (got "${apiVersion}")`);
  }

  const queuePrefix = str('QUEUE_PREFIX', 'castbridge');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(queuePrefix)) {
    problems.push('QUEUE_PREFIX may contain only letters, digits, "_", "." and "-"');
  }

  const mediaDir = str('MEDIA_DIR', './var/media');

  const storageDriver = str('STORAGE_DRIVER', 'local');
  if (storageDriver !== 'local' && storageDriver !== 's3') {
    problems.push(`STORAGE_DRIVER must be local or s3 (got "${storageDriver}")`);
  }
  let s3: AppConfig['storage']['s3'] = null;
  if (storageDriver === 's3') {
    const bucket = optional('S3_BUCKET');
    if (!bucket) problems.push('S3_BUCKET must be set with STORAGE_DRIVER=s3');
    const endpoint = optional('S3_ENDPOINT');
    if (endpoint !== null) url('S3_ENDPOINT', endpoint, ['http:', 'https:']);
    const accessKeyId = optional('S3_ACCESS_KEY_ID');
    const secretAccessKey = optional('S3_SECRET_ACCESS_KEY');
    if ((accessKeyId === null) !== (secretAccessKey === null)) {
      problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
    }
    s3 = {
      endpoint,
      bucket: bucket ?? '',
      region: str('S3_REGION', 'us-east-1'),
      accessKeyId,
      secretAccessKey,
      forcePathStyle: bool('S3_FORCE_PATH_STYLE', false),
    };
  }
  const presignedRedirects = bool('S3_PRESIGNED_URLS', false);
  if (presignedRedirects && storageDriver !== 's3') {
    problems.push('S3_PRESIGNED_URLS needs STORAGE_DRIVER=s3');
  }
  const recordingRetentionRaw = str('RECORDING_RETENTION', '30d');
  const recordingRetentionMs = parseDuration(recordingRetentionRaw);
  if (recordingRetentionMs === null || recordingRetentionMs < 1000) {
    problems.push(
      `RECORDING_RETENTION must be a duration like 12h or 30d (got "${recordingRetentionRaw}")`,
    );
  }

  const rtmpsPort = optional('RTMPS_PORT');
  const rtmpsCert = optional('RTMPS_CERT_FILE');
  const rtmpsKey = optional('RTMPS_KEY_FILE');
  const rtmpsSet = [rtmpsPort, rtmpsCert, rtmpsKey].filter((v) => v !== null).length;
  if (rtmpsSet !== 0 && rtmpsSet !== 3) {
    problems.push('RTMPS_PORT, RTMPS_CERT_FILE and RTMPS_KEY_FILE must be set together');
  }
  for (const [name, file] of [
    ['RTMPS_CERT_FILE', rtmpsCert],
    ['RTMPS_KEY_FILE', rtmpsKey],
  ] as const) {
    if (file !== null && !existsSync(file))
      problems.push(`${name} names a file that does not exist`);
  }
  const rtmpsTls =
    rtmpsSet === 3
      ? {
          port: int('RTMPS_PORT', 0, 0, 65535),
          certFile: rtmpsCert as string,
          keyFile: rtmpsKey as string,
        }
      : null;

  const config: AppConfig = {
    nodeEnv: str('NODE_ENV', 'development'),
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST', '0.0.0.0'),
    publicBaseUrl: url('PUBLIC_BASE_URL', 'http://localhost:3000', ['http:', 'https:']).replace(
      /\/+$/,
      '',
    ),
    rtmp: {
      port: int('RTMP_PORT', 1935, 0, 65535),
      publicHost: str('RTMP_PUBLIC_HOST', 'localhost'),
      internalHost: str('INGEST_INTERNAL_HOST', '127.0.0.1'),
      tls: rtmpsTls,
      maxConnections: int('RTMP_MAX_CONNECTIONS', 1000, 1, 1_000_000),
      maxConnectionsPerIp: int('RTMP_MAX_CONNECTIONS_PER_IP', 10, 1, 100_000),
    },
    databaseUrl: url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/castbridge', [
      'postgres:',
      'postgresql:',
    ]),
    migrationsRun: bool('MIGRATIONS_RUN', true),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix,
    roles,
    adminToken: optional('ADMIN_TOKEN'),
    encryptionKeys,
    encryptionKeysAreDevelopmentDefault: encryptionRaw === DEVELOPMENT_ENCRYPTION_KEY,
    ops: opsUser && opsPassword ? { user: opsUser, password: opsPassword } : null,
    egressAllowPrivateNetworks: bool('EGRESS_ALLOW_PRIVATE_NETWORKS', false),
    ffmpegPath: resolveFfmpegPath(env),
    ffmpegEnv: { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin' },
    mediaDir: isAbsolute(mediaDir) ? mediaDir : resolve(process.cwd(), mediaDir),
    relaySharedEncoders: bool('RELAY_SHARED_ENCODERS', true),
    shopify: {
      apiKey: optional('SHOPIFY_API_KEY'),
      apiSecret: optional('SHOPIFY_API_SECRET'),
      scopes: str(
        'SHOPIFY_SCOPES',
        'read_products,read_inventory,read_locations,write_orders,read_orders',
      )
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      apiVersion,
      apiOrigin: shopifyOrigin ? shopifyOrigin.replace(/\/+$/, '') : null,
      bulkPollIntervalMs: bulkPollIntervalMs ?? 10_000,
    },
    reconcileIntervalMs: reconcileIntervalMs ?? 15 * 60_000,
    webhookRetryBaseMs: webhookRetryBaseMs ?? 5000,
    buyerDataRetentionMs: buyerDataRetentionMs ?? 30 * 86_400_000,
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    limits: {
      destinationsPerChannel: int('MAX_DESTINATIONS_PER_CHANNEL', 50, 1, 10_000),
      transcodesPerPartner: int('MAX_TRANSCODES_PER_PARTNER', 8, 0, 10_000),
    },
    logLevel,
    logFormat: logFormat as AppConfig['logFormat'],
    storage: {
      driver: storageDriver === 's3' ? 's3' : 'local',
      s3,
      presignedRedirects,
    },
    recordingRetentionMs: recordingRetentionMs ?? 30 * 86_400_000,
  };
  // Production refuses what only suits a development machine (never echoing a value).
  if (config.nodeEnv === 'production') {
    if (config.encryptionKeysAreDevelopmentDefault) {
      problems.push(
        'ENCRYPTION_KEYS must be set with NODE_ENV=production (the development key is public)',
      );
    }
    const adminWeak = config.adminToken === null ? null : weakSecretReason(config.adminToken);
    if (adminWeak) problems.push(`ADMIN_TOKEN ${adminWeak} (NODE_ENV=production)`);
    const opsWeak = opsPassword === null ? null : weakSecretReason(opsPassword);
    if (opsWeak) problems.push(`OPS_PASSWORD ${opsWeak} (NODE_ENV=production)`);
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

/** Loads `.env` (when present) into the environment, then validates it. */
export function loadConfigFromProcess(): AppConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('dotenv').config({ quiet: true });
  return loadConfig(process.env);
}
