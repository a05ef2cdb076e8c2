import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { AppError } from '../common/errors';
import { decodeCursor, encodeCursor, isUuid, Page } from '../common/pagination';
import { hashSecret, randomToken } from '../common/secrets';
import { BrandsService } from '../brands/brands.service';
import { Channel } from './channel.entity';
import { ChannelDto, CreateChannelDto, UpdateChannelDto } from './channel.dto';

export function newStreamKey(): string {
  return `live_${randomToken(24)}`;
}

@Injectable()
export class ChannelsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Channel) private readonly channels: Repository<Channel>,
    private readonly brands: BrandsService,
  ) {}

  get ingestUrl(): string {
    return `rtmp://${this.config.rtmp.publicHost}:${this.config.rtmp.port}/live`;
  }

  /** The RTMPS ingest URL when RTMPS is configured (API.md `ingest.secureUrl`). */
  get secureIngestUrl(): string | null {
    const tls = this.config.rtmp.tls;
    return tls ? `rtmps://${this.config.rtmp.publicHost}:${tls.port}/live` : null;
  }

  async create(
    partnerId: string,
    dto: CreateChannelDto,
  ): Promise<{ channel: Channel; streamKey: string }> {
    if (dto.brandId) await this.assertBrand(partnerId, dto.brandId);
    const streamKey = newStreamKey();
    const channel = await this.channels.save({
      partnerId,
      name: dto.name,
      brandId: dto.brandId ?? null,
      streamKeyHash: hashSecret(streamKey),
      currentSessionId: null,
      recording: dto.recording ?? false,
    });
    return { channel, streamKey };
  }

  async list(partnerId: string, limit = 50, cursor?: string): Promise<Page<Channel>> {
    const qb = this.channels
      .createQueryBuilder('c')
      .where('c.partner_id = :partnerId', { partnerId })
      .orderBy('c.created_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .take(limit + 1);
    if (cursor) {
      const c = decodeCursor(cursor);
      qb.andWhere('(c.created_at, c.id) < (:createdAt, :id)', c);
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { data: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** The partner's channel; another partner's id is "not found". */
  async get(partnerId: string, id: string): Promise<Channel> {
    const c = isUuid(id) ? await this.channels.findOneBy({ id, partnerId }) : null;
    if (!c) throw AppError.notFound('channel');
    return c;
  }

  async update(partnerId: string, id: string, dto: UpdateChannelDto): Promise<Channel> {
    const c = await this.get(partnerId, id);
    if (dto.brandId) await this.assertBrand(partnerId, dto.brandId);
    if (dto.name !== undefined) c.name = dto.name;
    if (dto.brandId !== undefined) c.brandId = dto.brandId;
    if (dto.recording !== undefined) c.recording = dto.recording;
    return this.channels.save(c);
  }

  /** Deletes a channel the caller has loaded with `get` (so it is the partner's). */
  async remove(c: Channel): Promise<void> {
    await this.channels.delete({ id: c.id, partnerId: c.partnerId });
  }

  /** A new stream key; the old one stops matching as soon as this commits. */
  async rotateStreamKey(partnerId: string, id: string): Promise<string> {
    const c = await this.get(partnerId, id);
    const streamKey = newStreamKey();
    await this.channels.update({ id: c.id, partnerId }, { streamKeyHash: hashSecret(streamKey) });
    return streamKey;
  }

  /**
   * The channel of a stream key, locked for the caller's transaction (the ingest's
   * publish check: a second publisher waits until the first one's session committed).
   */
  async lockByStreamKeyHash(
    m: EntityManager,
    keyHash: Buffer,
  ): Promise<{ id: string; partnerId: string; recording: boolean } | null> {
    const [row] = (await m.query(
      `SELECT id, partner_id, recording FROM channels WHERE stream_key_hash = $1 FOR UPDATE`,
      [keyHash],
    )) as Array<{ id: string; partner_id: string; recording: boolean }>;
    return row ? { id: row.id, partnerId: row.partner_id, recording: row.recording } : null;
  }

  /** The channel is live with this session (`currentSessionId`), in the caller's transaction. */
  async setCurrentSession(m: EntityManager, channelId: string, sessionId: string): Promise<void> {
    await m.query(`UPDATE channels SET current_session_id = $1 WHERE id = $2`, [
      sessionId,
      channelId,
    ]);
  }

  /** The session ended: its channel (if it still points at it) is idle again. */
  async clearCurrentSession(m: EntityManager, sessionId: string): Promise<void> {
    await m.query(`UPDATE channels SET current_session_id = NULL WHERE current_session_id = $1`, [
      sessionId,
    ]);
  }

  /** Used by the ingest to authorize a publish. */
  findByStreamKey(streamKey: string): Promise<Channel | null> {
    return this.channels.findOneBy({ streamKeyHash: hashSecret(streamKey) });
  }

  toDto(c: Channel, streamKey?: string): ChannelDto {
    return {
      id: c.id,
      name: c.name,
      brandId: c.brandId,
      status: c.currentSessionId ? 'live' : 'idle',
      currentSessionId: c.currentSessionId,
      recording: c.recording,
      ingest: {
        url: this.ingestUrl,
        ...(this.secureIngestUrl ? { secureUrl: this.secureIngestUrl } : {}),
        ...(streamKey ? { streamKey } : {}),
      },
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }

  private async assertBrand(partnerId: string, brandId: string): Promise<void> {
    try {
      await this.brands.get(partnerId, brandId);
    } catch {
      throw AppError.validation('brandId', 'brand does not exist');
    }
  }
}
