import type { LookupFunction } from 'node:net';
import {
  assertHostAllowed,
  assertUrlAllowed,
  DNS_TIMEOUT_MS,
  DnsLookupAll,
  EgressDeniedError,
  guardedLookup,
  privateAddressReason,
} from './egress-guard';
import { AppError } from './errors';

const strict = { allowPrivateNetworks: false };
const open = { allowPrivateNetworks: true };

describe('privateAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['224.0.0.1', 'multicast'],
  ])('refuses %s (%s)', (ip, what) => expect(privateAddressReason(ip)).toContain(what));

  it.each(['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888'])('accepts public %s', (ip) =>
    expect(privateAddressReason(ip)).toBeNull(),
  );
});

describe('assertUrlAllowed', () => {
  it('accepts an rtmps URL on a public IP', async () => {
    const u = await assertUrlAllowed('url', 'rtmps://8.8.8.8:443/app', ['rtmp', 'rtmps'], strict);
    expect(u.hostname).toBe('8.8.8.8');
  });
  it.each([
    ['http://8.8.8.8/app', 'scheme'],
    ['rtmp://127.0.0.1/live', 'loopback'],
    ['rtmp://[::1]/live', 'loopback'],
    ['rtmp://169.254.169.254/live', 'metadata'],
    ['rtmp://user:pw@8.8.8.8/live', 'credentials'],
    ['not a url', 'valid URL'],
  ])('refuses %s with a 400 on the field', async (url, why) => {
    const err = await assertUrlAllowed('url', url, ['rtmp', 'rtmps'], strict).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details[0]).toEqual({
      field: 'url',
      message: expect.stringContaining(why),
    });
  });
  it('refuses a name that resolves to loopback', async () => {
    await expect(assertHostAllowed('localhost', strict)).rejects.toBeInstanceOf(EgressDeniedError);
  });
  it('allows private networks when configured (tests, local development)', async () => {
    await expect(
      assertUrlAllowed('url', 'rtmp://127.0.0.1:1935/live', ['rtmp'], open),
    ).resolves.toBeInstanceOf(URL);
  });
});

describe('DNS answers', () => {
  const neverAnswers: DnsLookupAll = () => undefined;
  const answers =
    (...addresses: string[]): DnsLookupAll =>
    (_host, _opts, cb) =>
      cb(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  const fails: DnsLookupAll = (_host, _opts, cb) =>
    cb(
      Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' }),
      [],
    );
  const lookupOnce = (lookup: LookupFunction, host: string) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string }>((resolve) =>
      lookup(host, {}, (err, address) => resolve({ err, address: address as string })),
    );

  it('refuses on write, naming the field, when the resolver never answers', async () => {
    const policy = { allowPrivateNetworks: false, lookup: neverAnswers, dnsTimeoutMs: 50 };
    const t0 = Date.now();
    const err = await assertUrlAllowed('url', 'rtmp://slow.example/live', ['rtmp'], policy).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details).toEqual([
      { field: 'url', message: 'host slow.example did not resolve within 0.05 s' },
    ]);
  });

  it('waits 5 s by default', async () => {
    jest.useFakeTimers();
    try {
      const p = assertHostAllowed('slow.example', {
        allowPrivateNetworks: false,
        lookup: neverAnswers,
      });
      const settled = jest.fn();
      p.then(settled, settled);
      await jest.advanceTimersByTimeAsync(DNS_TIMEOUT_MS - 1);
      expect(settled).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      await expect(p).rejects.toMatchObject({
        reason: 'dns',
        message: expect.stringContaining('5 s'),
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('names the setting that would allow a private answer', async () => {
    const err = await assertUrlAllowed('url', 'rtmp://inside.example/live', ['rtmp'], {
      allowPrivateNetworks: false,
      lookup: answers('8.8.8.8', '10.0.0.7'),
    }).catch((e: unknown) => e);
    expect((err as AppError).details[0]).toEqual({
      field: 'url',
      message:
        'host inside.example resolves to a private address; private, loopback and link-local ' +
        'addresses are not allowed; set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private ' +
        'addresses (development only)',
    });
  });

  it('refuses at connect time when the resolver never answers, and ignores a late answer', async () => {
    let late: ((err: null, list: Array<{ address: string; family: number }>) => void) | null = null;
    const slow: DnsLookupAll = (_h, _o, cb) => {
      late = cb;
    };
    const lookup = guardedLookup({ allowPrivateNetworks: false, lookup: slow, dnsTimeoutMs: 30 });
    const { err } = await lookupOnce(lookup, 'slow.example');
    expect(err).toBeInstanceOf(EgressDeniedError);
    expect(err?.message).toBe('host slow.example did not resolve within 0.03 s');
    expect(() => late?.(null, [{ address: '8.8.8.8', family: 4 }])).not.toThrow();
  });

  it('times out at connect time also when private networks are allowed', async () => {
    const lookup = guardedLookup({
      allowPrivateNetworks: true,
      lookup: neverAnswers,
      dnsTimeoutMs: 30,
    });
    expect((await lookupOnce(lookup, 'slow.example')).err?.message).toContain('did not resolve');
  });

  it('connects to a public answer, refuses a private one, passes resolver errors on', async () => {
    const policy = { allowPrivateNetworks: false };
    expect(
      await lookupOnce(guardedLookup({ ...policy, lookup: answers('8.8.8.8') }), 'ok.example'),
    ).toEqual({
      err: null,
      address: '8.8.8.8',
    });
    const refused = await lookupOnce(
      guardedLookup({ ...policy, lookup: answers('127.0.0.1') }),
      'lo.example',
    );
    expect(refused.err?.message).toContain('EGRESS_ALLOW_PRIVATE_NETWORKS=true');
    const missing = await lookupOnce(
      guardedLookup({ ...policy, lookup: fails }),
      'nowhere.example',
    );
    expect(missing.err?.code).toBe('ENOTFOUND');
  });
});
