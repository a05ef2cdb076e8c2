import type { StreamFigures } from './preflight';

/** A 720p30 H.264/AAC ingest that fits every 16:9 platform (unit tests; `*.fixtures.ts` is not built). */
export const GOOD_720P: StreamFigures = {
  videoCodec: 'h264',
  audioCodec: 'aac',
  width: 1280,
  height: 720,
  fps: 30,
  keyframeIntervalMs: 2000,
  bitrateKbps: 3500,
  audioSampleRate: 48000,
};
