import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/api-docs';
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
  @ApiDoc({
    summary: "Export or erase one buyer's personal data",
    status: 202,
    type: PrivacyRequestDto,
    responseDescription: 'The request, as it ran',
    errors: [400],
    description:
      "Finds the calling partner's orders whose buyer has this email (matched " +
      'case-insensitively through a keyed blind index; the email itself is not stored). ' +
      '`export` returns every personal field held for the buyer, per order, in `data`; ' +
      '`erase` removes them (the orders, their lines, totals and states stay), and every ' +
      'partner whose orders held the buyer receives `privacy.buyer_erased` ' +
      '`{requestId, orderIds}`. The request is kept as an audit record (who, when, how many ' +
      'orders; never the data).',
  })
  create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreatePrivacyRequestDto,
  ): Promise<PrivacyRequestDto> {
    return this.requests.requestFromApi(partnerId, dto.kind, dto.email);
  }

  @Get(':id')
  @ApiDoc({
    summary: 'A privacy request',
    type: PrivacyRequestDto,
    errors: [404],
    description:
      "One of the partner's privacy requests (those Shopify's compliance webhooks made " +
      'for its stores included, `source: "shopify"`). A completed export carries `data` for ' +
      '7 days, and until the buyer is erased.',
  })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<PrivacyRequestDto> {
    return this.requests.get(partnerId, id);
  }
}
