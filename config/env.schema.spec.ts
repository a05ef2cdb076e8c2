import {
  ConfigValidationError,
  loadConfig,
  parseDuration,
  resolveFfmpegPath,
  weakSecretReason,
} from './env.schema';

/** The problems loadConfig names for `env` ([] when it loads). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigValidationError)) throw e;
    return e.problems;
  }
}

describe('loadConfig', () => {
  it('starts with no variable set, on the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.publicBaseUrl).toBe('http://localhost:3000');
    expect(c.rtmp).toEqual({
      port: 1935,
      publicHost: 'localhost',
      internalHost: '127.0.0.1',
      tls: null,
      maxConnections: 1000,
      maxConnectionsPerIp: 10,
    });
    expect(c.ffmpegEnv).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin' });
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/castbridge');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('castbridge');
    expect([...c.roles]).toEqual(['api', 'worker', 'ingest']);
    expect(c.adminToken).toBeNull();
    expect(c.ops).toBeNull();
    expect(c.egressAllowPrivateNetworks).toBe(false);
    expect(c.encryptionKeysAreDevelopmentDefault).toBe(true);
    expect(c.encryptionKeys[0].key).toHaveLength(32);
    expect(c.shopify.scopes).toEqual([
      'read_products',
      'read_inventory',
      'read_locations',
      'write_orders',
      'read_orders',
    ]);
    expect(c.shopify.apiVersion).toMatch(/^\d{4}-\d{2}$/);
    expect(c.reconcileIntervalMs).toBe(15 * 60_000);
    expect(c.webhookRetryBaseMs).toBe(5000);
    expect(c.logLevel).toBe('info');
    expect(c.migrationsRun).toBe(true);
  });

  it('takes RTMPS as all three variables or none, with files that exist', () => {
    const c = loadConfig({
      RTMPS_PORT: '1936',
      RTMPS_CERT_FILE: __filename,
      RTMPS_KEY_FILE: __filename,
    });
    expect(c.rtmp.tls).toEqual({ port: 1936, certFile: __filename, keyFile: __filename });
    expect(() => loadConfig({ RTMPS_PORT: '1936' })).toThrow(
      'RTMPS_PORT, RTMPS_CERT_FILE and RTMPS_KEY_FILE must be set together',
    );
    expect(() =>
      loadConfig({ RTMPS_PORT: '1936', RTMPS_CERT_FILE: '/nope.pem', RTMPS_KEY_FILE: __filename }),
    ).toThrow('RTMPS_CERT_FILE names a file that does not exist');
  });

  it('passes ffmpeg only PATH of the environment', () => {
    const c = loadConfig({ PATH: '/opt/bin', ENCRYPTION_KEYS: 'k:' + 'A'.repeat(43) + '=' });
    expect(c.ffmpegEnv).toEqual({ PATH: '/opt/bin' });
  });

  it('names every bad variable in one message', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        ROLES: 'api,cook',
        EGRESS_ALLOW_PRIVATE_NETWORKS: 'maybe',
        DATABASE_URL: 'mysql://x/y',
        LOG_LEVEL: 'loud',
        RECONCILE_INTERVAL: 'often',
        WEBHOOK_RETRY_BASE: '2d',
        ENCRYPTION_KEYS: 'k1:c2hvcnQ=',
        OPS_USER: 'ops',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const msg = (error as Error).message;
    for (const name of [
      'PORT',
      'ROLES',
      'EGRESS_ALLOW_PRIVATE_NETWORKS',
      'DATABASE_URL',
      'LOG_LEVEL',
      'RECONCILE_INTERVAL',
      'WEBHOOK_RETRY_BASE',
      'ENCRYPTION_KEYS',
      'OPS_USER',
    ]) {
      expect(msg).toContain(name);
    }
    expect((error as ConfigValidationError).problems).toHaveLength(9);
  });

  it('never echoes an encryption key in its error', () => {
    expect(() => loadConfig({ ENCRYPTION_KEYS: 'k1:SECRETSECRET' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('SECRETSECRET') }),
    );
  });

  it('parses key rotation lists, roles and flags', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const c = loadConfig({
      ENCRYPTION_KEYS: `new:${k2},old:${k1}`,
      ROLES: ' worker ',
      EGRESS_ALLOW_PRIVATE_NETWORKS: 'true',
      OPS_USER: 'ops',
      OPS_PASSWORD: 'pw',
      PUBLIC_BASE_URL: 'https://cast.example.com/',
      RECONCILE_INTERVAL: '30s',
    });
    expect(c.encryptionKeys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(c.encryptionKeysAreDevelopmentDefault).toBe(false);
    expect([...c.roles]).toEqual(['worker']);
    expect(c.egressAllowPrivateNetworks).toBe(true);
    expect(c.ops).toEqual({ user: 'ops', password: 'pw' });
    expect(c.publicBaseUrl).toBe('https://cast.example.com');
    expect(c.reconcileIntervalMs).toBe(30_000);
  });
});

describe('parseDuration', () => {
  it.each([
    ['15m', 900_000],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['500', 500],
    ['30d', 2_592_000_000],
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));
  it('refuses nonsense', () => expect(parseDuration('soon')).toBeNull());
});

describe('BUYER_DATA_RETENTION', () => {
  it('defaults to 30 days and takes a duration', () => {
    expect(loadConfig({}).buyerDataRetentionMs).toBe(30 * 86_400_000);
    expect(loadConfig({ BUYER_DATA_RETENTION: '12h' }).buyerDataRetentionMs).toBe(43_200_000);
  });
  it.each(['soon', '0', '500ms', '-1d'])('refuses "%s", naming the variable', (v) => {
    expect(() => loadConfig({ BUYER_DATA_RETENTION: v })).toThrow(/BUYER_DATA_RETENTION/);
  });
});

describe('resolveFfmpegPath', () => {
  it('prefers FFMPEG_PATH', () =>
    expect(resolveFfmpegPath({ FFMPEG_PATH: '/opt/ff' })).toBe('/opt/ff'));
  it('falls back to ffmpeg-static when present, else ffmpeg on PATH', () => {
    const p = resolveFfmpegPath({});
    expect(p === 'ffmpeg' || p.includes('ffmpeg-static')).toBe(true);
  });
});

describe('limits', () => {
  it('default to 600 requests a minute, 50 destinations a channel, 8 transcodes a partner', () => {
    const c = loadConfig({});
    expect(c.rateLimitPerMinute).toBe(600);
    expect(c.limits).toEqual({ destinationsPerChannel: 50, transcodesPerPartner: 8 });
  });
  it('are read from the environment (0 turns the rate limit off)', () => {
    const c = loadConfig({
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_DESTINATIONS_PER_CHANNEL: '3',
      MAX_TRANSCODES_PER_PARTNER: '0',
    });
    expect(c.rateLimitPerMinute).toBe(0);
    expect(c.limits).toEqual({ destinationsPerChannel: 3, transcodesPerPartner: 0 });
  });
  it('refuses values that are not non-negative integers, naming each variable', () => {
    const problems = problemsOf({
      RATE_LIMIT_PER_MINUTE: '-1',
      MAX_DESTINATIONS_PER_CHANNEL: '0',
      MAX_TRANSCODES_PER_PARTNER: 'many',
    });
    expect(problems).toEqual([
      expect.stringContaining('RATE_LIMIT_PER_MINUTE'),
      expect.stringContaining('MAX_DESTINATIONS_PER_CHANNEL'),
      expect.stringContaining('MAX_TRANSCODES_PER_PARTNER'),
    ]);
  });
});

describe('production posture (NODE_ENV=production)', () => {
  const key = `prod:${Buffer.alloc(32, 5).toString('base64')}`;
  const strong = 'q7Vb2kP9xL4mN8rT1wZ6yC3d';
  const prod = (env: Record<string, string>) => problemsOf({ NODE_ENV: 'production', ...env });

  it('starts with a real key and strong secrets', () => {
    expect(
      prod({
        ENCRYPTION_KEYS: key,
        ADMIN_TOKEN: strong,
        OPS_USER: 'ops',
        OPS_PASSWORD: strong,
      }),
    ).toEqual([]);
    expect(prod({ ENCRYPTION_KEYS: key })).toEqual([]); // admin API and dashboard off
  });

  it('refuses the development encryption key', () => {
    expect(prod({})).toEqual([expect.stringContaining('ENCRYPTION_KEYS must be set')]);
  });

  it.each([
    'change-me',
    'CHANGE-ME',
    'admin',
    'secret',
    'password',
    'dev-admin',
    'test-admin-token-0123456789',
    'short-but-random-9f3',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ])('refuses ADMIN_TOKEN and OPS_PASSWORD %p, without echoing it', (weak) => {
    const problems = prod({
      ENCRYPTION_KEYS: key,
      ADMIN_TOKEN: weak,
      OPS_USER: 'ops',
      OPS_PASSWORD: weak,
    });
    expect(problems).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN /),
      expect.stringMatching(/^OPS_PASSWORD /),
    ]);
    expect(problems.join('\n')).not.toContain(weak);
  });

  it('leaves development alone', () => {
    expect(() =>
      loadConfig({ ADMIN_TOKEN: 'dev-admin', OPS_USER: 'o', OPS_PASSWORD: 'p' }),
    ).not.toThrow();
  });
});

describe('weakSecretReason', () => {
  it.each([
    ['admin', 'well-known'],
    ['x'.repeat(23), 'shorter than 24'],
    ['abababababababababababab', 'distinct'],
  ])('%p %s', (value, why) => expect(weakSecretReason(value)).toContain(why));
  it('accepts a long random value', () =>
    expect(weakSecretReason('Zx8-Lq2vR9tK4mB7nW1cF6hJ')).toBeNull());
});
