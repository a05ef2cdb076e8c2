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
    return { data: await this.destinations.views(partnerId, channelId) };
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
    const [dto] = await this.destinations.views(partnerId, d.channelId, [d]);
    return dto as DestinationDto;
  }
}
