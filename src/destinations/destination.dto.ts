import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { DESTINATION_KINDS, DestinationKind } from './destination.entity';
import { IsOmittable } from '../common/validation';

const PROFILE_SCHEMA = {
  oneOf: [
    { type: 'string', enum: ['passthrough'] },
    {
      type: 'object',
      properties: {
        maxHeight: { type: 'integer', minimum: 144, maximum: 2160 },
        fps: { type: 'integer', minimum: 1, maximum: 60 },
        videoBitrateKbps: { type: 'integer', minimum: 100, maximum: 20000 },
        audioBitrateKbps: { type: 'integer', minimum: 32, maximum: 512 },
      },
      additionalProperties: false,
    },
  ],
};

const STREAM_KEY_RE = /^[\x21-\x7e]+$/;

export class CreateDestinationDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: DESTINATION_KINDS })
  @IsIn(DESTINATION_KINDS)
  kind: DestinationKind;

  @ApiPropertyOptional({ example: 'rtmps://live.example.com:443/app', maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({
    description: 'Write-only; appended as the last path segment',
    maxLength: 512,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  @Matches(STREAM_KEY_RE, { message: 'streamKey must be printable ASCII without spaces' })
  streamKey?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    ...PROFILE_SCHEMA,
    description: '"passthrough" (default) or a transcode profile',
  })
  @Allow() // checked by parseProfile, which names the exact sub-field
  profile?: unknown;
}

export class UpdateDestinationDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOmittable()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'null removes the key',
    maxLength: 512,
  })
  @ValidateIf((_, v) => v !== null && v !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  @Matches(STREAM_KEY_RE, { message: 'streamKey must be printable ASCII without spaces' })
  streamKey?: string | null;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ ...PROFILE_SCHEMA })
  @Allow()
  profile?: unknown;
}

export class PlaybackDto {
  @ApiProperty() hlsUrl: string;
  @ApiProperty() embedUrl: string;
}

export class DestinationDto {
  @ApiProperty() id: string;
  @ApiProperty() channelId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: DESTINATION_KINDS }) kind: DestinationKind;
  @ApiProperty({ nullable: true, type: String }) url: string | null;
  @ApiProperty({ nullable: true, type: String, example: '****abcd' }) streamKeyHint: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ ...PROFILE_SCHEMA }) profile: unknown;
  @ApiPropertyOptional({ type: PlaybackDto }) playback?: PlaybackDto;
  @ApiProperty({ enum: ['idle', 'starting', 'live', 'retrying', 'errored', 'stopped'] })
  state: string;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class DestinationListDto {
  @ApiProperty({ type: [DestinationDto] }) data: DestinationDto[];
}
