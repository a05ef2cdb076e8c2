import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { StoreOAuthService } from './store-oauth.service';

/** GET /oauth/<provider>/callback: where the store's consent screen sends the brand back. */
@ApiTags('oauth')
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly oauth: StoreOAuthService) {}

  @Get(':provider/callback')
  @ApiExcludeEndpoint()
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    const outcome = await this.oauth.complete(provider, query);
    res.redirect(302, outcome.redirectTo);
  }
}
