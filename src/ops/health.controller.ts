import { Controller, Get, Res } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService, Readiness } from './health.service';
import { ApiDoc } from '../common/api-docs';
import { CheckResultDto, LivenessDto, ReadinessDto } from './health.dto';

@ApiTags('ops')
@ApiExtraModels(CheckResultDto)
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiDoc({
    summary: 'Liveness probe',
    description: '200 while the process runs. No auth: keep it off the public edge.',
    type: LivenessDto,
    auth: 'none',
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiDoc({
    summary: 'Readiness probe',
    description:
      '200 when Postgres, Redis and (in roles that run ffmpeg) ffmpeg are usable; 503 with the same body and the failing checks otherwise. A failure says only `timeout` or `unavailable` (the cause is logged).',
    type: ReadinessDto,
    auth: 'none',
    responseDescription: 'Ready (503 with the same shape when not)',
  })
  @ApiResponse({ status: 503, type: ReadinessDto, description: 'Not ready: the failing checks' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<Readiness> {
    const r = await this.health.readiness();
    if (r.status !== 'ok') res.status(503);
    return r;
  }
}
