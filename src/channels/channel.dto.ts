import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { IsOmittable } from '../common/validation';

export class CreateChannelDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @IsOptional()
  @IsUUID()
  brandId?: string | null;

  @ApiPropertyOptional({ description: 'Record every session of the channel (default false)' })
  @IsOmittable()
  @IsBoolean()
  recording?: boolean;
}

export class UpdateChannelDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'null unlinks the brand',
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsUUID()
  brandId?: string | null;

  @ApiPropertyOptional({ description: 'Record the sessions that start from now on' })
  @IsOmittable()
  @IsBoolean()
  recording?: boolean;
}

export class IngestDto {
  @ApiProperty({ example: 'rtmp://localhost:1935/live' }) url: string;
  @ApiPropertyOptional({
    example: 'rtmps://localhost:1936/live',
    description:
      'Present when RTMPS ingest is configured (RTMPS_PORT, RTMPS_CERT_FILE, RTMPS_KEY_FILE)',
  })
  secureUrl?: string;
  @ApiPropertyOptional({ description: 'Shown only on create and on rotate' }) streamKey?: string;
}

export class ChannelDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) brandId: string | null;
  @ApiProperty({ enum: ['idle', 'live'] }) status: 'idle' | 'live';
  @ApiProperty({ nullable: true, type: String }) currentSessionId: string | null;
  @ApiProperty({ description: 'Whether its sessions are recorded' }) recording: boolean;
  @ApiProperty({ type: IngestDto }) ingest: IngestDto;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class ChannelPageDto {
  @ApiProperty({ type: [ChannelDto] }) data: ChannelDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class StreamKeyDto {
  @ApiProperty({ description: 'Shown only in this response' }) streamKey: string;
}
