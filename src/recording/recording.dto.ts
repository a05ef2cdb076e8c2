import { ApiProperty } from '@nestjs/swagger';

export class RecordingPlaybackDto {
  @ApiProperty({
    description: 'The recording as HLS (EXT-X-PROGRAM-DATE-TIME, one EXT-X-DATERANGE per pin)',
    example: 'http://localhost:3000/replay/6f1c…/index.m3u8',
  })
  hlsUrl: string;
  @ApiProperty({
    description: 'The embeddable shoppable replay page, with the products as chapters',
    example: 'http://localhost:3000/replay/6f1c…',
  })
  replayUrl: string;
}

export class RecordingPinDto {
  @ApiProperty({ format: 'uuid' }) productId: string;
  @ApiProperty({ format: 'date-time' }) pinnedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) unpinnedAt: string | null;
  @ApiProperty({ description: 'Where the pin lies in the recording, in seconds from its start' })
  offsetSeconds: number;
}

export class RecordingDto {
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({
    enum: ['recording', 'ready', 'failed', 'deleted'],
    description:
      'recording while the session is live; ready once it ended and the playlist is complete; ' +
      'failed when nothing could be recorded; deleted after DELETE or RECORDING_RETENTION',
  })
  state: 'recording' | 'ready' | 'failed' | 'deleted';
  @ApiProperty({ description: 'Seconds of media recorded so far' }) durationSeconds: number;
  @ApiProperty({ description: 'Bytes of media in storage' }) sizeBytes: number;
  @ApiProperty({ type: RecordingPlaybackDto }) playback: RecordingPlaybackDto;
  @ApiProperty({ type: [RecordingPinDto] }) pins: RecordingPinDto[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}
