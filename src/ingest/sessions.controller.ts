import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../common/pagination';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { SessionDto, SessionPageDto } from './session.dto';
import { SessionsService } from './sessions.service';
import { ApiDoc } from '../common/api-docs';

@ApiTags('sessions')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get('channels/:channelId/sessions')
  @ApiDoc({
    summary: "List a channel's sessions",
    description:
      'One session per broadcast (from publish to disconnect), newest first, paged with `limit`/`cursor`.',
    type: SessionPageDto,
    errors: [400, 404],
  })
  async list(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Query() q: PageQuery,
  ): Promise<SessionPageDto> {
    const page = await this.sessions.list(partnerId, channelId, q.limit ?? 50, q.cursor);
    return { data: await this.sessions.toDtos(page.data), nextCursor: page.nextCursor };
  }

  @Get('sessions/:id')
  @ApiDoc({
    summary: 'Get a session with its relays',
    description:
      '`destinations[]` is where relay state lives: one relay per destination of the session, with `state` (`starting`, `live`, `retrying`, `errored`, `stopped`), `attempts`, `lastError`, `nextRetryAt`, `bytesSent`, `bitrateKbps` and the pre-flight `warnings`. `ingest` is what the creator sends; `pins` the products pinned now.',
    type: SessionDto,
    errors: [404],
    example: {
      id: 'c4a1f9d2-6b3e-4f70-8a15-2d9e7c3b1a60',
      channelId: '8d1c2e5a-3f4b-4a6e-9c7d-2b1a0f9e8d7c',
      status: 'live',
      startedAt: '2026-12-02T10:00:00.000Z',
      endedAt: null,
      ingest: {
        videoCodec: 'h264',
        audioCodec: 'aac',
        width: 1280,
        height: 720,
        fps: 30,
        bitrateKbps: 2500,
      },
      destinations: [
        {
          destinationId: '3b0d6f4e-1c2a-4e5f-8a9b-0c1d2e3f4a5b',
          state: 'live',
          attempts: 1,
          lastError: null,
          nextRetryAt: null,
          since: '2026-12-02T10:00:00.000Z',
          bitrateKbps: 2480,
          bytesSent: 12582912,
          warnings: [],
        },
      ],
      pins: [],
    },
  })
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<SessionDto> {
    const [dto] = await this.sessions.toDtos([await this.sessions.get(partnerId, id)]);
    return dto as SessionDto;
  }

  @Post('sessions/:id/stop')
  @HttpCode(202)
  @ApiDoc({
    summary: 'Stop a live session',
    description:
      'Disconnects the publisher and ends the session (`session.ended`); every relay stops. The creator can go live again, which starts a new session.',
    status: 202,
    errors: [404],
  })
  async stop(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.sessions.stop(partnerId, id);
  }
}
