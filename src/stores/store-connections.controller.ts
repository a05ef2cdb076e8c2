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
import { ApiDoc } from '../common/api-docs';

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
  @ApiDoc({
    summary: "Start linking a brand's store",
    description:
      "Answers `authorizeUrl`: send the brand there to approve the app in its store. The store redirects to `/oauth/{provider}/callback`; Castbridge checks it, stores the token encrypted, registers the store's webhooks, starts the catalog import and redirects to `returnUrl?connection=<id>&status=linked` (or `status=failed&error=<code>`). `returnUrl` must be on an allowed origin (`PATCH /v1/partner`) or on `PUBLIC_BASE_URL`.",
    status: 201,
    type: StoreConnectionCreatedDto,
    errors: [400, 404, 409],
  })
  async create(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
    @Body() dto: CreateStoreConnectionDto,
  ): Promise<StoreConnectionCreatedDto> {
    const { connection, authorizeUrl } = await this.oauth.start(partnerId, brandId, dto);
    return { ...this.connections.toDto(connection), authorizeUrl };
  }

  @Get('brands/:id/store-connections')
  @ApiDoc({
    summary: "List a brand's store connections",
    description: 'With their link status and catalog sync progress.',
    type: StoreConnectionListDto,
    errors: [404],
  })
  async list(
    @CurrentPartner() partnerId: string,
    @Param('id') brandId: string,
  ): Promise<StoreConnectionListDto> {
    const rows = await this.connections.list(partnerId, brandId);
    return { data: rows.map((c) => this.connections.toDto(c)) };
  }

  @Get('store-connections/:id')
  @ApiDoc({
    summary: 'Get a store connection',
    description:
      "`status`: `pending` (waiting for the brand's approval), `linked`, `needs_relink` (the store refused our token: link again), `revoked`. `sync`: the import or reconciliation, with `imported` of `total` products.",
    type: StoreConnectionDto,
    errors: [404],
  })
  async get(
    @CurrentPartner() partnerId: string,
    @Param('id') id: string,
  ): Promise<StoreConnectionDto> {
    return this.connections.toDto(await this.connections.get(partnerId, id));
  }

  @Post('store-connections/:id/sync')
  @HttpCode(202)
  @ApiDoc({
    summary: 'Reconcile the catalog now',
    description:
      'Starts a reconciliation with the store (also run every `RECONCILE_INTERVAL`). One already waiting covers this request.',
    status: 202,
    errors: [404, 409],
  })
  async sync(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.connections.requestSync(partnerId, id);
  }

  @Delete('store-connections/:id')
  @HttpCode(204)
  @ApiDoc({
    summary: 'Unlink a store',
    description:
      "Unregisters the store's webhooks and forgets the token; the connection stays as `revoked`.",
    status: 204,
    errors: [404],
  })
  async remove(@CurrentPartner() partnerId: string, @Param('id') id: string): Promise<void> {
    await this.connections.remove(partnerId, id);
  }
}
