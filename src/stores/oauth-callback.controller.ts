import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { StoreOAuthService } from './store-oauth.service';
import { ApiDoc } from '../common/api-docs';

/** GET /oauth/<provider>/callback: where the store's consent screen sends the brand back. */
@ApiTags('oauth')
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly oauth: StoreOAuthService) {}

  @Get(':provider/callback')
  @ApiDoc({
    summary: "The store's OAuth redirect",
    description:
      "Where the store sends the brand back after it approved the app (the `redirect_uri` of `authorizeUrl`). Not called by partners. Castbridge checks the store's signature (Shopify: `hmac` over the sorted query), the one-time `state` and the shop, exchanges the code, and answers 302 to the connection's `returnUrl` with `?connection=<id>&status=linked`, or `status=failed&error=<code>`. A forged, replayed or malformed callback answers 400/401 and stores nothing.",
    auth: 'none',
    status: 302,
    errors: [400, 401, 404],
    responseDescription: 'Redirect to the returnUrl (Location header)',
  })
  async callback(
    @Param('provider') provider: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ): Promise<void> {
    const outcome = await this.oauth.complete(provider, query);
    res.redirect(302, outcome.redirectTo);
  }
}
