import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid } from '../common/pagination';

export interface EmbedProduct {
  id: string;
  title: string;
  imageUrl: string | null;
  /** Lowest variant price, as the store gave it (decimal string). */
  price: string | null;
  currency: string | null;
  /** Units in stock over tracked variants; null when the store does not track it. */
  stock: number | null;
  available: boolean;
  buyUrl: string | null;
}

export interface EmbedState {
  status: 'live' | 'starting' | 'offline';
  title: string;
  hlsUrl: string | null;
  products: EmbedProduct[];
}

type Listener = (state: EmbedState) => void;

const POLL_MS = 1000;

/**
 * What the brand-site player shows, and its live updates. One poll per watched
 * destination, shared by all its viewers (pins, prices and stock change in Postgres, from
 * whichever process applied them); viewers get a new state only when it changed.
 */
@Injectable()
export class EmbedStateService implements OnModuleDestroy {
  private readonly log = new Logger(EmbedStateService.name);
  private readonly watched = new Map<
    string,
    { listeners: Set<Listener>; last: string; timer: NodeJS.Timeout }
  >();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async state(destinationId: string): Promise<EmbedState | null> {
    if (!isUuid(destinationId)) return null;
    const [d] = (await this.db.query(
      `SELECT c.name, c.current_session_id,
              (SELECT r.state FROM relays r
                WHERE r.session_id = c.current_session_id AND r.destination_id = d.id) AS relay_state
         FROM destinations d JOIN channels c ON c.id = d.channel_id
        WHERE d.id = $1 AND d.kind = 'brand_site'`,
      [destinationId],
    )) as Array<{ name: string; current_session_id: string | null; relay_state: string | null }>;
    if (!d) return null;
    const status =
      d.relay_state === 'live'
        ? 'live'
        : d.relay_state === 'starting' || d.relay_state === 'retrying'
          ? 'starting'
          : 'offline';
    const products = d.current_session_id ? await this.pinned(d.current_session_id) : [];
    return {
      status,
      title: d.name,
      hlsUrl: status === 'offline' ? null : `/hls/${destinationId}/index.m3u8`,
      products,
    };
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  async watch(destinationId: string, listener: Listener): Promise<() => void> {
    let w = this.watched.get(destinationId);
    if (!w) {
      const entry = {
        listeners: new Set<Listener>(),
        last: '',
        timer: setInterval(() => void tick(), POLL_MS),
      };
      const tick = async () => {
        try {
          const s = await this.state(destinationId);
          if (!s) return;
          const json = JSON.stringify(s);
          if (json === entry.last) return;
          entry.last = json;
          for (const l of entry.listeners) l(s);
        } catch (err) {
          this.log.warn(`embed state of ${destinationId}: ${(err as Error).message}`);
        }
      };
      w = entry;
      this.watched.set(destinationId, entry);
    }
    const entry = w;
    entry.listeners.add(listener);
    const now = await this.state(destinationId);
    if (now) listener(now);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        clearInterval(entry.timer);
        this.watched.delete(destinationId);
      }
    };
  }

  onModuleDestroy(): void {
    for (const w of this.watched.values()) clearInterval(w.timer);
    this.watched.clear();
  }

  private async pinned(sessionId: string): Promise<EmbedProduct[]> {
    const rows = (await this.db.query(
      `SELECT p.id, p.title, p.image_url, p.handle, sc.shop, sc.currency,
              min(v.price)::text AS price,
              sum(v.inventory_quantity) FILTER (WHERE v.inventory_tracked)::int AS stock,
              coalesce(bool_or(NOT v.inventory_tracked OR v.inventory_policy = 'continue'
                               OR v.inventory_quantity > 0), false) AS available
         FROM session_pins sp
         JOIN products p ON p.id = sp.product_id AND p.deleted_at IS NULL
         LEFT JOIN store_connections sc ON sc.id = p.store_connection_id
         LEFT JOIN variants v ON v.product_id = p.id
        WHERE sp.session_id = $1
        GROUP BY p.id, sc.shop, sc.currency, sp.pinned_at
        ORDER BY sp.pinned_at DESC`,
      [sessionId],
    )) as Array<{
      id: string;
      title: string;
      image_url: string | null;
      handle: string;
      shop: string | null;
      currency: string | null;
      price: string | null;
      stock: number | null;
      available: boolean;
    }>;
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      imageUrl: r.image_url,
      price: r.price,
      currency: r.currency,
      stock: r.stock,
      available: r.available,
      buyUrl:
        r.shop && r.handle ? `https://${r.shop}/products/${encodeURIComponent(r.handle)}` : null,
    }));
  }
}
