import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { PinDto, PinProductDto } from './pin.dto';
import { PinsService } from './pins.service';

@ApiTags('live shopping')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/sessions/:sessionId/pins')
export class PinsController {
  constructor(private readonly pins: PinsService) {}

  @Post()
  pin(
    @CurrentPartner() partnerId: string,
    @Param('sessionId') sessionId: string,
    @Body() dto: PinProductDto,
  ): Promise<PinDto> {
    return this.pins.pin(partnerId, sessionId, dto.productId);
  }

  @Delete(':productId')
  @HttpCode(204)
  async unpin(
    @CurrentPartner() partnerId: string,
    @Param('sessionId') sessionId: string,
    @Param('productId') productId: string,
  ): Promise<void> {
    await this.pins.unpin(partnerId, sessionId, productId);
  }
}
