import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { assertUrlAllowed } from '../common/egress-guard';
import { AppError, ErrorCode } from '../common/errors';
import { isUuid } from '../common/pagination';
import { SecretBox } from '../common/secret-box';
import { secretHint } from '../common/secrets';
import { ChannelsService } from '../channels/channels.service';
import { DESTINATION_RUNTIME, DestinationRuntime } from './destination-runtime';
import { Destination, DestinationKind, DestinationProfile } from './destination.entity';
import { CreateDestinationDto, DestinationDto, UpdateDestinationDto } from './destination.dto';
import { presetOf } from './destination-presets';
import { checkProfileForPreset, parseProfile, profileView } from './transcode-profile';

export const PUSH_SCHEMES = ['rtmp', 'rtmps'];

/** The URL ffmpeg pushes to: the stream key is appended as the last path segment. */
export function pushUrl(url: string, streamKey: string | null): string {
  if (!streamKey) return url;
  return `${url.replace(/\/+$/, '')}/${streamKey}`;
}

/**
 * Counts toward MAX_TRANSCODES_PER_PARTNER: an enabled push destination (social platform,
 * partner shop) with a transcode profile, i.e. one that may run an encoder while live.
 * `auto` counts: whether it transcodes depends on the ingest, which is not known when the
 * destination is written and may change during a session, and the cap is there to bound
 * the encoders a partner can make Castbridge run. Destinations count one each even when
 * they share an encoder (several with the same output): the cap is on what a partner
 * configures, not on what a given ingest happens to need.
 */
export function countsAsTranscode(d: {
  kind: DestinationKind;
  enabled: boolean;
  profile: DestinationProfile;
}): boolean {
  return d.enabled && d.profile !== null && d.kind !== 'brand_site';
}

/** What a destination's sealed stream key is bound to (AES-GCM additional data). */
export function destinationKeyAad(destinationId: string): string {
  return `destination:${destinationId}`;
}

