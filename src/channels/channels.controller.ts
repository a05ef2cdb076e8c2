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
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateChannelDto,
  ): Promise<ChannelDto> {
    const { channel, streamKey } = await this.channels.create(partnerId, dto);
    return this.channels.toDto(channel, streamKey);
  }

  @Get()
  async list(@CurrentPartner() partnerId: string, @Query() q: PageQuery): Promise<ChannelPageDto> {
    const page = await this.channels.list(partnerId, q.limit, q.cursor);
    return { data: page.data.map((c) => this.channels.toDto(c)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<ChannelDto> {
    return this.channels.toDto(await this.channels.get(partnerId, id));
  }

  @Patch(':id')
  async update(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Body() dto: UpdateChannelDto,
  ): Promise<ChannelDto> {
    return this.channels.toDto(await this.channels.update(partnerId, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    // API.md: a live channel is disconnected first (its session ends with its events;
    // the ingest node holding the publisher drops it within a second).
    const channel = await this.channels.get(partnerId, id);
    if (channel.currentSessionId)
      await this.sessions.endSession(channel.currentSessionId, 'stopped');
    await this.channels.remove(channel);
  }

  @Post(':id/stream-key')
  async rotate(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<StreamKeyDto> {
    return { streamKey: await this.channels.rotateStreamKey(partnerId, id) };
  }
}
