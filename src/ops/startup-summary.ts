import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { AppConfig } from '../../config/env.schema';
import type { DatabasePreparation } from '../database/prepare-database';

/** Where `command` is found on `pathList` (as a shell would), or null. */
export function findOnPath(command: string, pathList: string): string | null {
  if (isAbsolute(command) || command.includes('/')) {
    return executable(command) ? command : null;
  }
  for (const dir of pathList.split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && executable(candidate)) return candidate;
  }
  return null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface StartupFacts {
  config: AppConfig;
  database: DatabasePreparation;
  /** The RTMP ingest port listened on (RTMP_PORT=0 picks one), when the role runs. */
  rtmpPort: number | null;
  /** Where ffmpeg was found (null: not found), and its version line when it ran. */
  ffmpeg: { path: string | null; version: string | null };
  dashboard: boolean;
}

/** The one start-up summary: a readable text, and the same facts as log fields. */
export function startupSummary(f: StartupFacts): { text: string; fields: Record<string, unknown> } {
  const { config, database } = f;
  const roles = [...config.roles].join(',');
  const migrations =
    database.migrations === null
      ? 'migrations not run (MIGRATIONS_RUN=false)'
      : database.migrations.length === 0
        ? 'migrations up to date'
        : `ran ${database.migrations.length} migration${database.migrations.length > 1 ? 's' : ''}`;
  const ffmpeg = f.ffmpeg.path
    ? `ffmpeg ${f.ffmpeg.path}${f.ffmpeg.version ? ` (${f.ffmpeg.version.replace(/^ffmpeg version /, '').split(' ')[0]})` : ''}`
    : `ffmpeg NOT FOUND (FFMPEG_PATH=${config.ffmpegPath}): relays and readiness need it`;
  const lines = [
    `Castbridge ready — roles ${roles}`,
    `  http     http://${config.host}:${config.port}  (public ${config.publicBaseUrl}; API docs ${config.publicBaseUrl}/docs)`,
    f.rtmpPort !== null
      ? `  rtmp     rtmp://${config.rtmp.publicHost}:${f.rtmpPort}/live/<streamKey>` +
        (config.rtmp.tls ? `  rtmps :${config.rtmp.tls.port}` : '')
      : '  rtmp     off (no ingest role)',
    `  database ${database.name} (${database.created ? 'created now' : 'existing'}), ${migrations}`,
    `  ${ffmpeg}`,
    `  admin    ${config.adminToken ? '/v1/admin on (ADMIN_TOKEN)' : '/v1/admin off: set ADMIN_TOKEN'}; dashboard ${f.dashboard ? '/admin/queues on' : 'off: set OPS_USER and OPS_PASSWORD'}`,
  ];
  return {
    text: lines.join('\n'),
    fields: {
      roles: [...config.roles],
      http: { host: config.host, port: config.port, publicBaseUrl: config.publicBaseUrl },
      rtmpPort: f.rtmpPort,
      database: {
        name: database.name,
        created: database.created,
        migrationsRun: database.migrations,
      },
      ffmpeg: f.ffmpeg,
      dashboard: f.dashboard,
    },
  };
}
