import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signWebhook } from './webhook-signing';

describe('webhook signing (Standard Webhooks)', () => {
  const body = JSON.stringify({ id: 'e1', type: 'session.started', data: { a: 1 } });

  it('makes whsec_ secrets of 32 random bytes, all different', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('signs so that the official library verifies', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook([secret], 'msg_1', new Date(), body);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs with every secret during a rotation: either one verifies', () => {
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const headers = signWebhook([current, previous], 'msg_2', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it('binds the id, the timestamp and the exact body', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook([secret], 'msg_3', new Date(), body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body + ' ', { ...headers })).toThrow();
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_4' })).toThrow();
    const ts = String(Number(headers['webhook-timestamp']) - 1);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': ts })).toThrow();
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook([], 'm', new Date(), body)).toThrow();
  });
});
