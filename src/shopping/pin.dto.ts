import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class PinDto {
  @ApiProperty() productId: string;
  @ApiProperty() pinnedAt: string;
}

export class PinProductDto {
  @ApiProperty({ format: 'uuid', description: 'a product of the channel’s brand' })
  @IsUUID()
  productId: string;
}
