import type { MediaClock } from '../media/media-clock';
import type { MediaService } from '../media/media.service';
import { FLV_FILE_HEADER, queuedIn, writeFlvTag } from '../media/media-hub';
import type { FfmpegCommand } from './ffmpeg-command';
import type { FfmpegExit, FfmpegProcess, FfmpegRunner } from './ffmpeg-runner';

/** ffmpeg's stdin or a destination socket holding more than this: it cannot keep up. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Starts ffmpeg fed FLV over stdin from hub stream `name` (pulled from `pullFrom` when
 * another node holds it): ffmpeg never connects anywhere, and it ends at EOF if its
 * worker dies. More than MAX_BUFFERED_BYTES waiting in its stdin stops it (too slow).
 * `clock` notes when each message arrived (the packager's PROGRAM-DATE-TIME).
 */
export function feedFfmpeg(
  runner: FfmpegRunner,
  media: MediaService,
  name: string,
  pullFrom: string | null,
  command: FfmpegCommand,
  clock: MediaClock | null = null,
): {
  proc: FfmpegProcess;
  overflowed: () => boolean;
  /** Audio and video payload bytes handed to ffmpeg so far. */
  mediaBytes: () => number;
  close(): void;
} {
  const proc = runner.start(command);
  let overflow = false;
  let mediaBytes = 0;
  proc.stdin.write(FLV_FILE_HEADER);
  const sub = media.subscribe(name, pullFrom, {
    deliver: (m) => {
      if (overflow) return;
      if (proc.stdin.writableLength > MAX_BUFFERED_BYTES) {
        overflow = true;
        void proc.stop(500);
        return;
      }
      clock?.observe(m, Date.now());
      writeFlvTag(proc.stdin, m);
      mediaBytes += m.payload.length;
    },
    busy: () => queuedIn(proc.stdin),
  });
  return {
    proc,
    overflowed: () => overflow,
    mediaBytes: () => mediaBytes,
    close: () => sub.close(),
  };
}

export function exitText(exit: FfmpegExit): string {
  return exit.error || `ffmpeg exited (${exit.code ?? exit.signal})`;
}

export const OVERFLOW_TEXT = 'destination too slow: output buffer overflow';
