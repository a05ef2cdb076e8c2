import { newApiKey } from './partners.service';
import { newStreamKey } from '../channels/channels.service';

describe('key formats', () => {
  it('API keys carry a public lookup part and 256 random bits', () => {
    const { lookup, key } = newApiKey();
    expect(key).toMatch(/^cbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`cbk_${lookup}_`)).toBe(true);
    expect(newApiKey().key).not.toBe(key);
  });
  it('stream keys are URL-path safe', () => {
    expect(newStreamKey()).toMatch(/^live_[A-Za-z0-9_-]{32}$/);
  });
});
