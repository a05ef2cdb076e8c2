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

@ApiTags('admin')
@ApiBearerAuth('admin')
@UseGuards(AdminAuthGuard)
@Controller('v1/admin/partners')
export class AdminPartnersController {
  constructor(private readonly partners: PartnersService) {}

  @Post()
  async create(@Body() dto: CreatePartnerDto): Promise<PartnerCreatedDto> {
    const { partner, apiKey } = await this.partners.create(dto.name);
    return { id: partner.id, name: partner.name, apiKey };
  }

  @Post(':id/api-keys')
  addKey(@Param('id') id: string): Promise<ApiKeyCreatedDto> {
    return this.partners.addApiKey(id);
  }

  @Get(':id/api-keys')
  async listKeys(@Param('id') id: string): Promise<ApiKeyListDto> {
    return { data: await this.partners.listApiKeys(id) };
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
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
  async get(@CurrentPartner() partnerId: string): Promise<PartnerViewDto> {
    return this.partners.toView(await this.partners.get(partnerId));
  }

  @Patch()
  async update(
    @CurrentPartner() partnerId: string,
    @Body() dto: UpdatePartnerDto,
  ): Promise<PartnerViewDto> {
    return this.partners.toView(await this.partners.update(partnerId, dto));
  }
}
