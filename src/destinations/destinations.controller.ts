import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ChannelsService } from '../channels/channels.service';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { RelayOrchestrator } from '../relay/relay-orchestrator.service';
import {
  CreateDestinationDto,
  DestinationDto,
  DestinationListDto,
  UpdateDestinationDto,
} from './destination.dto';
import { Destination } from './destination.entity';
import { DestinationsService } from './destinations.service';

@ApiTags('destinations')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/channels/:channelId/destinations')
export class DestinationsController {
  constructor(
    private readonly destinations: DestinationsService,
    private readonly channels: ChannelsService,
    private readonly relays: RelayOrchestrator,
  ) {}

  @Post()
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
  async list(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
  ): Promise<DestinationListDto> {
    const rows = await this.destinations.list(partnerId, channelId);
    const channel = await this.channels.get(partnerId, channelId);
    const states = await this.destinations.states(
      channel.currentSessionId,
      rows.map((r) => r.id),
    );
    return {
      data: rows.map((d) =>
        this.destinations.toDto(d, stateOf(channel.currentSessionId, states.get(d.id))),
      ),
    };
  }

  @Get(':destinationId')
  async get(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Param('destinationId') id: string,
  ): Promise<DestinationDto> {
    return this.view(partnerId, await this.destinations.get(partnerId, channelId, id));
  }

  @Patch(':destinationId')
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
  async remove(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Param('destinationId') id: string,
  ): Promise<void> {
    await this.destinations.remove(partnerId, channelId, id);
    await this.relays.syncChannel(channelId);
  }

  private async view(partnerId: string, d: Destination): Promise<DestinationDto> {
    const channel = await this.channels.get(partnerId, d.channelId);
    const states = await this.destinations.states(channel.currentSessionId, [d.id]);
    return this.destinations.toDto(d, stateOf(channel.currentSessionId, states.get(d.id)));
  }
}

/** API.md: `idle` when the channel is not live; a live channel without a relay for it: `stopped`. */
function stateOf(currentSessionId: string | null, relayState: string | undefined): string {
  if (!currentSessionId) return 'idle';
  return relayState ?? 'stopped';
}
