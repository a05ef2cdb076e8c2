import { PinDto } from '../shopping/pin.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class RelayWarningDto {
  @ApiProperty({
    description:
      'KEYFRAME_INTERVAL_TOO_LONG, BITRATE_TOO_HIGH, BITRATE_TOO_LOW, ASPECT_MISMATCH, RESOLUTION_TOO_HIGH, FPS_TOO_HIGH, SCHEME_NOT_ALLOWED, AUDIO_SAMPLE_RATE, VIDEO_CODEC_NOT_SUPPORTED, AUDIO_CODEC_NOT_SUPPORTED',
  })
  code: string;
  @ApiProperty() message: string;
}

export class RelayDto {
  @ApiProperty() destinationId: string;
  @ApiProperty({ enum: ['starting', 'live', 'retrying', 'errored', 'stopped'] }) state: string;
  @ApiProperty() attempts: number;
  @ApiPropertyOptional({ nullable: true, type: String }) lastError: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) nextRetryAt: string | null;
  @ApiProperty() since: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) bitrateKbps: number | null;
  @ApiProperty() bytesSent: number;
  @ApiProperty({
    type: [RelayWarningDto],
    description: 'The pre-flight check of what the destination receives against its preset',
  })
  warnings: RelayWarningDto[];
}

export class IngestInfoDto {
  @ApiPropertyOptional({ nullable: true, type: String }) videoCodec: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) audioCodec: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) width: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) height: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) fps: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) bitrateKbps: number | null;
}

export class SessionDto {
  @ApiProperty() id: string;
  @ApiProperty() channelId: string;
  @ApiProperty({ enum: ['live', 'ended'] }) status: string;
  @ApiProperty() startedAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) endedAt: string | null;
  @ApiProperty({ type: IngestInfoDto }) ingest: IngestInfoDto;
  @ApiProperty({ type: [RelayDto] }) destinations: RelayDto[];
  @ApiProperty({ type: [PinDto] }) pins: PinDto[];
}

export class SessionPageDto {
  @ApiProperty({ type: [SessionDto] }) data: SessionDto[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor: string | null;
}
