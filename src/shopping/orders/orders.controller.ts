import { Body, Controller, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPartner, PartnerAuthGuard } from '../../partners/auth.guards';
import { CreateOrderDto, OrderDto } from './order.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiAcceptedResponse({ type: OrderDto, description: 'Accepted; placed in the store by a job' })
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
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<OrderDto> {
    return this.orders.get(partnerId, id);
  }
}
