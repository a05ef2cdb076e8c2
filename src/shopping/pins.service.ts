import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppError, ErrorCode } from '../common/errors';
import { isUuid } from '../common/pagination';
import { OutboxService } from '../notifications/outbox.service';
import { SessionPin } from './pin.entity';

export interface PinView {
  productId: string;
  pinnedAt: string;
}

/** A pin on the session's timeline (pin_history). */
export interface PinSpan {
  productId: string;
  pinnedAt: string;
  unpinnedAt: string | null;
}

/** Pinning products of the channel's brand during a live session. */
@Injectable()
export class PinsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  async pin(partnerId: string, sessionId: string, productId: string): Promise<PinView> {
    return this.db.transaction(async (m) => {
      const session = await this.liveSession(m, partnerId, sessionId);
      const [product] = (await m.query(
        `SELECT id FROM products WHERE id = $1 AND brand_id = $2 AND partner_id = $3
            AND deleted_at IS NULL`,
        [productId, session.brand_id, partnerId],
      )) as unknown[];
      if (!product) {
        throw AppError.validation('productId', 'not a product of the channel’s brand');
      }
      const rows = (await m.query(
        `INSERT INTO session_pins (session_id, product_id, partner_id) VALUES ($1, $2, $3)
         ON CONFLICT (session_id, product_id) DO NOTHING RETURNING pinned_at`,
        [sessionId, productId, partnerId],
      )) as Array<{ pinned_at: Date }>;
      if (rows[0]) {
        await m.query(
          `INSERT INTO pin_history (session_id, product_id, partner_id, pinned_at)
           VALUES ($1, $2, $3, $4)`,
          [sessionId, productId, partnerId, rows[0].pinned_at],
        );
        await this.outbox.record(m, partnerId, 'session.product_pinned', {
          sessionId,
          productId,
          pinnedAt: rows[0].pinned_at.toISOString(),
        });
        return { productId, pinnedAt: rows[0].pinned_at.toISOString() };
      }
      const existing = await m.getRepository(SessionPin).findOneByOrFail({ sessionId, productId });
      return { productId, pinnedAt: existing.pinnedAt.toISOString() };
    });
  }

  async unpin(partnerId: string, sessionId: string, productId: string): Promise<void> {
    await this.db.transaction(async (m) => {
      await this.session(m, partnerId, sessionId);
      if (!isUuid(productId)) throw AppError.notFound('pin');
      const [rows] = (await m.query(
        `DELETE FROM session_pins WHERE session_id = $1 AND product_id = $2 RETURNING product_id`,
        [sessionId, productId],
      )) as [unknown[], number];
      if (!rows.length) throw AppError.notFound('pin');
      await m.query(
        `UPDATE pin_history SET unpinned_at = now()
          WHERE session_id = $1 AND product_id = $2 AND unpinned_at IS NULL`,
        [sessionId, productId],
      );
      await this.outbox.record(m, partnerId, 'session.product_unpinned', { sessionId, productId });
    });
  }

  /** Pins of these sessions, oldest first. */
  async of(sessionIds: string[]): Promise<Map<string, PinView[]>> {
    const out = new Map<string, PinView[]>();
    if (!sessionIds.length) return out;
    const rows = await this.db
      .getRepository(SessionPin)
      .createQueryBuilder('p')
      .where('p.session_id IN (:...ids)', { ids: sessionIds })
      .orderBy('p.pinned_at', 'ASC')
      .getMany();
    for (const r of rows) {
      const list = out.get(r.sessionId) ?? [];
      list.push({ productId: r.productId, pinnedAt: r.pinnedAt.toISOString() });
      out.set(r.sessionId, list);
    }
    return out;
  }

  /**
   * Every pin of a session with its times, oldest first (a product pinned twice is there
   * twice): the timeline players and playlists follow.
   */
  async timeline(sessionId: string): Promise<PinSpan[]> {
    const rows = (await this.db.query(
      `SELECT product_id, pinned_at, unpinned_at FROM pin_history
        WHERE session_id = $1 ORDER BY pinned_at, id`,
      [sessionId],
    )) as Array<{ product_id: string; pinned_at: Date; unpinned_at: Date | null }>;
    return rows.map((r) => ({
      productId: r.product_id,
      pinnedAt: r.pinned_at.toISOString(),
      unpinnedAt: r.unpinned_at ? r.unpinned_at.toISOString() : null,
    }));
  }

  private async session(
    m: EntityManager,
    partnerId: string,
    sessionId: string,
  ): Promise<{ id: string; status: string; brand_id: string | null }> {
    if (!isUuid(sessionId)) throw AppError.notFound('session');
    const rows = (await m.query(
      `SELECT s.id, s.status, c.brand_id FROM sessions s JOIN channels c ON c.id = s.channel_id
        WHERE s.id = $1 AND s.partner_id = $2 FOR SHARE OF s`,
      [sessionId, partnerId],
    )) as Array<{ id: string; status: string; brand_id: string | null }>;
    if (!rows[0]) throw AppError.notFound('session');
    return rows[0];
  }

  private async liveSession(
    m: EntityManager,
    partnerId: string,
    sessionId: string,
  ): Promise<{ id: string; brand_id: string }> {
    const s = await this.session(m, partnerId, sessionId);
    if (s.status !== 'live') {
      throw new AppError(
        ErrorCode.Conflict,
        'products can be pinned only while the session is live',
      );
    }
    if (!s.brand_id) {
      throw AppError.validation(
        'productId',
        'the channel has no brand: link one to pin its products',
      );
    }
    return { id: s.id, brand_id: s.brand_id };
  }
}
