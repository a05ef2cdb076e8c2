import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from './errors';

/**
 * Egress guard: user-supplied URLs (destinations, webhook endpoints, store origins) must
 * not reach private, loopback, link-local or cloud-metadata addresses, unless
 * EGRESS_ALLOW_PRIVATE_NETWORKS=true. Checked on write (`assertUrlAllowed`) and again at
 * connect time (`guardedLookup`), so a DNS answer that changes later cannot slip through.
 */

/** ipaddr.js range names that are public; everything else is refused. */
const PUBLIC_RANGES = new Set(['unicast']);

/** Cloud metadata endpoints that sit inside otherwise-public ranges on some providers. */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  'fd00:ec2::254',
]);

export class EgressDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgressDeniedError';
  }
}

/** Why an address is not public, or null when it is. */
export function privateAddressReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const normalized = parsed.toString();
  if (METADATA_ADDRESSES.has(normalized)) return 'a cloud metadata address';
  const range = parsed.range();
  return PUBLIC_RANGES.has(range) ? null : `a ${range} address`;
}

export interface EgressPolicy {
  allowPrivateNetworks: boolean;
}

/** Resolves a host and refuses it when any of its addresses is not public. */
export async function assertHostAllowed(host: string, policy: EgressPolicy): Promise<void> {
  if (policy.allowPrivateNetworks) return;
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(bare)
    ? [bare]
    : await new Promise<string[]>((resolve, reject) =>
        dnsLookup(bare, { all: true, verbatim: true }, (err, list) =>
          err
            ? reject(new EgressDeniedError(`host ${bare} does not resolve`))
            : resolve(list.map((a) => a.address)),
        ),
      );
  for (const a of addresses) {
    const reason = privateAddressReason(a);
    if (reason) throw new EgressDeniedError(`host ${bare} resolves to ${reason}`);
  }
}

/**
 * Validates a user-supplied URL for a field: scheme in `schemes`, a host, no credentials,
 * and (unless allowed) a public address. Throws a 400 naming `field`.
 */
export async function assertUrlAllowed(
  field: string,
  raw: string,
  schemes: string[],
  policy: EgressPolicy,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw AppError.validation(field, 'must be a valid URL');
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw AppError.validation(field, `scheme must be ${schemes.join(' or ')}`);
  }
  if (!url.hostname) throw AppError.validation(field, 'must name a host');
  if (url.username || url.password)
    throw AppError.validation(field, 'must not contain credentials');
  try {
    await assertHostAllowed(url.hostname, policy);
  } catch (err) {
    if (err instanceof EgressDeniedError) {
      throw AppError.validation(
        field,
        `${err.message}; private, loopback and link-local addresses are not allowed`,
      );
    }
    throw err;
  }
  return url;
}

/**
 * A `lookup` for http(s).Agent / net.connect that refuses non-public answers at connect
 * time (closes the DNS-rebinding gap between validation and use).
 */
export function guardedLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as Array<{ address: string; family: number }>;
      if (!policy.allowPrivateNetworks) {
        for (const a of list) {
          const reason = privateAddressReason(a.address);
          if (reason)
            return callback(new EgressDeniedError(`host ${hostname} resolves to ${reason}`), '', 0);
        }
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
}
