import { ConfigValidationError, loadConfig, parseDuration, resolveFfmpegPath } from './env.schema';

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
  ])('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));
  it('refuses nonsense', () => expect(parseDuration('soon')).toBeNull());
});

describe('resolveFfmpegPath', () => {
  it('prefers FFMPEG_PATH', () =>
    expect(resolveFfmpegPath({ FFMPEG_PATH: '/opt/ff' })).toBe('/opt/ff'));
  it('falls back to ffmpeg-static when present, else ffmpeg on PATH', () => {
    const p = resolveFfmpegPath({});
    expect(p === 'ffmpeg' || p.includes('ffmpeg-static')).toBe(true);
  });
});
