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
import { DESTINATION_KINDS, DestinationKind, FITS } from './destination.entity';
import { ASPECTS, PRESET_IDS, PresetId, PresetScheme } from './destination-presets';
import { PROFILE_ASPECTS, PROFILE_LIMITS } from './transcode-profile';
import { IsOmittable } from '../common/validation';

const int = ([minimum, maximum]: [number, number]) => ({ type: 'integer', minimum, maximum });

const PROFILE_SCHEMA = {
  oneOf: [
    { type: 'string', enum: ['passthrough', 'auto'] },
    {
      type: 'object',
      properties: {
        maxHeight: int(PROFILE_LIMITS.maxHeight),
        fps: int(PROFILE_LIMITS.fps),
        videoBitrateKbps: int(PROFILE_LIMITS.videoBitrateKbps),
        audioBitrateKbps: int(PROFILE_LIMITS.audioBitrateKbps),
        aspect: { type: 'string', enum: [...PROFILE_ASPECTS] },
        fit: { type: 'string', enum: [...FITS] },
        audioOnly: { type: 'boolean', enum: [true] },
      },
      additionalProperties: false,
    },
  ],
};

const PRESET_DESCRIPTION =
  'The platform whose constraints apply (GET /v1/destination-presets); "custom" applies none';

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

  // Defaults in words: a `default` makes generated clients require the field (openapi-typescript).
  @ApiPropertyOptional({
    description: 'Whether it is carried when the channel is live (default true)',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ enum: PRESET_IDS, description: `${PRESET_DESCRIPTION}. Default "custom"` })
  @IsOptional()
  @IsIn(PRESET_IDS)
  preset?: PresetId;

  @ApiPropertyOptional({
    ...PROFILE_SCHEMA,
    description:
      '"passthrough" (default), "auto" (transcode only what the preset needs) or a transcode profile (its settings override the preset)',
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

  @ApiPropertyOptional({ enum: PRESET_IDS, description: PRESET_DESCRIPTION })
  @IsOmittable()
  @IsIn(PRESET_IDS)
  preset?: PresetId;

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
  @ApiProperty({ enum: PRESET_IDS }) preset: PresetId;
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

export class BitrateRangeDto {
  @ApiProperty({ nullable: true, type: Number }) min: number | null;
  @ApiProperty({ nullable: true, type: Number }) max: number | null;
}

/** A preset as GET /v1/destination-presets shows it (null: not constrained). */
export class DestinationPresetDto {
  @ApiProperty({ enum: PRESET_IDS }) id: PresetId;
  @ApiProperty() name: string;
  @ApiProperty({
    enum: ['rtmps', 'rtmp_or_rtmps'],
    description: '"rtmps": the platform ingests over RTMPS only',
  })
  scheme: PresetScheme;
  @ApiProperty({ nullable: true, type: Number }) maxWidth: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxHeight: number | null;
  @ApiProperty({ nullable: true, type: String, enum: ASPECTS }) aspect: string | null;
  @ApiProperty({ nullable: true, type: Number }) maxFps: number | null;
  @ApiProperty({ nullable: true, type: Number }) keyframeIntervalSeconds: number | null;
  @ApiProperty({ type: BitrateRangeDto }) videoBitrateKbps: BitrateRangeDto;
  @ApiProperty() constantBitrate: boolean;
  @ApiProperty({ nullable: true, type: Number }) audioSampleRate: number | null;
}

export class DestinationPresetListDto {
  @ApiProperty({ type: [DestinationPresetDto] }) data: DestinationPresetDto[];
}
