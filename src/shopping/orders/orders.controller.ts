import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPartner, PartnerAuthGuard } from '../../partners/auth.guards';
import { CreateOrderDto, OrderDto } from './order.dto';
import { OrdersService } from './orders.service';
import { ApiDoc } from '../../common/api-docs';

@ApiTags('orders')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiDoc({
    summary: "Place an order in the brand's store",
    description:
      'An order a viewer made during a live. Checked against the catalog (variants of the brand, stock where the store tracks it); prices and total come from the catalog. Answered 202 with the order `pending`; a worker creates it in the store and `order.placed` or `order.failed` follows. The same `externalId` again answers that same order with 200 (safe to retry).',
    status: 202,
    type: OrderDto,
    errors: [400, 404, 409],
    responseDescription: 'Accepted; placed in the store by a job',
  })
  @ApiOkResponse({ type: OrderDto, description: 'This externalId was sent before: that order' })
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateOrderDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderDto> {
    const { order, created } = await this.orders.create(partnerId, dto);
    res.status(created ? 202 : 200);
    return order;
  }

  @Get(':id')
  @ApiDoc({
    summary: 'Get an order',
    description:
      '`status`: `pending`, `placed`, `failed` (with `failureReason`), then `paid`, `fulfilled`, `cancelled` or `refunded` as the store reports them.',
    type: OrderDto,
    errors: [404],
  })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<OrderDto> {
    return this.orders.get(partnerId, id);
  }
}
