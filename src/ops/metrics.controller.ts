import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsService } from './metrics.service';
import { ApiDoc } from '../common/api-docs';

/**
 * GET /metrics, Prometheus text. Served by every role, like the probes. API.md puts no
 * auth on it (only /admin/queues is behind ops credentials): keep it off the public
 * network (HOST, or the proxy) — see README "Operations".
 */
@ApiTags('ops')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiDoc({
    summary: 'Prometheus metrics',
    description:
      'Prometheus text exposition (version 0.0.4): HTTP, relays, queues, webhooks, ingest. No auth: keep it off the public edge.',
    auth: 'none',

    produces: { mediaType: 'text/plain', schema: { type: 'string' } },
  })
  @Header('cache-control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    // Exactly prom-client's type (res.type() would add a charset before the version).
    res.setHeader('content-type', contentType);
    res.end(body);
  }
}
