import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../common/pagination';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import {
  ChannelDto,
  ChannelPageDto,
  CreateChannelDto,
  StreamKeyDto,
  UpdateChannelDto,
} from './channel.dto';
import { ChannelsService } from './channels.service';
import { LIVE_SESSIONS, LiveSessions } from './live-sessions';
import { ApiDoc } from '../common/api-docs';

@ApiTags('channels')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/channels')
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    @Inject(LIVE_SESSIONS) private readonly sessions: LiveSessions,
  ) {}

  @Post()
  @ApiDoc({
    summary: 'Create a channel',
    description:
      "A creator's live channel. The answer carries `ingest.url` and, **only here and on rotate**, `ingest.streamKey`: the creator publishes RTMP to `<ingest.url>/<streamKey>` (OBS: Server = `ingest.url`, Stream Key = `streamKey`). `brandId` links the channel to a brand, whose products can then be pinned during its sessions.",
    status: 201,
    type: ChannelDto,
    errors: [400],
    example: {
      id: '8d1c2e5a-3f4b-4a6e-9c7d-2b1a0f9e8d7c',
      name: 'Morning show',
      brandId: null,
      status: 'idle',
      currentSessionId: null,
      ingest: { url: 'rtmp://localhost:1935/live', streamKey: 'sk_live_3Jq\u2026' },
      createdAt: '2026-12-02T10:00:00.000Z',
      updatedAt: '2026-12-02T10:00:00.000Z',
    },
  })
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateChannelDto,
  ): Promise<ChannelDto> {
    const { channel, streamKey } = await this.channels.create(partnerId, dto);
    return this.channels.toDto(channel, streamKey);
  }

  @Get()
  @ApiDoc({
    summary: 'List channels',
    description:
      "The partner's channels, newest first, `limit` (1–100, default 50) at a time; pass `nextCursor` back as `cursor` for the next page.",
    type: ChannelPageDto,
    errors: [400],
  })
  async list(@CurrentPartner() partnerId: string, @Query() q: PageQuery): Promise<ChannelPageDto> {
    const page = await this.channels.list(partnerId, q.limit, q.cursor);
    return { data: page.data.map((c) => this.channels.toDto(c)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiDoc({
    summary: 'Get a channel',
    description:
      '`status` is `live` while a creator publishes; `currentSessionId` then names the session (`GET /v1/sessions/{id}` has its relays). Never shows the stream key.',
    type: ChannelDto,
    errors: [404],
  })
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<ChannelDto> {
    return this.channels.toDto(await this.channels.get(partnerId, id));
  }

  @Patch(':id')
  @ApiDoc({
    summary: 'Rename a channel or change its brand',
    description: 'Fields left out are unchanged; `brandId: null` unlinks the brand.',
    type: ChannelDto,
    errors: [400, 404],
  })
  async update(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Body() dto: UpdateChannelDto,
  ): Promise<ChannelDto> {
    return this.channels.toDto(await this.channels.update(partnerId, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete a channel',
    description:
      'A live channel is disconnected first: its session ends (with `session.ended`) and the publisher is dropped within a second.',
    status: 204,
    errors: [404],
  })
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    // API.md: a live channel is disconnected first (its session ends with its events;
    // the ingest node holding the publisher drops it within a second).
    const channel = await this.channels.get(partnerId, id);
    if (channel.currentSessionId)
      await this.sessions.endSession(channel.currentSessionId, 'stopped');
    await this.channels.remove(channel);
  }

  @Post(':id/stream-key')
  @ApiDoc({
    summary: 'Rotate the stream key',
    description:
      'A new key, shown only in this answer. The old key stops working at once and a publisher live on it is disconnected.',
    status: 201,
    type: StreamKeyDto,
    errors: [404],
  })
  async rotate(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<StreamKeyDto> {
    return { streamKey: await this.channels.rotateStreamKey(partnerId, id) };
  }
}
