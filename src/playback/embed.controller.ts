import { Controller, Get, OnModuleDestroy, Param, Query, Res } from '@nestjs/common';
import { ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { readFileSync } from 'node:fs';
import { AppError } from '../common/errors';
import { ApiDoc } from '../common/api-docs';
import {
  EMBED_CSS,
  EMBED_FAVICON,
  EMBED_ICONS,
  EMBED_JS,
  embedHtml,
  parseEmbedOptions,
} from './embed-page';
import { EmbedStateService } from './embed-state.service';
import { EMBED_HEARTBEAT_MS } from './embed-timing';
import { TIMED_PINS_JS } from './timed-pins';

/** hls.js from our own node_modules: the player works without any CDN. */
let hlsJs: Buffer | null = null;
function hlsLibrary(): Buffer {
  hlsJs ??= readFileSync(require.resolve('hls.js/dist/hls.min.js'));
  return hlsJs;
}

/**
 * Brands frame this page on their own sites; it runs only our scripts. hls.js starts its
 * transmuxing worker from a blob: URL (`worker-src blob:`) and feeds the video element
 * through MediaSource (`media-src blob:`); product images come from the store's CDN.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  'worker-src blob:',
  "style-src 'self'",
  "img-src 'self' https: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  'frame-ancestors *',
].join('; ');

const ASSETS: Record<string, [string, () => string | Buffer]> = {
  'player.js': ['text/javascript; charset=utf-8', () => EMBED_JS],
  'player.css': ['text/css; charset=utf-8', () => EMBED_CSS],
  'icons.svg': ['image/svg+xml', () => EMBED_ICONS],
  'favicon.svg': ['image/svg+xml', () => EMBED_FAVICON],
  'timed-pins.js': ['text/javascript; charset=utf-8', () => TIMED_PINS_JS],
  'hls.min.js': ['text/javascript; charset=utf-8', hlsLibrary],
};

const HTML = { mediaType: 'text/html', schema: { type: 'string' as const } };

/**
 * `/embed/<destinationId>`: the shoppable brand-site player (API.md "Media endpoints"),
 * with its assets and a server-sent event stream of what it shows.
 */
@ApiTags('player')
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
  @ApiDoc({
    summary: "The player's assets",
    description:
      'The script, stylesheet, SVG icons and hls.js the player page loads (from this origin: no CDN).',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'text/javascript', schema: { type: 'string' } },
  })
  @ApiParam({
    name: 'file',
    enum: Object.keys(ASSETS),
  })
  asset(@Param('file') file: string, @Res() res: Response): void {
    const a = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!a) throw AppError.notFound('asset');
    res.setHeader('content-type', a[0]);
    res.setHeader('cache-control', 'public, max-age=300');
    res.send(a[1]());
  }

  @Get(':destinationId')
  @ApiDoc({
    summary: 'The shoppable player page',
    description:
      'An HTML page for a `brand_site` destination (`playback.embedUrl`), to put in an iframe: `<iframe src="…/embed/<id>" allow="autoplay; fullscreen" allowfullscreen>`. It plays the live HLS rendition (hls.js) with play/pause, volume, mute and full screen (keys: space or k, m, f), and shows the pinned products with image, price, stock and a buy link, updating live. Offline before and after the show. Query: `muted=1` starts muted, `autoplay=0` waits for the viewer to press play, `color=rrggbb` sets the theme colour. Public; a strict CSP (scripts from this origin only).',
    auth: 'none',
    errors: [400, 404],
    produces: HTML,
  })
  @ApiQuery({ name: 'muted', required: false, enum: ['0', '1'], description: '1: start muted' })
  @ApiQuery({
    name: 'autoplay',
    required: false,
    enum: ['0', '1'],
    description: '0: wait for play',
  })
  @ApiQuery({
    name: 'color',
    required: false,
    schema: { type: 'string', pattern: '^#?[0-9a-fA-F]{6}$' },
    description: 'theme colour, 6 hex digits (e11d48)',
  })
  async page(
    @Param('destinationId') id: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    const parsed = parseEmbedOptions(query);
    if (!parsed.ok) throw AppError.validation(parsed.field, parsed.message);
    const state = await this.states.state(id);
    if (!state) throw AppError.notFound('player');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', PAGE_CSP);
    res.setHeader('cache-control', 'no-cache');
    res.send(embedHtml(id, state.title, parsed.options));
  }

  @Get(':destinationId/events')
  @ApiDoc({
    summary: "The player's live state (server-sent events)",
    description:
      'A `text/event-stream` of `state` events, each `{status: "live" | "starting" | "offline", title, hlsUrl, products: [{id, title, imageUrl, price, currency, stock, available, buyUrl}]}`, sent at once and then whenever it changes (pins, prices, stock); a comment every 15 s keeps it open.',
    auth: 'none',
    errors: [404],
    produces: { mediaType: 'text/event-stream', schema: { type: 'string' } },
  })
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
