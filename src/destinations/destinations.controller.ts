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
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { DESTINATION_RUNTIME, DestinationRuntime } from './destination-runtime';
import {
  CreateDestinationDto,
  DestinationDto,
  DestinationListDto,
  UpdateDestinationDto,
} from './destination.dto';
import { Destination } from './destination.entity';
import { DestinationsService } from './destinations.service';
import { ApiDoc } from '../common/api-docs';

@ApiTags('destinations')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/channels/:channelId/destinations')
export class DestinationsController {
  constructor(
    private readonly destinations: DestinationsService,
    @Inject(DESTINATION_RUNTIME) private readonly relays: DestinationRuntime,
  ) {}

  @Post()
  @ApiDoc({
    summary: 'Add a destination to a channel',
    description:
      'Where the channel\'s stream is carried. By `kind`:\n\n- `social_platform`, `partner_shop`: `url` is required (`rtmp://` or `rtmps://`), `streamKey` optional (appended as the last path segment, as platforms expect). `preset` (youtube, facebook, instagram, tiktok, twitch, linkedin) checks the stream against that platform; `profile` is `"passthrough"` (default), `"auto"` or a transcode profile.\n- `brand_site`: no `url` or `streamKey`; the answer carries `playback.hlsUrl` and `playback.embedUrl` (the shoppable player to put in an iframe).\n\nDestinations on private or loopback addresses are refused unless `EGRESS_ALLOW_PRIVATE_NETWORKS=true`. Added while the channel is live, an enabled destination starts within 3 s; its relay state is in `GET /v1/sessions/{id}` \u2192 `destinations[]`.',
    status: 201,
    type: DestinationDto,
    errors: [400, 404, 409],
    example: {
      id: '3b0d6f4e-1c2a-4e5f-8a9b-0c1d2e3f4a5b',
      channelId: '8d1c2e5a-3f4b-4a6e-9c7d-2b1a0f9e8d7c',
      name: 'Brand site',
      kind: 'brand_site',
      url: null,
      streamKeyHint: null,
      enabled: true,
      preset: 'custom',
      profile: 'passthrough',
      playback: {
        hlsUrl: 'http://localhost:3000/hls/3b0d6f4e-1c2a-4e5f-8a9b-0c1d2e3f4a5b/index.m3u8',
        embedUrl: 'http://localhost:3000/embed/3b0d6f4e-1c2a-4e5f-8a9b-0c1d2e3f4a5b',
      },
      state: 'idle',
      createdAt: '2026-12-02T10:00:00.000Z',
      updatedAt: '2026-12-02T10:00:00.000Z',
    },
  })
  async create(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Body() dto: CreateDestinationDto,
  ): Promise<DestinationDto> {
    const d = await this.destinations.create(partnerId, channelId, dto);
    await this.relays.syncChannel(channelId);
    return this.view(partnerId, d);
  }

  @Get()
  @ApiDoc({
    summary: "List a channel's destinations",
    description:
      'Every destination of the channel with its `state` in the current session (`idle` when the channel is not live). Stream keys are never shown, only `streamKeyHint`.',
    type: DestinationListDto,
    errors: [404],
  })
  async list(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
  ): Promise<DestinationListDto> {
    return { data: await this.destinations.views(partnerId, channelId) };
  }

  @Get(':destinationId')
  @ApiDoc({
    summary: 'Get a destination',
    description:
      "`state` is the destination's relay state in the channel's current session, `idle` when not live. The relay's figures (bytes, bitrate, attempts, warnings) are in `GET /v1/sessions/{id}` \u2192 `destinations[]`.",
    type: DestinationDto,
    errors: [404],
  })
  async get(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Param('destinationId') id: string,
  ): Promise<DestinationDto> {
    return this.view(partnerId, await this.destinations.get(partnerId, channelId, id));
  }

  @Patch(':destinationId')
  @ApiDoc({
    summary: 'Change a destination',
    description:
      'Any of `name`, `url`, `streamKey` (`null` removes it), `enabled`, `preset`, `profile`. While live, a change of url/key/profile restarts this destination only; disabling stops it; enabling starts it (within 3 s).',
    type: DestinationDto,
    errors: [400, 404, 409],
  })
  async update(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Param('destinationId') id: string,
    @Body() dto: UpdateDestinationDto,
  ): Promise<DestinationDto> {
    const d = await this.destinations.update(partnerId, channelId, id, dto);
    await this.relays.syncChannel(channelId);
    return this.view(partnerId, d);
  }

  @Delete(':destinationId')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete a destination',
    description: 'While live its relay stops (state `stopped`).',
    status: 204,
    errors: [404],
  })
  async remove(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Param('destinationId') id: string,
  ): Promise<void> {
    await this.destinations.remove(partnerId, channelId, id);
    await this.relays.syncChannel(channelId);
  }

  private async view(partnerId: string, d: Destination): Promise<DestinationDto> {
    const [dto] = await this.destinations.views(partnerId, d.channelId, [d]);
    return dto as DestinationDto;
  }
}
