import type { SecretBox } from '../common/secret-box';
import { destinationKeyAad } from '../destinations/destinations.service';
import { webhookSecretAad } from '../notifications/webhook-endpoints.service';
import { privacyResultAad } from '../privacy/privacy-request.entity';
import { BUYER_EMAIL_INDEX, buyerAad, normalizeEmail } from '../shopping/orders/buyer-record';
import { compliancePayloadAad } from '../stores/compliance/compliance-requests.service';
import { storeSecretAad } from '../stores/store-credentials.service';

/**
 * One column sealed with the SecretBox: where its ciphertext and key id live and what its
 * AAD is. Key rotation (KeyRotationService, `npm run keys:rotate`), the per-key row counts
 * of /metrics and the start-up check of ENCRYPTION_KEYS all work from this one list: a new
 * sealed column is one more entry.
 */
export interface SealedColumn {
  table: string;
  /** A uuid primary key (rows are walked in its order). */
  idColumn: string;
  sealedColumn: string;
  keyIdColumn: string;
  /** The additional data the value was sealed with, from its row id. */
  aad(id: string): string;
  /**
   * Columns computed from the plaintext under the sealing key (a blind index), with their
   * SQL types: written again when the value is re-sealed under another key.
   */
  derived?: {
    columns: Array<{ name: string; type: string }>;
    values(box: SecretBox, plaintext: string): unknown[];
  };
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    table: 'destinations',
    idColumn: 'id',
    sealedColumn: 'stream_key_sealed',
    keyIdColumn: 'stream_key_key_id',
    aad: destinationKeyAad,
  },
  {
    table: 'store_connections',
    idColumn: 'id',
    sealedColumn: 'access_token_sealed',
    keyIdColumn: 'access_token_key_id',
    aad: (id) => storeSecretAad(id, 'accessToken'),
  },
  {
    table: 'store_connections',
    idColumn: 'id',
    sealedColumn: 'refresh_token_sealed',
    keyIdColumn: 'refresh_token_key_id',
    aad: (id) => storeSecretAad(id, 'refreshToken'),
  },
  {
    table: 'compliance_requests',
    idColumn: 'id',
    sealedColumn: 'payload_sealed',
    keyIdColumn: 'payload_key_id',
    aad: compliancePayloadAad,
  },
  {
    table: 'store_connections',
    idColumn: 'id',
    sealedColumn: 'pkce_verifier_sealed',
    keyIdColumn: 'pkce_verifier_key_id',
    aad: (id) => storeSecretAad(id, 'pkceVerifier'),
  },
  {
    table: 'webhook_endpoints',
    idColumn: 'id',
    sealedColumn: 'secret_sealed',
    keyIdColumn: 'secret_key_id',
    aad: webhookSecretAad,
  },
  {
    table: 'webhook_endpoints',
    idColumn: 'id',
    sealedColumn: 'previous_secret_sealed',
    keyIdColumn: 'previous_secret_key_id',
    aad: webhookSecretAad,
  },
  {
    table: 'orders',
    idColumn: 'id',
    sealedColumn: 'customer_sealed',
    keyIdColumn: 'customer_key_id',
    aad: buyerAad,
    derived: {
      columns: [{ name: 'customer_email_index', type: 'bytea' }],
      values: (box, plaintext) => [
        box.blindIndex(
          BUYER_EMAIL_INDEX,
          normalizeEmail((JSON.parse(plaintext) as { email: string }).email),
        ),
      ],
    },
  },
  {
    table: 'privacy_requests',
    idColumn: 'id',
    sealedColumn: 'result_sealed',
    keyIdColumn: 'result_key_id',
    aad: privacyResultAad,
  },
];

/** `table.column`, as reports and metric labels name a sealed column. */
export function columnName(c: SealedColumn): string {
  return `${c.table}.${c.sealedColumn}`;
}
