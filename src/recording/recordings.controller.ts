import { Controller, Delete, Get, HttpCode, Param, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { RecordingDto } from './recording.dto';
import { RecordingsService } from './recordings.service';

@ApiTags('recordings')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/sessions/:id/recording')
export class RecordingsController {
  constructor(private readonly recordings: RecordingsService) {}

  @Get()
  @ApiOperation({
    summary: 'The recording of a session',
    description:
      'Sessions of a channel with `recording: true` are recorded as they happen (no ' +
      're-encode), into the storage STORAGE_DRIVER names. `state` is `recording` while the ' +
      'session is live, `ready` once it ended (event `recording.ready`), `failed` when no ' +
      'media could be recorded, `deleted` after DELETE or RECORDING_RETENTION. ' +
      '`playback.hlsUrl` is the recording as HLS (EXT-X-PROGRAM-DATE-TIME and one ' +
      'EXT-X-DATERANGE per pin); `playback.replayUrl` the embeddable shoppable replay page. ' +
      '`pins[].offsetSeconds` is where each pin lies in the recording.',
  })
  @ApiOkResponse({ type: RecordingDto })
  @ApiNotFoundResponse({ description: 'No such session of this partner, or it was not recorded' })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<RecordingDto> {
    return this.recordings.get(partnerId, id);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete the media of a recording',
    description:
      'Removes the recording’s playlist and segments from storage; the recording stays ' +
      'readable with `state: "deleted"`. A recording still under way stops.',
  })
  @ApiNoContentResponse({ description: 'The media is removed' })
  @ApiNotFoundResponse({ description: 'No such session of this partner, or it was not recorded' })
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.recordings.remove(partnerId, id);
  }
}
