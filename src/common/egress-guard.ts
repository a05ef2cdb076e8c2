import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
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

/** What a refusal says about the setting that would allow it. */
export const PRIVATE_NETWORKS_HINT =
  'set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (development only)';

/** How long a DNS answer may take, on write and at connect time. */
export const DNS_TIMEOUT_MS = 5000;

/**
 * `dns.lookup` with `all: true`: the resolver the guard asks (injectable for tests).
 * Node's own lookup cannot be cancelled, so the guard stops waiting instead.
 */
export type DnsLookupAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export class EgressDeniedError extends Error {
  constructor(
    message: string,
    /** `private`: the host is on a refused address; `dns`: it did not resolve (in time). */
    public readonly reason: 'private' | 'dns' = 'private',
    cause?: Error,
  ) {
    super(message, { cause });
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
  /** The resolver (default: `dns.lookup`); tests inject one. */
  lookup?: DnsLookupAll;
  /** Default DNS_TIMEOUT_MS. */
  dnsTimeoutMs?: number;
}

/** Every address of `host`, or an EgressDeniedError when it does not resolve in time. */
function resolveAll(
  host: string,
  options: LookupAllOptions,
  policy: EgressPolicy,
): Promise<LookupAddress[]> {
  const lookup = policy.lookup ?? (dnsLookup as DnsLookupAll);
  const timeoutMs = policy.dnsTimeoutMs ?? DNS_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(
        new EgressDeniedError(`host ${host} did not resolve within ${timeoutMs / 1000} s`, 'dns'),
      );
    }, timeoutMs);
    timer.unref();
    lookup(host, { ...options, all: true }, (err, list) => {
      if (settled) return; // answered after the timeout: already refused
      settled = true;
      clearTimeout(timer);
      if (err || !list?.length) {
        reject(new EgressDeniedError(`host ${host} does not resolve`, 'dns', err ?? undefined));
      } else resolve(list);
    });
  });
}

/** The refusal of the first non-public address in `list`, or null. */
function refusalOf(host: string, list: string[]): EgressDeniedError | null {
  for (const a of list) {
    const reason = privateAddressReason(a);
    if (reason) {
      return new EgressDeniedError(
        `host ${host} resolves to ${reason}; private, loopback and link-local addresses ` +
          `are not allowed; ${PRIVATE_NETWORKS_HINT}`,
      );
    }
  }
  return null;
}

/** Resolves a host and refuses it when any of its addresses is not public. */
export async function assertHostAllowed(host: string, policy: EgressPolicy): Promise<void> {
  if (policy.allowPrivateNetworks) return;
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = ipaddr.isValid(bare)
    ? [bare]
    : (await resolveAll(bare, { all: true, verbatim: true }, policy)).map((a) => a.address);
  const refusal = refusalOf(bare, addresses);
  if (refusal) throw refusal;
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
    if (err instanceof EgressDeniedError) throw AppError.validation(field, err.message);
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
    resolveAll(hostname, options as LookupAllOptions, policy).then(
      (list) => {
        const refusal = policy.allowPrivateNetworks
          ? null
          : refusalOf(
              hostname,
              list.map((a) => a.address),
            );
        if (refusal) return callback(refusal, '', 0);
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        return callback(null, list[0].address, list[0].family);
      },
      // A resolver error is passed on as it was (ENOTFOUND…); a timeout is ours.
      (err: Error) => callback((err.cause ?? err) as NodeJS.ErrnoException, '', 0),
    );
  };
}
