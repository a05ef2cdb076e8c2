import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { PinDto, PinProductDto } from './pin.dto';
import { PinsService } from './pins.service';
import { ApiDoc } from '../common/api-docs';

@ApiTags('live shopping')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/sessions/:sessionId/pins')
export class PinsController {
  constructor(private readonly pins: PinsService) {}

  @Post()
  @ApiDoc({
    summary: 'Pin a product during a live',
    description:
      "Shows the product in the brand-site player (and `session.product_pinned` to webhooks). The session must be live and the product must belong to the channel's brand.",
    status: 201,
    type: PinDto,
    errors: [400, 404, 409],
    example: {
      productId: '7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9',
      pinnedAt: '2026-12-02T10:00:00.000Z',
    },
  })
  pin(
    @CurrentPartner() partnerId: string,
    @Param('sessionId') sessionId: string,
    @Body() dto: PinProductDto,
  ): Promise<PinDto> {
    return this.pins.pin(partnerId, sessionId, dto.productId);
  }

  @Delete(':productId')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Unpin a product',
    description: 'Removes it from the player (`session.product_unpinned`).',
    status: 204,
    errors: [404],
  })
  async unpin(
    @CurrentPartner() partnerId: string,
    @Param('sessionId') sessionId: string,
    @Param('productId') productId: string,
  ): Promise<void> {
    await this.pins.unpin(partnerId, sessionId, productId);
  }
}
