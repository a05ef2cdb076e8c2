import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StoreApiContext, StoreApiError } from './providers/store-provider';
import { StoreConnection } from './store-connection.entity';
import { StoreCredentials } from './store-credentials.service';
import { StoreProviders } from './store-providers';

/** An expiring access token is refreshed this long before it expires. */
export const REFRESH_AHEAD_MS = 5 * 60_000;

/**
 * Store API contexts with a live access token. Expiring offline tokens are refreshed ahead
 * of expiry and after a 401, single-flight: within a process one promise per connection,
 * across processes a Postgres advisory lock per connection, taken around the refresh. Who
 * gets the lock second reads the row again and finds the token the first one stored (the
 * refresh token rotates at every use, so two refreshes would invalidate each other). The
 * connection moves to `needs_relink` only when the store refuses the refresh itself.
 * Neither token is ever logged, queued or put in an error.
 */
@Injectable()
export class StoreTokens {
  private readonly logger = new Logger(StoreTokens.name);
  private readonly inFlight = new Map<string, Promise<StoreApiContext>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly credentials: StoreCredentials,
    private readonly providers: StoreProviders,
  ) {}

  /** How many refreshes this process asked the store for (tests, metrics). */
  refreshes = 0;

  private expiresSoon(c: StoreConnection): boolean {
    return (
      c.accessTokenExpiresAt !== null &&
      c.accessTokenExpiresAt.getTime() - Date.now() < REFRESH_AHEAD_MS
    );
  }

  /** A context whose token is not about to expire (refreshed first when it is). */
  async context(c: StoreConnection): Promise<StoreApiContext> {
    const ctx = this.credentials.context(c);
    if (!this.expiresSoon(c) || !c.refreshTokenSealed) return ctx;
    return this.refresh(c, ctx.accessToken);
  }

  /**
   * Runs `fn` with a live token; after a 401 the token is refreshed (once, shared) and `fn`
   * runs again. A 401 with a token refreshed just now is not the merchant's doing: it is
   * reported as unavailable (the job retries), never as needs_relink.
   */
  async withToken<T>(c: StoreConnection, fn: (ctx: StoreApiContext) => Promise<T>): Promise<T> {
    const ctx = await this.context(c);
    try {
      return await fn(ctx);
    } catch (err) {
      if (!(err instanceof StoreApiError) || err.kind !== 'unauthorized') throw err;
      const fresh = await this.refresh(c, ctx.accessToken);
      try {
        return await fn(fresh);
      } catch (again) {
        if (again instanceof StoreApiError && again.kind === 'unauthorized') {
          throw new StoreApiError(
            'unavailable',
            'the store refused a freshly refreshed token',
            401,
          );
        }
        throw again;
      }
    }
  }

  /**
   * A context with a token newer than `staleToken`: this process's refresh in flight, or
   * one made under the connection's lock (or the one another process stored meanwhile).
   */
  refresh(c: StoreConnection, staleToken: string): Promise<StoreApiContext> {
    const running = this.inFlight.get(c.id);
    if (running) return running;
    const p = this.refreshLocked(c, staleToken).finally(() => this.inFlight.delete(c.id));
    this.inFlight.set(c.id, p);
    return p;
  }

  private async refreshLocked(c: StoreConnection, staleToken: string): Promise<StoreApiContext> {
    const provider = this.providers.get(c.provider);
    let refused: StoreApiError | null = null;
    const ctx = await this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `store_token:${c.id}`,
      ]);
      const row = await m.getRepository(StoreConnection).findOneBy({ id: c.id });
      if (!row || row.status !== 'linked') {
        throw new StoreApiError('unauthorized', `store connection ${c.id} is not linked`);
      }
      const current = this.credentials.context(row);
      // Someone refreshed while we waited for the lock: use theirs.
      if (current.accessToken !== staleToken && !this.expiresSoon(row)) return current;
      const refreshToken = this.credentials.refreshToken(row);
      if (!refreshToken || !provider.refreshToken) {
        refused = new StoreApiError(
          'unauthorized',
          'the store refused the token (no refresh token)',
        );
        return null;
      }
      try {
        this.refreshes++;
        const grant = await provider.refreshToken(row.shop, refreshToken);
        await m
          .getRepository(StoreConnection)
          .update({ id: row.id }, this.credentials.sealGrant(row.id, grant));
        return { connectionId: row.id, shop: row.shop, accessToken: grant.accessToken };
      } catch (err) {
        if (err instanceof StoreApiError && err.kind === 'unauthorized') {
          refused = err;
          return null;
        }
        throw err;
      }
    });
    if (ctx) return ctx;
    const reason = (refused as StoreApiError | null)?.message ?? 'token refresh refused';
    this.logger.warn(`store connection ${c.id}: ${reason}`);
    // The caller's failure handler records needs_relink with its event.
    throw new StoreApiError('unauthorized', reason, 401);
  }
}
