import { Injectable } from '@nestjs/common';
import { SecretBox } from '../common/secret-box';
import { StoreApiContext, StoreApiError, StoreTokenGrant } from './providers/store-provider';
import type { StoreConnection } from './store-connection.entity';

/** The secrets a store connection keeps sealed at rest. */
type StoreSecret = 'accessToken' | 'refreshToken' | 'pkceVerifier';

/**
 * What a sealed secret is bound to (the AES-GCM additional data): its connection row and
 * which of its secrets it is, so a ciphertext copied to another row or column does not
 * open. The strings are those of rows already stored: never change them.
 */
export function storeSecretAad(connectionId: string, secret: StoreSecret): string {
  return secret === 'accessToken'
    ? `store_connection:${connectionId}`
    : secret === 'refreshToken'
      ? `store_connection:${connectionId}:refresh`
      : `store_connection:${connectionId}:pkce`;
}

/**
 * Seals and reveals a store connection's secrets (the store's access token, the PKCE
 * verifier of an install in progress) with SecretBox. Only this service sees them in
 * clear; what it returns for storage is sealed, and an API context is never queued or
 * logged.
 */
@Injectable()
export class StoreCredentials {
  constructor(private readonly box: SecretBox) {}

  /** The columns that hold a newly issued access token. */
  sealAccessToken(
    connectionId: string,
    accessToken: string,
  ): Pick<StoreConnection, 'accessTokenSealed' | 'accessTokenKeyId'> {
    const s = this.box.seal(accessToken, storeSecretAad(connectionId, 'accessToken'));
    return { accessTokenSealed: s.sealed, accessTokenKeyId: s.keyId };
  }

  /**
   * The columns that hold a token grant: the access token, its expiry, and (expiring
   * tokens) the sealed refresh token and its expiry. Each sealed with its own AAD and key id.
   */
  sealGrant(
    connectionId: string,
    grant: StoreTokenGrant,
  ): Pick<
    StoreConnection,
    | 'accessTokenSealed'
    | 'accessTokenKeyId'
    | 'accessTokenExpiresAt'
    | 'refreshTokenSealed'
    | 'refreshTokenKeyId'
    | 'refreshTokenExpiresAt'
  > {
    const refresh = grant.refreshToken
      ? this.box.seal(grant.refreshToken, storeSecretAad(connectionId, 'refreshToken'))
      : null;
    return {
      ...this.sealAccessToken(connectionId, grant.accessToken),
      accessTokenExpiresAt: grant.expiresAt,
      refreshTokenSealed: refresh?.sealed ?? null,
      refreshTokenKeyId: refresh?.keyId ?? null,
      refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
    };
  }

  /** The refresh token kept for this connection, if it has one. */
  refreshToken(c: StoreConnection): string | null {
    if (!c.refreshTokenSealed || !c.refreshTokenKeyId) return null;
    return this.box.open(
      { keyId: c.refreshTokenKeyId, sealed: c.refreshTokenSealed },
      storeSecretAad(c.id, 'refreshToken'),
    );
  }

  /** The columns that hold the PKCE verifier of an install in progress. */
  sealPkceVerifier(
    connectionId: string,
    verifier: string,
  ): Pick<StoreConnection, 'pkceVerifierSealed' | 'pkceVerifierKeyId'> {
    const s = this.box.seal(verifier, storeSecretAad(connectionId, 'pkceVerifier'));
    return { pkceVerifierSealed: s.sealed, pkceVerifierKeyId: s.keyId };
  }

  /** The PKCE verifier kept for this install, if there is one. */
  pkceVerifier(c: StoreConnection): string | undefined {
    if (!c.pkceVerifierSealed || !c.pkceVerifierKeyId) return undefined;
    return this.box.open(
      { keyId: c.pkceVerifierKeyId, sealed: c.pkceVerifierSealed },
      storeSecretAad(c.id, 'pkceVerifier'),
    );
  }

  /** The API context of a linked connection (decrypts the token); never queue or log it. */
  context(c: StoreConnection): StoreApiContext {
    const ctx = this.contextOrNull(c);
    if (!ctx) throw new StoreApiError('unauthorized', `store connection ${c.id} has no token`);
    return ctx;
  }

  /** The same, or null when the connection holds no token (never linked, or revoked). */
  contextOrNull(c: StoreConnection): StoreApiContext | null {
    if (!c.accessTokenSealed || !c.accessTokenKeyId) return null;
    const accessToken = this.box.open(
      { keyId: c.accessTokenKeyId, sealed: c.accessTokenSealed },
      storeSecretAad(c.id, 'accessToken'),
    );
    return { connectionId: c.id, shop: c.shop, accessToken };
  }
}
