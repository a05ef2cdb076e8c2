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
import { AdminAuthGuard, CurrentPartner, PartnerAuthGuard } from './auth.guards';
import {
  ApiKeyCreatedDto,
  ApiKeyListDto,
  CreatePartnerDto,
  PartnerCreatedDto,
  PartnerViewDto,
  UpdatePartnerDto,
} from './partner.dto';
import { PartnersService } from './partners.service';
import { ApiDoc } from '../common/api-docs';

@ApiTags('admin')
@ApiBearerAuth('admin')
@UseGuards(AdminAuthGuard)
@Controller('v1/admin/partners')
export class AdminPartnersController {
  constructor(private readonly partners: PartnersService) {}

  @Post()
  @ApiDoc({
    summary: 'Create a partner',
    description:
      'A platform partner and its first API key. `apiKey` is shown only in this answer (it is stored hashed): give it to the partner, who sends it as `Authorization: Bearer <apiKey>` on every `/v1/*` route.',
    status: 201,
    type: PartnerCreatedDto,
    auth: 'admin',
    errors: [400],
    example: {
      id: '0f6e2d1c-9b8a-4c7d-a6e5-f4d3c2b1a098',
      name: 'Acme',
      apiKey: 'cbk_1a2b3c4d5e6f7a8b_\u2026',
    },
  })
  async create(@Body() dto: CreatePartnerDto): Promise<PartnerCreatedDto> {
    const { partner, apiKey } = await this.partners.create(dto.name);
    return { id: partner.id, name: partner.name, apiKey };
  }

  @Post(':id/api-keys')
  @ApiDoc({
    summary: 'Add an API key to a partner',
    description:
      'A new key, shown only here. Older keys keep working until deleted, so keys can be rotated without downtime.',
    status: 201,
    type: ApiKeyCreatedDto,
    auth: 'admin',
    errors: [404],
  })
  addKey(@Param('id') id: string): Promise<ApiKeyCreatedDto> {
    return this.partners.addApiKey(id);
  }

  @Get(':id/api-keys')
  @ApiDoc({
    summary: "List a partner's API keys",
    description: "Each key's public prefix and when it was created and last used; never the key.",
    type: ApiKeyListDto,
    auth: 'admin',
    errors: [404],
  })
  async listKeys(@Param('id') id: string): Promise<ApiKeyListDto> {
    return { data: await this.partners.listApiKeys(id) };
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete an API key',
    description: 'The key stops working at once.',
    status: 204,
    auth: 'admin',
    errors: [404],
  })
  async deleteKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<void> {
    await this.partners.deleteApiKey(id, keyId);
  }
}

@ApiTags('partner')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/partner')
export class PartnerController {
  constructor(private readonly partners: PartnersService) {}

  @Get()
  @ApiDoc({
    summary: 'Get the calling partner',
    description:
      'The partner the API key belongs to, with the origins allowed as OAuth `returnUrl`.',
    type: PartnerViewDto,
  })
  async get(@CurrentPartner() partnerId: string): Promise<PartnerViewDto> {
    return this.partners.toView(await this.partners.get(partnerId));
  }

  @Patch()
  @ApiDoc({
    summary: 'Change the calling partner',
    description:
      "`name`, and `allowedReturnOrigins`: the origins (`https://brand.example`) a store connection's `returnUrl` may be on, besides `PUBLIC_BASE_URL`.",
    type: PartnerViewDto,
    errors: [400],
  })
  async update(
    @CurrentPartner() partnerId: string,
    @Body() dto: UpdatePartnerDto,
  ): Promise<PartnerViewDto> {
    return this.partners.toView(await this.partners.update(partnerId, dto));
  }
}
