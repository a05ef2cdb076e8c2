import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portOpen, stopChild, trackChild, waitFor } from './processes';

const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface NginxRtmp {
  /** The RTMP port; `rtmp://127.0.0.1:<port>/live` accepts any publish. */
  port: number;
  url: string;
  /** The `rtmp_stat all` HTTP port (`http://127.0.0.1:<statPort>/stat`), when asked for. */
  statPort: number | null;
  /** Its folder (config, logs, `rec/` recordings). */
  dir: string;
  /** nginx's pid (one process: `master_process off`), for SIGSTOP/SIGCONT; null while stopped. */
  pid(): number | null;
  stop(): Promise<void>;
  /** Starts it again on the same ports (after `stop`). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

/**
 * nginx with Debian's libnginx-mod-rtmp, one process, on loopback: the tests' RTMP sinks
 * and the benchmarks' sink and nginx-rtmp baseline. `appConfig` goes inside
 * `application live { live on; … }` (e.g. `push` lines); `stat` adds an `rtmp_stat` HTTP
 * port; `record` records each stream's first video frames into `dir/rec`.
 */
export async function startNginxRtmp(
  opts: {
    label?: string;
    appConfig?: string;
    stat?: boolean;
    record?: boolean;
    port?: number;
    /** More applications beside `live`, each like it (`record` into `rec/<app>/`). */
    apps?: string[];
  } = {},
): Promise<NginxRtmp> {
  const port = opts.port ?? (await freePort());
  const statPort = opts.stat ? await freePort() : null;
  const dir = mkdtempSync(join(tmpdir(), `cb-nginx-${opts.label ?? 'sink'}-`));
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'rec'));
  const http = statPort
    ? `http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${statPort};
    location /stat { rtmp_stat all; }
  }
}
`
    : '';
  const record = (sub: string) =>
    opts.record
      ? `      record video;\n      record_path ${dir}/rec${sub};\n      record_max_frames 2;\n`
      : '';
  for (const app of opts.apps ?? []) mkdirSync(join(dir, 'rec', app));
  const extraApps = (opts.apps ?? [])
    .map((app) => `    application ${app} {\n      live on;\n${record(`/${app}`)}    }\n`)
    .join('');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module ${NGINX_RTMP_MODULE};
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
    application live {
      live on;
${record('')}${opts.appConfig ?? ''}
    }
${extraApps}  }
}
${http}`,
  );
  let child: ChildProcess | null = null;
  const start = async () => {
    child = trackChild(
      spawn(
        'nginx',
        ['-e', join(dir, 'logs/error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')],
        {
          stdio: 'ignore',
        },
      ),
    );
    await waitFor(() => portOpen(port), { what: `nginx ${opts.label ?? 'sink'} on ${port}` });
    if (statPort) await waitFor(() => portOpen(statPort), { what: `nginx stat on ${statPort}` });
  };
  await start();
  const stop = async () => {
    if (child) await stopChild(child, 'SIGKILL', 5000);
    child = null;
  };
  return {
    port,
    url: `rtmp://127.0.0.1:${port}/live`,
    statPort,
    dir,
    pid: () => (child as ChildProcess | null)?.pid ?? null,
    stop,
    restart: start,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
