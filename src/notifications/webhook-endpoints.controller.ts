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
import { ApiDoc } from '../common/api-docs';

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
  @ApiDoc({
    summary: 'Subscribe a webhook endpoint',
    description:
      'Events are POSTed to `url` as `{id, type, createdAt, data}`, signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). `events`: `["*"]` or event type names. `secret` (`whsec_\u2026`) is shown only here and on rotate. Any 2xx is success; failures are retried with backoff for at least 24 h.',
    status: 201,
    type: WebhookEndpointDto,
    errors: [400, 409],
  })
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    const { endpoint, secret } = await this.endpoints.create(partnerId, dto);
    return toEndpointDto(endpoint, secret);
  }

  @Get()
  @ApiDoc({
    summary: 'List webhook endpoints',
    description: 'Never shows secrets.',
    type: WebhookEndpointListDto,
  })
  async list(@CurrentPartner() partnerId: string): Promise<WebhookEndpointListDto> {
    return { data: (await this.endpoints.list(partnerId)).map((e) => toEndpointDto(e)) };
  }

  @Get(':id')
  @ApiDoc({
    summary: 'Get a webhook endpoint',
    description: '`enabled` turns false after 5 days of failures or a 410 answer.',
    type: WebhookEndpointDto,
    errors: [404],
  })
  async get(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.endpoints.get(partnerId, id));
  }

  @Patch(':id')
  @ApiDoc({
    summary: 'Change a webhook endpoint',
    description: 'Any of `url`, `events`, `enabled` (re-enable one that was disabled).',
    type: WebhookEndpointDto,
    errors: [400, 404],
  })
  async update(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Body() dto: UpdateWebhookEndpointDto,
  ): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.endpoints.update(partnerId, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete a webhook endpoint',
    description: 'No more events are sent to it.',
    status: 204,
    errors: [404],
  })
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.endpoints.remove(partnerId, id);
  }

  @Post(':id/secret')
  @ApiDoc({
    summary: 'Rotate the signing secret',
    description:
      'A new secret, shown only here; for 24 h deliveries are signed with both the old and the new one.',
    status: 201,
    type: WebhookSecretDto,
    errors: [404],
  })
  async rotate(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<WebhookSecretDto> {
    return { secret: await this.endpoints.rotateSecret(partnerId, id) };
  }

  @Get(':id/deliveries')
  @ApiDoc({
    summary: 'List deliveries to an endpoint',
    description: 'Newest first; `status` filters (`pending`, `delivered`, `failed`).',
    type: DeliveryPageDto,
    errors: [400, 404],
  })
  async deliveriesOf(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Query() q: DeliveryQuery,
  ): Promise<DeliveryPageDto> {
    const page = await this.deliveries.list(partnerId, id, q);
    return { data: page.data.map((d) => toDeliveryDto(d)), nextCursor: page.nextCursor };
  }

  @Get(':id/deliveries/:deliveryId')
  @ApiDoc({
    summary: 'Get a delivery with its attempts',
    description: 'Each attempt with its response status and time.',
    type: DeliveryDto,
    errors: [404],
  })
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
  @ApiDoc({
    summary: 'Send a delivery again',
    description: 'Queues one more attempt now.',
    status: 202,
    errors: [404, 409],
  })
  async retry(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
  ): Promise<void> {
    await this.deliveries.retry(partnerId, id, deliveryId);
  }
}