@Injectable()
export class DestinationsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Destination) private readonly destinations: Repository<Destination>,
    private readonly channels: ChannelsService,
    private readonly box: SecretBox,
    @Inject(DESTINATION_RUNTIME) private readonly runtime: DestinationRuntime,
  ) {}

  private get egress() {
    return { allowPrivateNetworks: this.config.egressAllowPrivateNetworks };
  }

  async create(
    partnerId: string,
    channelId: string,
    dto: CreateDestinationDto,
  ): Promise<Destination> {
    await this.channels.get(partnerId, channelId);
    const { profile, problems } = parseProfile(dto.profile);
    const preset = dto.preset ?? 'custom';
    if (problems.length === 0) {
      problems.push(...checkProfileForPreset(dto.kind, presetOf(preset), profile, 'profile'));
    }
    if (dto.kind === 'brand_site') {
      if (dto.url !== undefined)
        problems.push({ field: 'url', message: 'url must not be set for brand_site' });
      if (dto.streamKey !== undefined) {
        problems.push({ field: 'streamKey', message: 'streamKey must not be set for brand_site' });
      }
    } else if (dto.url === undefined) {
      problems.push({ field: 'url', message: `url is required for ${dto.kind}` });
    }
    if (problems.length) throw this.invalid(problems);
    const url = dto.url
      ? (await assertUrlAllowed('url', dto.url, PUSH_SCHEMES, this.egress)).toString()
      : null;

    const enabled = dto.enabled ?? true;
    return this.db.transaction(async (m) => {
      await this.checkCaps(m, partnerId, {
        channelId,
        transcode: countsAsTranscode({ kind: dto.kind, enabled, profile }),
      });
      const repo = m.getRepository(Destination);
      const row = await repo.save({
        partnerId,
        channelId,
        name: dto.name,
        kind: dto.kind,
        url,
        enabled,
        preset,
        profile,
        streamKeyKeyId: null,
        streamKeySealed: null,
        streamKeyHint: null,
      });
      if (dto.streamKey) {
        this.setStreamKey(row, dto.streamKey);
        await repo.save(row);
      }
      return row;
    });
  }

  /**
   * Destinations as read (API.md), with their state in the channel's current session:
   * the given rows, or all of the channel's. Another partner's channel is "not found".
   */
  async views(
    partnerId: string,
    channelId: string,
    rows?: Destination[],
  ): Promise<DestinationDto[]> {
    const channel = await this.channels.get(partnerId, channelId);
    const list =
      rows ??
      (await this.destinations.find({
        where: { partnerId, channelId },
        order: { createdAt: 'ASC', id: 'ASC' },
      }));
    const states = await this.states(
      channel.currentSessionId,
      list.map((d) => d.id),
    );
    return list.map((d) => this.toDto(d, stateOf(channel.currentSessionId, states.get(d.id))));
  }

  async get(partnerId: string, channelId: string, id: string): Promise<Destination> {
    const d =
      isUuid(id) && isUuid(channelId)
        ? await this.destinations.findOneBy({ id, channelId, partnerId })
        : null;
    if (!d) throw AppError.notFound('destination');
    return d;
  }

  async update(
    partnerId: string,
    channelId: string,
    id: string,
    dto: UpdateDestinationDto,
  ): Promise<Destination> {
    const d = await this.get(partnerId, channelId, id);
    const wasTranscode = countsAsTranscode(d);
    const problems: Array<{ field: string; message: string }> = [];
    let profile = d.profile;
    if (dto.profile !== undefined) {
      const parsed = parseProfile(dto.profile);
      problems.push(...parsed.problems);
      profile = parsed.profile;
    }
    const preset = dto.preset ?? d.preset;
    if (problems.length === 0 && (dto.profile !== undefined || dto.preset !== undefined)) {
      const blame = dto.profile !== undefined ? 'profile' : 'preset';
      problems.push(...checkProfileForPreset(d.kind, presetOf(preset), profile, blame));
    }
    if (d.kind === 'brand_site') {
      if (dto.url !== undefined)
        problems.push({ field: 'url', message: 'url must not be set for brand_site' });
      if (dto.streamKey !== undefined) {
        problems.push({ field: 'streamKey', message: 'streamKey must not be set for brand_site' });
      }
    }
    if (problems.length) throw this.invalid(problems);
    const url =
      dto.url !== undefined
        ? (await assertUrlAllowed('url', dto.url, PUSH_SCHEMES, this.egress)).toString()
        : d.url;

    const mediaChanged =
      url !== d.url ||
      dto.streamKey !== undefined ||
      preset !== d.preset ||
      JSON.stringify(profile) !== JSON.stringify(d.profile);
    if (dto.name !== undefined) d.name = dto.name;
    if (dto.enabled !== undefined) d.enabled = dto.enabled;
    d.url = url;
    d.preset = preset;
    d.profile = profile;
    if (dto.streamKey !== undefined) this.setStreamKey(d, dto.streamKey);
    if (mediaChanged) d.configVersion += 1;
    if (!countsAsTranscode(d) || wasTranscode) return this.destinations.save(d);
    // Enabling a transcoded destination, or giving an enabled one a profile: one more encoder.
    return this.db.transaction(async (m) => {
      await this.checkCaps(m, partnerId, { transcode: true, except: d.id });
      return m.getRepository(Destination).save(d);
    });
  }

  /**
   * The caps of API.md "Errors" (409 LIMIT_REACHED naming the cap), counted under the
   * partner's row lock so that two concurrent writes cannot both pass. FOR NO KEY UPDATE:
   * it queues this partner's cap checks behind each other without blocking the inserts
   * whose foreign keys share-lock the row.
   */
  private async checkCaps(
    m: EntityManager,
    partnerId: string,
    caps: { channelId?: string; transcode: boolean; except?: string },
  ): Promise<void> {
    const { destinationsPerChannel, transcodesPerPartner } = this.config.limits;
    await m.query('SELECT 1 FROM partners WHERE id = $1 FOR NO KEY UPDATE', [partnerId]);
    if (caps.channelId) {
      const [{ n }] = (await m.query(
        'SELECT count(*)::int AS n FROM destinations WHERE channel_id = $1',
        [caps.channelId],
      )) as Array<{ n: number }>;
      if (n >= destinationsPerChannel) {
        throw AppError.limitReached(
          'destinationsPerChannel',
          `a channel may have at most ${destinationsPerChannel} destinations (MAX_DESTINATIONS_PER_CHANNEL on this server)`,
        );
      }
    }
    if (caps.transcode) {
      const [{ n }] = (await m.query(
        `SELECT count(*)::int AS n FROM destinations
          WHERE partner_id = $1 AND enabled AND kind <> 'brand_site'
            AND profile IS NOT NULL AND profile <> 'null'::jsonb
            AND ($2::uuid IS NULL OR id <> $2::uuid)`,
        [partnerId, caps.except ?? null],
      )) as Array<{ n: number }>;
      if (n >= transcodesPerPartner) {
        throw AppError.limitReached(
          'transcodesPerPartner',
          `a partner may have at most ${transcodesPerPartner} enabled transcoded destinations (MAX_TRANSCODES_PER_PARTNER on this server)`,
        );
      }
    }
  }

  async remove(partnerId: string, channelId: string, id: string): Promise<void> {
    const d = await this.get(partnerId, channelId, id);
    await this.destinations.delete({ id: d.id, partnerId });
  }

  /** The full push URL with the decrypted key. For the relay worker only; never log it. */
  revealPushUrl(d: Destination): string {
    if (!d.url) throw new Error(`destination ${d.id} has no push URL`);
    const key =
      d.streamKeySealed && d.streamKeyKeyId
        ? this.box.open(
            { keyId: d.streamKeyKeyId, sealed: d.streamKeySealed },
            destinationKeyAad(d.id),
          )
        : null;
    return pushUrl(d.url, key);
  }

  /** Relay states of these destinations in the channel's current session. */
  private async states(
    channelCurrentSession: string | null,
    ids: string[],
  ): Promise<Map<string, string>> {
    if (!channelCurrentSession || ids.length === 0) return new Map();
    return this.runtime.relayStates(channelCurrentSession, ids);
  }

  private toDto(d: Destination, state: string): DestinationDto {
    const base = this.config.publicBaseUrl;
    return {
      id: d.id,
      channelId: d.channelId,
      name: d.name,
      kind: d.kind,
      url: d.url,
      streamKeyHint: d.streamKeyHint,
      enabled: d.enabled,
      preset: d.preset,
      profile: profileView(d.profile),
      ...(d.kind === 'brand_site'
        ? {
            playback: {
              hlsUrl: `${base}/hls/${d.id}/index.m3u8`,
              embedUrl: `${base}/embed/${d.id}`,
            },
          }
        : {}),
      state,
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    };
  }

  private setStreamKey(d: Destination, key: string | null): void {
    if (key === null) {
      d.streamKeyKeyId = d.streamKeySealed = d.streamKeyHint = null;
      return;
    }
    const sealed = this.box.seal(key, destinationKeyAad(d.id));
    d.streamKeyKeyId = sealed.keyId;
    d.streamKeySealed = sealed.sealed;
    d.streamKeyHint = secretHint(key);
  }

  private invalid(problems: Array<{ field: string; message: string }>): AppError {
    return new AppError(
      ErrorCode.ValidationFailed,
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
  }
}

/** API.md: `idle` when the channel is not live; a live channel without a relay for it: `stopped`. */
function stateOf(currentSessionId: string | null, relayState: string | undefined): string {
  if (!currentSessionId) return 'idle';
  return relayState ?? 'stopped';
}
