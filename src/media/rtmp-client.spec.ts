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
