import type { SecretBox, SealedSecret } from '../../common/secret-box';
import type { StoreOrderInput } from '../../stores/providers/store-provider';

type StoreAddress = NonNullable<StoreOrderInput['customer']['shippingAddress']>;

/** A postal address a buyer gave (shipping or billing). */
export interface BuyerAddress {
  firstName?: string;
  lastName?: string;
  address1: string;
  address2?: string;
  city: string;
  province?: string;
  zip?: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  phone?: string;
}

/**
 * Every personal field Castbridge holds about the buyer of one order. Stored only sealed
 * (orders.customer_sealed), opened only to place the order in the store or to answer an
 * export; never logged, queued, put in an event or an error.
 */
export interface BuyerRecord {
  email: string;
  name?: string;
  phone?: string;
  shippingAddress?: BuyerAddress;
  billingAddress?: BuyerAddress;
}

/** An address with every optional field spelled out as null (the store input, an export). */
export function addressWithNulls(a: BuyerAddress): StoreAddress {
  return {
    firstName: a.firstName ?? null,
    lastName: a.lastName ?? null,
    address1: a.address1,
    address2: a.address2 ?? null,
    city: a.city,
    province: a.province ?? null,
    zip: a.zip ?? null,
    country: a.country,
    phone: a.phone ?? null,
  };
}

/** The purpose the email's blind-index key is derived for (never change: rows hold it). */
export const BUYER_EMAIL_INDEX = 'castbridge/orders.customer_email_index/v1';

/** What a buyer's record is bound to (AES-GCM additional data): its order row. */
export function buyerAad(orderId: string): string {
  return `order:${orderId}:customer`;
}

/** The form an email is indexed in: trimmed, NFKC, lower case. */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

export interface SealedBuyer extends SealedSecret {
  /** HMAC of the normalized email under the sealing key's derived index key. */
  emailIndex: Buffer;
}

export function sealBuyer(box: SecretBox, orderId: string, record: BuyerRecord): SealedBuyer {
  const sealed = box.seal(JSON.stringify(record), buyerAad(orderId));
  return {
    ...sealed,
    emailIndex: box.blindIndex(BUYER_EMAIL_INDEX, normalizeEmail(record.email), sealed.keyId),
  };
}

export function openBuyer(box: SecretBox, orderId: string, sealed: SealedSecret): BuyerRecord {
  return JSON.parse(box.open(sealed, buyerAad(orderId))) as BuyerRecord;
}

/** The email's index under every configured key: finds rows sealed under any of them. */
export function buyerEmailIndexes(box: SecretBox, email: string): Buffer[] {
  return box.blindIndexes(BUYER_EMAIL_INDEX, normalizeEmail(email));
}

/** Every personal string of a record (for scrubbing text that may quote one). */
export function personalStrings(record: BuyerRecord): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.trim().length >= 3) out.push(v.trim());
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(record);
  // Longest first: "Ada Lovelace" is replaced before "Ada".
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every personal value of the buyer replaced (a store's error message may
 * quote what it was sent), so it can be stored as a failure reason or logged. Country
 * codes (two letters) are too short to matter and are left.
 */
export function scrubBuyer(text: string, record: BuyerRecord | null): string {
  if (!record) return text;
  let out = text;
  for (const value of personalStrings(record)) {
    out = out.replace(
      new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'),
      '[buyer data]',
    );
  }
  return out;
}
