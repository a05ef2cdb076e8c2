import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { CatalogService } from './catalog.service';
import { ProductDto, ProductPageDto, ProductQuery } from './product.dto';

@ApiTags('catalog')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('brands/:id/products')
  list(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
    @Query() q: ProductQuery,
  ): Promise<ProductPageDto> {
    return this.catalog.list(partnerId, brandId, { limit: q.limit, cursor: q.cursor, q: q.q });
  }

  @Get('products/:id')
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<ProductDto> {
    return this.catalog.get(partnerId, id);
  }
}
