import { Controller, Get, OnModuleDestroy, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { AppError } from '../common/errors';
import { EMBED_CSS, EMBED_JS, embedHtml } from './embed-page';
import { EmbedStateService } from './embed-state.service';
import { EMBED_HEARTBEAT_MS } from './embed-timing';
import { TIMED_PINS_JS } from './timed-pins';

/** hls.js from our own node_modules: the player works without any CDN. */
let hlsJs: Buffer | null = null;
function hlsLibrary(): Buffer {
  hlsJs ??= readFileSync(require.resolve('hls.js/dist/hls.min.js'));
  return hlsJs;
}

/** Brands frame this page on their own sites; it runs only our scripts. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  'frame-ancestors *',
].join('; ');

/**
 * `/embed/<destinationId>`: the shoppable brand-site player (API.md "Media endpoints"),
 * with its assets and a server-sent event stream of what it shows.
 */
@ApiExcludeController()
@Controller('embed')
export class EmbedController implements OnModuleDestroy {
  /**
   * Open event streams. They never end by themselves, and an open one holds the HTTP
   * server's close: on shutdown they are ended (the player reconnects after `retry`).
   */
  private readonly streams = new Set<Response>();
  private closing = false;

  constructor(private readonly states: EmbedStateService) {}

  onModuleDestroy(): void {
    this.closing = true;
    for (const res of this.streams) res.end();
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const assets: Record<string, [string, string | Buffer]> = {
      'player.js': ['text/javascript; charset=utf-8', EMBED_JS],
      'player.css': ['text/css; charset=utf-8', EMBED_CSS],
      'timed-pins.js': ['text/javascript; charset=utf-8', TIMED_PINS_JS],
      'hls.min.js': ['text/javascript; charset=utf-8', hlsLibrary()],
    };
    const a = assets[file];
    if (!a) throw AppError.notFound('asset');
    res.setHeader('content-type', a[0]);
    res.setHeader('cache-control', 'public, max-age=300');
    res.send(a[1]);
  }

  @Get(':destinationId')
  async page(@Param('destinationId') id: string, @Res() res: Response): Promise<void> {
    const state = await this.states.state(id);
    if (!state) throw AppError.notFound('player');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', PAGE_CSP);
    res.setHeader('cache-control', 'no-cache');
    res.send(embedHtml(id, state.title));
  }

  @Get(':destinationId/events')
  async events(@Param('destinationId') id: string, @Res() res: Response): Promise<void> {
    // Registered before any await: a client that leaves while the state is read must not
    // leave a heartbeat, a listener or a poller behind.
    const onClose: Array<() => void> = [];
    res.on('close', () => onClose.splice(0).forEach((f) => f()));
    const state = await this.states.state(id);
    if (res.destroyed) return; // gone already: 'close' has run, nothing was started
    if (!state) throw AppError.notFound('player');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    if (this.closing) {
      res.end();
      return;
    }
    this.streams.add(res);
    onClose.push(() => this.streams.delete(res));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), EMBED_HEARTBEAT_MS);
    onClose.push(() => clearInterval(heartbeat));
    onClose.push(
      this.states.watch(id, (s) => {
        res.write(`event: state\ndata: ${JSON.stringify(s)}\n\n`);
      }),
    );
  }
}
