import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../common/pagination';

export class ProductQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Case-insensitive search in the title', maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  q?: string;
}

export class VariantDto {
  @ApiProperty() id: string;
  @ApiProperty() externalId: string;
  @ApiProperty({ nullable: true, type: String }) sku: string | null;
  @ApiProperty() title: string;
  @ApiProperty({ example: '12.50' }) price: string;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty() inventoryQuantity: number;
  @ApiProperty() available: boolean;
}

export class ProductDto {
  @ApiProperty() id: string;
  @ApiProperty() brandId: string;
  @ApiProperty() externalId: string;
  @ApiProperty() title: string;
  @ApiProperty() handle: string;
  @ApiProperty() status: string;
  @ApiProperty({ nullable: true, type: String }) imageUrl: string | null;
  @ApiProperty() updatedAt: string;
  @ApiProperty({ type: [VariantDto] }) variants: VariantDto[];
}

export class ProductPageDto {
  @ApiProperty({ type: [ProductDto] }) data: ProductDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
