import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { CreatePrivacyRequestDto, PrivacyRequestDto } from './privacy.dto';
import { PrivacyRequestsService } from './privacy-requests.service';

@ApiTags('privacy')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/privacy/requests')
export class PrivacyController {
  constructor(private readonly requests: PrivacyRequestsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: "Export or erase one buyer's personal data",
    description:
      "Finds the calling partner's orders whose buyer has this email (matched " +
      'case-insensitively through a keyed blind index; the email itself is not stored). ' +
      '`export` returns every personal field held for the buyer, per order, in `data`; ' +
      '`erase` removes them (the orders, their lines, totals and states stay), and every ' +
      'partner whose orders held the buyer receives `privacy.buyer_erased` ' +
      '`{requestId, orderIds}`. The request is kept as an audit record (who, when, how many ' +
      'orders; never the data).',
  })
  @ApiAcceptedResponse({ type: PrivacyRequestDto, description: 'The request, as it ran' })
  create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreatePrivacyRequestDto,
  ): Promise<PrivacyRequestDto> {
    return this.requests.requestFromApi(partnerId, dto.kind, dto.email);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A privacy request',
    description:
      "One of the partner's privacy requests (those Shopify's compliance webhooks made " +
      'for its stores included, `source: "shopify"`). A completed export carries `data` for ' +
      '7 days, and until the buyer is erased.',
  })
  @ApiOkResponse({ type: PrivacyRequestDto })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<PrivacyRequestDto> {
    return this.requests.get(partnerId, id);
  }
}
