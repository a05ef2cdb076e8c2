import { execFile } from 'node:child_process';

/** Runs `ffmpeg -version`; resolves to the first line, rejects when ffmpeg is unusable. */
export function probeFfmpeg(path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) reject(new Error(`ffmpeg not usable at "${path}": ${err.message}`));
      else resolve(stdout.split('\n')[0] ?? 'ffmpeg');
    });
  });
}
