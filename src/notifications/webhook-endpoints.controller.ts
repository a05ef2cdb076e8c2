import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import {
  CreateWebhookEndpointDto,
  DeliveryDto,
  DeliveryPageDto,
  DeliveryQuery,
  UpdateWebhookEndpointDto,
  WebhookEndpointDto,
  WebhookEndpointListDto,
  WebhookSecretDto,
} from './webhook-endpoint.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { toDeliveryDto, toEndpointDto } from './webhook.mappers';

@ApiTags('webhooks')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(
    private readonly endpoints: WebhookEndpointsService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Post()
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    const { endpoint, secret } = await this.endpoints.create(partnerId, dto);
    return toEndpointDto(endpoint, secret);
  }

  @Get()
  async list(@CurrentPartner() partnerId: string): Promise<WebhookEndpointListDto> {
    return { data: (await this.endpoints.list(partnerId)).map((e) => toEndpointDto(e)) };
  }

  @Get(':id')
  async get(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.endpoints.get(partnerId, id));
  }

  @Patch(':id')
  async update(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.endpoints.update(partnerId, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.endpoints.remove(partnerId, id);
  }

  @Post(':id/secret')
  async rotate(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<WebhookSecretDto> {
    return { secret: await this.endpoints.rotateSecret(partnerId, id) };
  }

  @Get(':id/deliveries')
  async deliveriesOf(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Query() q: DeliveryQuery,
  ): Promise<DeliveryPageDto> {
    const page = await this.deliveries.list(partnerId, id, q);
    return { data: page.data.map((d) => toDeliveryDto(d)), nextCursor: page.nextCursor };
  }

  @Get(':id/deliveries/:deliveryId')
  async delivery(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
  ): Promise<DeliveryDto> {
    const { delivery, attempts } = await this.deliveries.get(partnerId, id, deliveryId);
    return toDeliveryDto(delivery, attempts);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  @HttpCode(202)
  async retry(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
  ): Promise<void> {
    await this.deliveries.retry(partnerId, id, deliveryId);
  }
}
