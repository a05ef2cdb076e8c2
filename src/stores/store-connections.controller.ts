import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPartner, PartnerAuthGuard } from '../partners/auth.guards';
import {
  CreateStoreConnectionDto,
  StoreConnectionCreatedDto,
  StoreConnectionDto,
  StoreConnectionListDto,
} from './store-connection.dto';
import { StoreConnectionsService } from './store-connections.service';
import { StoreOAuthService } from './store-oauth.service';

@ApiTags('stores')
@ApiBearerAuth('partner')
@UseGuards(PartnerAuthGuard)
@Controller('v1')
export class StoreConnectionsController {
  constructor(
    private readonly connections: StoreConnectionsService,
    private readonly oauth: StoreOAuthService,
  ) {}

  @Post('brands/:id/store-connections')
  async create(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
    @Body() dto: CreateStoreConnectionDto,
  ): Promise<StoreConnectionCreatedDto> {
    const { connection, authorizeUrl } = await this.oauth.start(partnerId, brandId, dto);
    return { ...this.connections.toDto(connection), authorizeUrl };
  }

  @Get('brands/:id/store-connections')
  async list(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
  ): Promise<StoreConnectionListDto> {
    const rows = await this.connections.list(partnerId, brandId);
    return { data: rows.map((c) => this.connections.toDto(c)) };
  }

  @Get('store-connections/:id')
  async get(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<StoreConnectionDto> {
    return this.connections.toDto(await this.connections.get(partnerId, id));
  }

  @Post('store-connections/:id/sync')
  @HttpCode(202)
  async sync(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.connections.requestSync(partnerId, id);
  }

  @Delete('store-connections/:id')
  @HttpCode(204)
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.connections.remove(partnerId, id);
  }
}
