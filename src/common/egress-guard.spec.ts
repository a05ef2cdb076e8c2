import {
  assertHostAllowed,
  assertUrlAllowed,
  EgressDeniedError,
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
