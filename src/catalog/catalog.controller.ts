import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { CatalogService } from './catalog.service';
import { ProductDto, ProductPageDto, ProductQuery } from './product.dto';
import { ApiDoc } from '../common/api-docs';

@ApiTags('catalog')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('brands/:id/products')
  @ApiDoc({
    summary: "List a brand's products",
    description:
      "The catalog imported from the brand's store and kept in step by its webhooks: products with their variants, price and stock. `q` searches titles; paged with `limit`/`cursor`.",
    type: ProductPageDto,
    errors: [400, 404],
  })
  list(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
    @Query() q: ProductQuery,
  ): Promise<ProductPageDto> {
    return this.catalog.list(partnerId, brandId, { limit: q.limit, cursor: q.cursor, q: q.q });
  }

  @Get('products/:id')
  @ApiDoc({
    summary: 'Get a product',
    description:
      "A product with its variants (`price` as a decimal string, `currency`, `inventoryQuantity`, `available`). Use a variant's `id` in an order.",
    type: ProductDto,
    errors: [404],
  })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<ProductDto> {
    return this.catalog.get(partnerId, id);
  }
}
