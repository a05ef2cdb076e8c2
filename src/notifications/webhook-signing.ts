import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** Standard Webhooks recommends 24–64 random bytes; we use 32. */
export const SECRET_BYTES = 32;
export const SECRET_PREFIX = 'whsec_';

/** A new endpoint signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * The Standard Webhooks headers of one attempt. Every secret in `secrets` signs (the
 * current one first, then the previous one during a rotation); the signatures are space
 * delimited so a receiver holding either secret can verify.
 */
export function signWebhook(
  secrets: string[],
  msgId: string,
  timestamp: Date,
  body: string,
): SignedHeaders {
  if (secrets.length === 0) throw new Error('at least one signing secret is needed');
  const signatures = secrets.map((s) => new Webhook(s).sign(msgId, timestamp, body));
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
