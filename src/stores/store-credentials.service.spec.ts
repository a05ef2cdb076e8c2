import { randomBytes } from 'node:crypto';
import { SecretBox } from '../common/secret-box';
import { StoreApiError } from './providers/store-provider';
import type { StoreConnection } from './store-connection.entity';
import { StoreCredentials } from './store-credentials.service';

const box = new SecretBox([{ id: 'k1', key: randomBytes(32) }]);
const credentials = new StoreCredentials(box);

function row(id: string, over: Partial<StoreConnection> = {}): StoreConnection {
  return {
    id,
    shop: 'cool.myshopify.com',
    accessTokenSealed: null,
    accessTokenKeyId: null,
    pkceVerifierSealed: null,
    pkceVerifierKeyId: null,
    ...over,
  } as StoreConnection;
}

describe('StoreCredentials', () => {
  it('opens tokens and verifiers sealed before it existed (the AAD strings are unchanged)', () => {
    const token = box.seal('shpat_old', 'store_connection:c1');
    const verifier = box.seal('verifier-old', 'store_connection:c1:pkce');
    const c = row('c1', {
      accessTokenSealed: token.sealed,
      accessTokenKeyId: token.keyId,
      pkceVerifierSealed: verifier.sealed,
      pkceVerifierKeyId: verifier.keyId,
    });
    expect(credentials.context(c)).toEqual({
      connectionId: 'c1',
      shop: 'cool.myshopify.com',
      accessToken: 'shpat_old',
    });
    expect(credentials.pkceVerifier(c)).toBe('verifier-old');
  });

  it('binds each secret to its row and its column', () => {
    const sealed = credentials.sealAccessToken('c1', 'shpat_new');
    expect(JSON.stringify(sealed)).not.toContain('shpat_new');
    expect(credentials.context(row('c1', sealed)).accessToken).toBe('shpat_new');
    // Copied to another row: refused.
    expect(() => credentials.context(row('c2', sealed))).toThrow();
    // A verifier put where the token goes: refused.
    const v = credentials.sealPkceVerifier('c1', 'verifier');
    expect(() =>
      credentials.context(
        row('c1', {
          accessTokenSealed: v.pkceVerifierSealed,
          accessTokenKeyId: v.pkceVerifierKeyId,
        }),
      ),
    ).toThrow();
  });

  it('a connection without a token has no context: null, or a StoreApiError "unauthorized"', () => {
    expect(credentials.contextOrNull(row('c1'))).toBeNull();
    expect(credentials.pkceVerifier(row('c1'))).toBeUndefined();
    expect(() => credentials.context(row('c1'))).toThrow(
      expect.objectContaining({ kind: 'unauthorized' }) as StoreApiError,
    );
  });
});
