import { parsePushUrl, writeMessage } from './rtmp-push';

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

describe('writeMessage', () => {
  function fakeSocket() {
    const writes: Buffer[] = [];
    return {
      writes,
      socket: {
        write: (b: Buffer) => writes.push(Buffer.from(b)),
        cork: () => undefined,
        uncork: () => undefined,
      } as unknown as import('node:net').Socket,
    };
  }
  // fmt 0, chunk stream 6 (video), ts 0x000010, length 3, type 9, stream id 0, payload 3 bytes
  const message = Buffer.from([0x06, 0, 0, 0x10, 0, 0, 3, 9, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc]);

  it('sets the destination stream id in the type-0 header and leaves the payload alone', () => {
    const { socket, writes } = fakeSocket();
    writeMessage(socket, message, 1);
    const out = Buffer.concat(writes);
    expect(out.readUInt32LE(8)).toBe(1);
    expect(out.subarray(0, 8)).toEqual(message.subarray(0, 8));
    expect(out.subarray(12)).toEqual(message.subarray(12));
    expect(message.readUInt32LE(8)).toBe(0); // the shared buffer is not modified
  });
  it('writes as is for stream id 0 and for non type-0 chunks', () => {
    const a = fakeSocket();
    writeMessage(a.socket, message, 0);
    expect(a.writes).toEqual([message]);
    const type3 = Buffer.from([0xc6, 1, 2, 3]);
    const b = fakeSocket();
    writeMessage(b.socket, type3, 1);
    expect(b.writes).toEqual([type3]);
  });
});
