import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsEmail,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ORDER_STATUSES, type OrderStatus } from './order.entity';

/** Largest quantity of one line item. */
export const MAX_LINE_QUANTITY = 1000;
/** Most line items of one order. */
export const MAX_LINE_ITEMS = 100;

export class OrderLineItemInput {
  @ApiProperty({ format: 'uuid', description: 'A variant of the brand (GET /v1/products/:id)' })
  @IsUUID('all')
  variantId: string;

  @ApiProperty({ minimum: 1, maximum: MAX_LINE_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity: number;
}

export class ShippingAddressInput {
  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  firstName?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  lastName?: string;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  address1: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  address2?: string;

  @ApiProperty({ maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  city: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  province?: string;

  @ApiPropertyOptional({ maxLength: 20 })
  @IsOptional()
  @IsString()
  @MaxLength(20)
  zip?: string;

  @ApiProperty({ description: 'ISO 3166-1 alpha-2 country code', example: 'US' })
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as "US"' })
  country: string;

  @ApiPropertyOptional({ maxLength: 30 })
  @IsOptional()
  @IsString()
  @MaxLength(30)
  phone?: string;
}

/**
 * The buyer: sealed at rest with its order (never in clear in the database, a log, a job or
 * an event), kept BUYER_DATA_RETENTION after the order's final state.
 */
export class CustomerInput {
  @ApiProperty({ maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 30 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(30)
  phone?: string;

  @ApiPropertyOptional({ type: ShippingAddressInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => ShippingAddressInput)
  shippingAddress?: ShippingAddressInput;

  @ApiPropertyOptional({
    type: ShippingAddressInput,
    description: 'Kept sealed with the order; exported and erased like every buyer field',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ShippingAddressInput)
  billingAddress?: ShippingAddressInput;
}

export class CreateOrderDto {
  @ApiProperty({
    description: "The partner's order id: the same id again returns the same order",
    maxLength: 200,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  externalId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The live session the order came from' })
  @IsOptional()
  @IsUUID('all')
  sessionId?: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  brandId: string;

  @ApiProperty({ type: [OrderLineItemInput] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LINE_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => OrderLineItemInput)
  lineItems: OrderLineItemInput[];

  @ApiProperty({ type: CustomerInput })
  @IsDefined()
  @ValidateNested()
  @Type(() => CustomerInput)
  customer: CustomerInput;
}

export class OrderLineItemDto {
  @ApiProperty() variantId: string;
  @ApiProperty() productId: string;
  @ApiProperty() title: string;
  @ApiProperty({ nullable: true, type: String }) sku: string | null;
  @ApiProperty() quantity: number;
  @ApiProperty({ example: '12.50', description: 'Unit price at order time' }) price: string;
}

export class OrderDto {
  @ApiProperty() id: string;
  @ApiProperty() externalId: string;
  @ApiProperty() brandId: string;
  @ApiProperty({ nullable: true, type: String }) sessionId: string | null;
  @ApiProperty({ enum: ORDER_STATUSES }) status: OrderStatus;
  @ApiProperty({ nullable: true, type: String }) storeOrderId: string | null;
  @ApiProperty({ type: [OrderLineItemDto] }) lineItems: OrderLineItemDto[];
  @ApiProperty({ example: '25.00' }) totalPrice: string;
  @ApiProperty({ nullable: true, type: String, example: 'USD' }) currency: string | null;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}
