import { Controller, Delete, Get, HttpCode, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiDoc } from '../common/api-docs';
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
  @ApiDoc({
    summary: 'The recording of a session',
    type: RecordingDto,
    errors: [404],
    description:
      'Sessions of a channel with `recording: true` are recorded as they happen (no ' +
      're-encode), into the storage STORAGE_DRIVER names. `state` is `recording` while the ' +
      'session is live, `ready` once it ended (event `recording.ready`), `failed` when no ' +
      'media could be recorded, `deleted` after DELETE or RECORDING_RETENTION. ' +
      '`playback.hlsUrl` is the recording as HLS (EXT-X-PROGRAM-DATE-TIME and one ' +
      'EXT-X-DATERANGE per pin); `playback.replayUrl` the embeddable shoppable replay page. ' +
      '`pins[].offsetSeconds` is where each pin lies in the recording.',
  })
  get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<RecordingDto> {
    return this.recordings.get(partnerId, id);
  }

  @Delete()
  @HttpCode(204)
  @ApiDoc({
    summary: 'Delete the media of a recording',
    status: 204,
    errors: [404],
    description:
      'Removes the recording’s playlist and segments from storage; the recording stays ' +
      'readable with `state: "deleted"`. A recording still under way stops.',
  })
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.recordings.remove(partnerId, id);
  }
}
