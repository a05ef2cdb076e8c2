import { Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { BrandDto, CreateBrandDto } from './brand.dto';
import { BrandsService } from './brands.service';
import { ApiDoc } from '../common/api-docs';

@ApiTags('brands')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/brands')
export class BrandsController {
  constructor(private readonly brands: BrandsService) {}

  @Post()
  @ApiDoc({
    summary: 'Create a brand',
    description:
      "A brand sells during the partner's lives: link its store (`POST /v1/brands/{id}/store-connections`), and its catalog is imported and kept in step; link a channel to it (`brandId`) to pin its products.",
    status: 201,
    type: BrandDto,
    errors: [400],
  })
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateBrandDto,
  ): Promise<BrandDto> {
    return this.brands.toDto(await this.brands.create(partnerId, dto.name));
  }

  @Get(':id')
  @ApiDoc({
    summary: 'Get a brand',
    description: "The brand, if it is the partner's.",
    type: BrandDto,
    errors: [404],
  })
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<BrandDto> {
    return this.brands.toDto(await this.brands.get(partnerId, id));
  }
}
