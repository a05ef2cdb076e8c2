import type { Readable } from 'node:stream';
import type { MediaHub, Publication } from './media-hub';
import { NmsFlvParserClass } from './nms';
import { withHeadroom } from './rtmp-protocol';

/**
 * Publishes an FLV byte stream (an ffmpeg's stdout) into the hub as `name`, so that it is
 * pushed to destinations by the same in-process client as a passthrough. Returns null
 * when the name is taken. The source ends with the stream or on a parse error.
 */
export function publishFlv(
  hub: MediaHub,
  name: string,
  input: Readable,
): { publication: Publication; ended: Promise<string | null> } | null {
  const publication = hub.publish(name, 'flv');
  if (!publication) return null;
  const parser = new NmsFlvParserClass();
  parser.onPacketCallback = (p) => {
    // The parser reuses its tag buffer: the hub keeps messages, so each gets its own copy.
    const payload = withHeadroom(p.size);
    p.data.copy(payload, 0, 0, p.size);
    publication.write({ type: p.codec_type, timestamp: p.dts >>> 0, payload, headroom: true });
  };
  const ended = new Promise<string | null>((resolve) => {
    let done = false;
    const finish = (reason: string | null) => {
      if (done) return;
      done = true;
      input.off('data', onData);
      publication.end();
      resolve(reason);
    };
    const onData = (chunk: Buffer) => {
      let error: string | null;
      try {
        error = parser.parserData(chunk);
      } catch (err) {
        error = (err as Error).message;
      }
      if (error) {
        finish(`FLV from the encoder: ${error}`);
        input.destroy();
      }
    };
    input.on('data', onData);
    input.once('end', () => finish(null));
    input.once('close', () => finish(null));
    input.once('error', (e: Error) => finish(e.message));
  });
  return { publication, ended };
}
