import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { STORE_CONNECTION_STATUSES } from './store-connection.entity';

export class CreateStoreConnectionDto {
  /** Checked against the registered providers (StoreProviders), so a new one needs no change here. */
  @ApiProperty({ example: 'shopify', enum: ['shopify'] })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  provider: string;

  @ApiProperty({ example: 'name.myshopify.com' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  shop: string;

  @ApiProperty({
    example: 'https://brand.example.com/settings/store',
    description: 'Where the brand lands after the consent screen; on an allowed origin',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  returnUrl: string;
}

export class SyncStatusDto {
  @ApiProperty({ enum: ['idle', 'running', 'failed'] }) state: string;
  @ApiProperty() imported: number;
  @ApiProperty({ nullable: true, type: Number }) total: number | null;
  @ApiProperty({ nullable: true, type: String }) lastSyncedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
}

export class StoreConnectionDto {
  @ApiProperty() id: string;
  @ApiProperty() brandId: string;
  @ApiProperty() provider: string;
  @ApiProperty() shop: string;
  @ApiProperty({ enum: STORE_CONNECTION_STATUSES }) status: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: SyncStatusDto }) sync: SyncStatusDto;
  @ApiProperty() createdAt: string;
}

export class StoreConnectionCreatedDto extends StoreConnectionDto {
  @ApiPropertyOptional({ description: 'Open this in the brand’s browser to link the store' })
  authorizeUrl: string;
}

export class StoreConnectionListDto {
  @ApiProperty({ type: [StoreConnectionDto] }) data: StoreConnectionDto[];
}
