import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import {
  PRIVACY_KINDS,
  PRIVACY_SOURCES,
  PRIVACY_STATUSES,
  type PrivacyKind,
  type PrivacySource,
  type PrivacyStatus,
} from './privacy-request.entity';

export class CreatePrivacyRequestDto {
  @ApiProperty({
    enum: PRIVACY_KINDS,
    description: 'export: every personal field held for the buyer; erase: remove them',
  })
  @IsIn(PRIVACY_KINDS, { message: 'kind must be "export" or "erase"' })
  kind: PrivacyKind;

  @ApiProperty({
    maxLength: 254,
    description: "The buyer's email (matched case-insensitively); never stored",
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email: string;
}

export class BuyerAddressDto {
  @ApiPropertyOptional({ type: String, nullable: true }) firstName?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) lastName?: string | null;
  @ApiProperty() address1: string;
  @ApiPropertyOptional({ type: String, nullable: true }) address2?: string | null;
  @ApiProperty() city: string;
  @ApiPropertyOptional({ type: String, nullable: true }) province?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) zip?: string | null;
  @ApiProperty({ example: 'US' }) country: string;
  @ApiPropertyOptional({ type: String, nullable: true }) phone?: string | null;
}

export class ExportedCustomerDto {
  @ApiProperty() email: string;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ type: String, nullable: true }) phone: string | null;
  @ApiProperty({ type: BuyerAddressDto, nullable: true }) shippingAddress: BuyerAddressDto | null;
  @ApiProperty({ type: BuyerAddressDto, nullable: true }) billingAddress: BuyerAddressDto | null;
}

export class ExportedOrderDto {
  @ApiProperty() orderId: string;
  @ApiProperty({ description: "The partner's order id" }) externalId: string;
  @ApiProperty({ type: ExportedCustomerDto }) customer: ExportedCustomerDto;
}

export class PrivacyExportDto {
  @ApiProperty({ type: [ExportedOrderDto] }) orders: ExportedOrderDto[];
}

export class PrivacyRequestDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: PRIVACY_KINDS }) kind: PrivacyKind;
  @ApiProperty({ enum: PRIVACY_SOURCES }) source: PrivacySource;
  @ApiProperty({ enum: PRIVACY_STATUSES }) status: PrivacyStatus;
  @ApiProperty({ description: "Orders of the buyer found (the partner's own)" })
  ordersFound: number;
  @ApiPropertyOptional({
    type: PrivacyExportDto,
    description: 'Only on a completed export, for a limited time (7 days)',
  })
  data?: PrivacyExportDto;
  @ApiProperty({
    type: [String],
    description: 'Partners told of the erasure (privacy.buyer_erased); [] for an export',
  })
  partnersNotified: string[];
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) completedAt: string | null;
}
