import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { AppError } from '../common/errors';
import { isUuid } from '../common/pagination';
import { hashSecret, randomToken, secretMatches } from '../common/secrets';
import { ApiKey } from './api-key.entity';
import { Partner } from './partner.entity';
import { ApiKeyViewDto, PartnerViewDto, UpdatePartnerDto } from './partner.dto';

const API_KEY_RE = /^cbk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function newApiKey(): { lookup: string; key: string } {
  const lookup = randomBytes(8).toString('hex');
  return { lookup, key: `cbk_${lookup}_${randomToken(32)}` };
}

@Injectable()
export class PartnersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Partner) private readonly partners: Repository<Partner>,
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
  ) {}

  async create(name: string): Promise<{ partner: Partner; apiKey: string; apiKeyId: string }> {
    return this.db.transaction(async (m) => {
      const partner = await m.getRepository(Partner).save({ name, allowedReturnOrigins: [] });
      const { id, apiKey } = await this.insertKey(m.getRepository(ApiKey), partner.id);
      return { partner, apiKey, apiKeyId: id };
    });
  }

  async addApiKey(partnerId: string): Promise<{ id: string; apiKey: string }> {
    await this.get(partnerId);
    return this.insertKey(this.apiKeys, partnerId);
  }

  async listApiKeys(partnerId: string): Promise<ApiKeyViewDto[]> {
    await this.get(partnerId);
    const keys = await this.apiKeys.find({ where: { partnerId }, order: { createdAt: 'ASC' } });
    return keys.map((k) => ({
      id: k.id,
      prefix: `cbk_${k.lookup}`,
      createdAt: k.createdAt.toISOString(),
      lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    }));
  }

  async deleteApiKey(partnerId: string, keyId: string): Promise<void> {
    if (!isUuid(keyId)) throw AppError.notFound('api key');
    const res = await this.apiKeys.delete({ id: keyId, partnerId });
    if (!res.affected) throw AppError.notFound('api key');
  }

  async get(partnerId: string): Promise<Partner> {
    const p = isUuid(partnerId) ? await this.partners.findOneBy({ id: partnerId }) : null;
    if (!p) throw AppError.notFound('partner');
    return p;
  }

  async update(partnerId: string, dto: UpdatePartnerDto): Promise<Partner> {
    const p = await this.get(partnerId);
    if (dto.name !== undefined) p.name = dto.name;
    if (dto.allowedReturnOrigins !== undefined) {
      p.allowedReturnOrigins = [...new Set(dto.allowedReturnOrigins)];
    }
    return this.partners.save(p);
  }

  /** The partner id of a valid API key, or null. Constant-time on the secret part. */
  async authenticate(presented: string): Promise<string | null> {
    const m = API_KEY_RE.exec(presented);
    if (!m) return null;
    const row = await this.apiKeys.findOneBy({ lookup: m[1] });
    if (!row || !secretMatches(presented, row.keyHash)) return null;
    // Coarse "last used" (at most once a minute per key) keeps auth off the write path.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      void this.apiKeys.update({ id: row.id }, { lastUsedAt: new Date() }).catch(() => undefined);
    }
    return row.partnerId;
  }

  toView(p: Partner): PartnerViewDto {
    return {
      id: p.id,
      name: p.name,
      allowedReturnOrigins: p.allowedReturnOrigins,
      createdAt: p.createdAt.toISOString(),
    };
  }

  private async insertKey(
    repo: Repository<ApiKey>,
    partnerId: string,
  ): Promise<{ id: string; apiKey: string }> {
    const { lookup, key } = newApiKey();
    const row = await repo.save({ partnerId, lookup, keyHash: hashSecret(key), lastUsedAt: null });
    return { id: row.id, apiKey: key };
  }
}
