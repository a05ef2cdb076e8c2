import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** `/health/live`'s body. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

/** One check of `/health/ready` (CheckResult). */
export class CheckResultDto {
  @ApiProperty({ enum: ['up', 'down'] }) status: 'up' | 'down';
  @ApiPropertyOptional({ enum: ['timeout', 'unavailable'] }) error?: 'timeout' | 'unavailable';
}

/** `/health/ready`'s body (Readiness), 200 or 503. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'error'] }) status: 'ok' | 'error';
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/CheckResultDto' },
    example: { postgres: { status: 'up' }, redis: { status: 'up' }, ffmpeg: { status: 'up' } },
    description: 'One entry per check this process runs (postgres, redis, ffmpeg where needed)',
  })
  checks: Record<string, CheckResultDto>;
}
