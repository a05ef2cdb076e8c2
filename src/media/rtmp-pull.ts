import { Logger } from '@nestjs/common';
import type { MediaHub, Publication } from './media-hub';
import { connectRtmp } from './rtmp-client';
import { ORIGIN_LIMITS } from './rtmp-protocol';

const RECONNECT_MS = 500;

/**
 * Reads `/internal/<name>` from the ingest node holding it and publishes it into this
 * process's hub under the same name, reconnecting every 500 ms until closed. The origin
 * is another Castbridge node, but its bytes get the same limits as any peer's.
 */
export class RtmpPull {
  private readonly log = new Logger(RtmpPull.name);
  private closed = false;
  private cancel: (() => void) | null = null;
  private publication: Publication | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hub: MediaHub,
    private readonly origin: string,
    private readonly appName: string,
    private readonly name: string,
  ) {}

  start(): void {
    void this.connectOnce();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.cancel?.();
    this.cancel = null;
    this.publication?.end();
    this.publication = null;
  }

  private async connectOnce(): Promise<void> {
    if (this.closed) return;
    const url = `${this.origin.replace(/\/+$/, '')}/${this.appName}/${this.name}`;
    const attempt = connectRtmp({ url }, ORIGIN_LIMITS);
    this.cancel = attempt.cancel;
    let reason: string | null = null;
    try {
      const c = await attempt.connection;
      await c.step('RTMP connect', () => c.client.sendConnect());
      await c.step('RTMP createStream', () => c.client.sendCreateStream());
      const publication = this.hub.publish(this.name, 'pull');
      if (!publication) {
        // This process holds the stream itself now: no pull needed.
        c.close();
        return;
      }
      this.publication = publication;
      c.client.payloads = publication.payloads;
      c.client.onMedia = (m) => publication.write(m);
      await c.step('RTMP play', () => c.client.sendPlay(this.name));
      reason = await c.closed;
    } catch (err) {
      reason = (err as Error).message;
    } finally {
      this.publication?.end();
      this.publication = null;
      attempt.cancel();
    }
    if (this.closed) return;
    this.log.debug(`pull of ${this.name.slice(0, 6)}… from ${this.origin} ended: ${reason}`);
    this.timer = setTimeout(() => void this.connectOnce(), RECONNECT_MS);
  }
}
