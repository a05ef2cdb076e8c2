import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsString,
  MaxLength,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { IsOmittable } from '../common/validation';

@ValidatorConstraint({ name: 'isOrigin' })
export class IsOriginConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    try {
      const u = new URL(value);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === value;
    } catch {
      return false;
    }
  }
  defaultMessage(): string {
    return 'each value must be an origin such as https://shop.example.com (no path)';
  }
}

export class CreatePartnerDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
}

export class UpdatePartnerDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: [String], example: ['https://brand.example.com'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(50)
  @MaxLength(300, { each: true })
  @Validate(IsOriginConstraint, { each: true })
  allowedReturnOrigins?: string[];
}

export class PartnerCreatedDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Shown only in this response' }) apiKey: string;
}

export class ApiKeyCreatedDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'Shown only in this response' }) apiKey: string;
}

export class ApiKeyViewDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'Public prefix of the key, e.g. cbk_1a2b3c4d5e6f7a8b' })
  prefix: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) lastUsedAt: string | null;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyViewDto] }) data: ApiKeyViewDto[];
}

export class PartnerViewDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) allowedReturnOrigins: string[];
  @ApiProperty() createdAt: string;
}
