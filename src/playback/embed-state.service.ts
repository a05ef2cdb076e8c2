import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUuid } from '../common/pagination';
import { EMBED_POLL_MS } from './embed-timing';

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

interface Watched {
  listeners: Set<Listener>;
  /** The last state sent to the listeners (and its JSON, to tell a change). */
  last: string;
  state: EmbedState | null;
  polling: boolean;
  timer: NodeJS.Timeout;
}

/**
 * What the brand-site player shows, and its live updates. One poll per watched
 * destination, shared by all its viewers (pins, prices and stock change in Postgres, from
 * whichever process applied them); viewers get a new state only when it changed.
 */
@Injectable()
export class EmbedStateService implements OnModuleDestroy {
  private readonly log = new Logger(EmbedStateService.name);
  private readonly watched = new Map<string, Watched>();

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

  /**
   * Calls `listener` with the destination's state, then on every change; returns the
   * unsubscribe function, which may be called at any time (also before the first call, and
   * more than once). A listener joining a destination already watched gets the state its
   * other viewers last got at once; the first one gets it when the first poll answers
   * (started at once). One poll runs at a time per destination.
   */
  watch(destinationId: string, listener: Listener): () => void {
    let entry = this.watched.get(destinationId);
    if (!entry) {
      const e: Watched = {
        listeners: new Set<Listener>(),
        last: '',
        state: null,
        polling: false,
        timer: setInterval(() => void this.poll(destinationId, e), EMBED_POLL_MS),
      };
      this.watched.set(destinationId, e);
      entry = e;
      void this.poll(destinationId, e);
    } else if (entry.state) {
      listener(entry.state);
    }
    const watched = entry;
    watched.listeners.add(listener);
    return () => {
      if (!watched.listeners.delete(listener) || watched.listeners.size > 0) return;
      clearInterval(watched.timer);
      if (this.watched.get(destinationId) === watched) this.watched.delete(destinationId);
    };
  }

  /** How many destinations are polled and how many listeners they have (for tests). */
  watchedCount(): { destinations: number; listeners: number } {
    let listeners = 0;
    for (const w of this.watched.values()) listeners += w.listeners.size;
    return { destinations: this.watched.size, listeners };
  }

  onModuleDestroy(): void {
    for (const w of this.watched.values()) clearInterval(w.timer);
    this.watched.clear();
  }

  /** Reads the state and tells the listeners when it changed; skipped while one still runs. */
  private async poll(destinationId: string, entry: Watched): Promise<void> {
    if (entry.polling) return;
    entry.polling = true;
    try {
      const s = await this.state(destinationId);
      if (!s) return;
      const json = JSON.stringify(s);
      if (json === entry.last) return;
      entry.last = json;
      entry.state = s;
      for (const l of entry.listeners) l(s);
    } catch (err) {
      this.log.warn(`embed state of ${destinationId}: ${(err as Error).message}`);
    } finally {
      entry.polling = false;
    }
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
