import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/**
 * LISTEN on one Postgres channel over a connection of its own, reconnecting (1 s, then up
 * to 10 s apart) when it drops. `listening` says whether notifications arrive now: while
 * it is false, the caller polls as it would without them.
 */
export class PgListener {
  private readonly log = new Logger(PgListener.name);
  private client: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private delayMs = 1000;
  listening = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onNotify: () => void,
  ) {}

  start(): void {
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listening = false;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.databaseUrl });
    this.client = client;
    client.on('notification', () => this.onNotify());
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      if (this.closed || this.client !== client) return void client.end().catch(() => undefined);
      this.listening = true;
      this.delayMs = 1000;
      // Whatever was committed while we were not listening is picked up now.
      this.onNotify();
    } catch {
      this.dropped(client);
    }
  }

  private dropped(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.listening = false;
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.log.debug(`LISTEN ${this.channel} lost; again in ${this.delayMs} ms`);
    this.timer = setTimeout(() => void this.connect(), this.delayMs);
    this.delayMs = Math.min(10_000, this.delayMs * 2);
  }
}
