import { Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { BrandDto, CreateBrandDto } from './brand.dto';
import { BrandsService } from './brands.service';

@ApiTags('brands')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/brands')
export class BrandsController {
  constructor(private readonly brands: BrandsService) {}

  @Post()
  async create(
    @CurrentPartner() partnerId: string,
    @Body() dto: CreateBrandDto,
  ): Promise<BrandDto> {
    return this.brands.toDto(await this.brands.create(partnerId, dto.name));
  }

  @Get(':id')
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<BrandDto> {
    return this.brands.toDto(await this.brands.get(partnerId, id));
  }
}
