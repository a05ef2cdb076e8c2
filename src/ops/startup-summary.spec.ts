import { loadConfig } from '../../config/env.schema';
import { findOnPath, startupSummary } from './startup-summary';

describe('startupSummary', () => {
  const config = loadConfig({ ADMIN_TOKEN: 'a-long-enough-admin-token-xyz', RTMP_PORT: '1935' });

  it('says roles, ports, the database created or not, migrations run and where ffmpeg is', () => {
    const s = startupSummary({
      config,
      database: { name: 'castbridge', created: true, migrations: ['A1', 'B2', 'C3'] },
      rtmpPort: 1935,
      ffmpeg: { path: '/usr/bin/ffmpeg', version: 'ffmpeg version 7.1.1-1 Copyright (c)' },
      dashboard: false,
    });
    expect(s.text.split('\n')).toEqual([
      'Castbridge ready — roles api,worker,ingest',
      '  http     http://0.0.0.0:3000  (public http://localhost:3000; API docs http://localhost:3000/docs)',
      '  rtmp     rtmp://localhost:1935/live/<streamKey>',
      '  database castbridge (created now), ran 3 migrations',
      '  ffmpeg /usr/bin/ffmpeg (7.1.1-1)',
      '  admin    /v1/admin on (ADMIN_TOKEN); dashboard off: set OPS_USER and OPS_PASSWORD',
    ]);
    expect(s.fields).toMatchObject({ rtmpPort: 1935, database: { created: true } });
  });

  it('says so when nothing was migrated, when migrations are off and when ffmpeg is missing', () => {
    const up = startupSummary({
      config,
      database: { name: 'castbridge', created: false, migrations: [] },
      rtmpPort: null,
      ffmpeg: { path: null, version: null },
      dashboard: true,
    }).text;
    expect(up).toContain('database castbridge (existing), migrations up to date');
    expect(up).toContain('rtmp     off (no ingest role)');
    expect(up).toMatch(/ffmpeg NOT FOUND \(FFMPEG_PATH=.*\)/);
    const off = startupSummary({
      config,
      database: { name: 'castbridge', created: false, migrations: null },
      rtmpPort: 1935,
      ffmpeg: { path: null, version: null },
      dashboard: true,
    }).text;
    expect(off).toContain('migrations not run (MIGRATIONS_RUN=false)');
  });

  it('finds a command on PATH as a shell would', () => {
    expect(findOnPath('sh', '/nonexistent:/bin:/usr/bin')).toMatch(/\/sh$/);
    expect(findOnPath('no-such-command-here', '/bin:/usr/bin')).toBeNull();
    expect(findOnPath('/bin/sh', '')).toBe('/bin/sh');
  });
});
