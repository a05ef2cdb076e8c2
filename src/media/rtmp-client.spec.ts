import { parseRtmpUrl as parsePushUrl } from './rtmp-client';

describe('parsePushUrl', () => {
  it('splits app and stream key; the tcUrl never carries the key', () => {
    expect(parsePushUrl('rtmp://live.example.com/app/sk_secret')).toEqual({
      secure: false,
      host: 'live.example.com',
      port: 1935,
      app: 'app',
      streamName: 'sk_secret',
      tcUrl: 'rtmp://live.example.com/app',
    });
  });
  it('defaults RTMPS to 443 and keeps nested apps and query strings', () => {
    const p = parsePushUrl('rtmps://a.example:8443/live2/sub/key?token=1');
    expect(p).toMatchObject({
      secure: true,
      port: 8443,
      app: 'live2/sub',
      streamName: 'key?token=1',
    });
    expect(p.tcUrl).toBe('rtmps://a.example:8443/live2/sub');
    expect(parsePushUrl('rtmps://b.example/app/k').port).toBe(443);
  });
  it('refuses other schemes and URLs without a stream name', () => {
    expect(() => parsePushUrl('http://x/app/k')).toThrow('unsupported scheme');
    expect(() => parsePushUrl('rtmp://x/app')).toThrow('app and a stream name');
  });
});

describe('StallWatch', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { StallWatch, ACK_WINDOW } = require('./rtmp-push') as typeof import('./rtmp-push');

  it('sees a server that stopped acknowledging once two windows went out since its last ack', () => {
    const w = new StallWatch(5000, 0);
    expect(w.check({ dispatched: 0, pending: 0, acks: 1 }, 0)).toBeNull();
    expect(w.check({ dispatched: ACK_WINDOW, pending: 0, acks: 2 }, 1000)).toBeNull();
    expect(w.check({ dispatched: 3 * ACK_WINDOW + 1, pending: 0, acks: 2 }, 2000)).toBeNull();
    expect(w.check({ dispatched: 4 * ACK_WINDOW, pending: 0, acks: 2 }, 6000)).toBeNull();
    expect(w.check({ dispatched: 5 * ACK_WINDOW, pending: 0, acks: 2 }, 7000)).toMatch(
      /no acknowledgement for 5 s/,
    );
  });

  it('an idle stream is not a stall, and a new ack clears an overdue one', () => {
    const w = new StallWatch(5000, 0);
    w.check({ dispatched: 0, pending: 0, acks: 1 }, 0);
    expect(w.check({ dispatched: 10, pending: 0, acks: 1 }, 60_000)).toBeNull();
    expect(w.check({ dispatched: 3 * ACK_WINDOW, pending: 0, acks: 1 }, 61_000)).toBeNull();
    expect(w.check({ dispatched: 3 * ACK_WINDOW, pending: 0, acks: 2 }, 67_000)).toBeNull();
  });

  it('without acknowledgements: data waiting and nothing taken by the kernel for 5 s', () => {
    const w = new StallWatch(5000, 0);
    expect(w.check({ dispatched: 100, pending: 50, acks: 0 }, 1000)).toBeNull();
    expect(w.check({ dispatched: 100, pending: 80, acks: 0 }, 5000)).toBeNull();
    expect(w.check({ dispatched: 100, pending: 90, acks: 0 }, 6000)).toMatch(/no write progress/);
  });
});
