import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PartnerAuthGuard } from '../partners/auth.guards';
import { DestinationPresetDto, DestinationPresetListDto } from './destination.dto';
import { PRESET_IDS, PRESETS, PresetConstraints } from './destination-presets';
import { ApiDoc } from '../common/api-docs';

export function presetView(p: PresetConstraints): DestinationPresetDto {
  return {
    id: p.id,
    name: p.name,
    scheme: p.scheme,
    maxWidth: p.maxWidth,
    maxHeight: p.maxHeight,
    aspect: p.aspect,
    maxFps: p.maxFps,
    keyframeIntervalSeconds: p.keyframeIntervalSeconds,
    videoBitrateKbps: { ...p.videoBitrateKbps },
    constantBitrate: p.constantBitrate,
    audioSampleRate: p.audioSampleRate,
  };
}

/** The presets' constraints (API.md "Destination presets and checks"). */
@ApiTags('destinations')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1/destination-presets')
export class DestinationPresetsController {
  @Get()
  @ApiDoc({
    summary: 'List the platform presets',
    description:
      'The constraints each platform puts on what it receives (resolution, aspect, fps, key-frame interval, bitrate, audio). A destination with a `preset` is checked against them before and while it is live; mismatches show as relay `warnings` and `destination.warning` events.',
    type: DestinationPresetListDto,
  })
  list(): DestinationPresetListDto {
    return { data: PRESET_IDS.map((id) => presetView(PRESETS[id])) };
  }
}
