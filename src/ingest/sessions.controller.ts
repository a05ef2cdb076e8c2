import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../common/pagination';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import { SessionDto, SessionPageDto } from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get('channels/:channelId/sessions')
  async list(
    @CurrentPartner() partnerId: string,
    @Param('channelId') channelId: string,
    @Query() q: PageQuery,
  ): Promise<SessionPageDto> {
    const page = await this.sessions.list(partnerId, channelId, q.limit ?? 50, q.cursor);
    return { data: await this.sessions.toDtos(page.data), nextCursor: page.nextCursor };
  }

  @Get('sessions/:id')
  async get(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<SessionDto> {
    const [dto] = await this.sessions.toDtos([await this.sessions.get(partnerId, id)]);
    return dto as SessionDto;
  }

  @Post('sessions/:id/stop')
  @HttpCode(202)
  async stop(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.sessions.stop(partnerId, id);
  }
}
