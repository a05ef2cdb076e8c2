import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { HlsSegmenter } from '../media/hls-segmenter';
import { MediaClock } from '../media/media-clock';
import { scratchDir } from '../media/media-paths';
import { MediaService } from '../media/media.service';
import { buildRelayCommand } from '../relay/ffmpeg-command';
import { exitText, feedFfmpeg, OVERFLOW_TEXT } from '../relay/ffmpeg-feed';
import { FfmpegRunner } from '../relay/ffmpeg-runner';
import { HlsPublisher } from '../relay/hls-publisher';
import { pullFrom } from '../relay/relay-transports';
import { MEDIA_STORAGE, MediaStorage } from '../storage/media-storage';
import { recordingPrefix, RecordingsService } from './recordings.service';

/** How often a recording run looks at its session (its end closes the recording). */
export const RECORDING_WATCH_MS = 1000;
/** Recorded segments: cut at the first key frame after this many seconds. */
export const RECORDING_SEGMENT_SECONDS = 2;
/** Segments listed in the scratch playlist (the publisher takes each one as it appears). */
const SCRATCH_LIST_SIZE = 30;
/** Wait before packaging again after ffmpeg failed while the session is live. */
const RETRY_MS = 1000;

type AttemptEnd = 'ended' | 'failed' | 'lost' | 'aborted';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Records one live session, in the worker role: the ingest's stream as it arrives, copied
 * (no re-encode) into HLS segments in a scratch folder (H.264 + AAC by the in-process
 * HlsSegmenter, anything else by ffmpeg), each one stored through
 * the storage driver and noted in `recording_segments` as soon as it is complete, and the
 * playlist rewritten after it (EVENT while live, VOD at the end). A worker that dies loses
 * the segment in progress; the run is taken over by another worker, which carries on after
 * the stored segments with an EXT-X-DISCONTINUITY.
 */
@Injectable()
export class Recorder {
  private readonly log = new Logger(Recorder.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    private readonly recordings: RecordingsService,
    private readonly media: MediaService,
    private readonly runner: FfmpegRunner,
  ) {}

  async run(sessionId: string, signal: AbortSignal): Promise<string> {
    const token = `${hostname()}:${process.pid}:${randomUUID()}`;
    if (!(await this.recordings.claim(sessionId, token))) return 'not recording';
    this.log.log(`recording ${sessionId}: running`);
    let lastError: string | null = null;
    let withFfmpeg = false;
    for (;;) {
      const session = await this.session(sessionId);
      if (!session || session.status !== 'live') {
        await this.recordings.finish(sessionId, token, lastError);
        this.log.log(`recording ${sessionId}: finished`);
        return 'finished';
      }
      if (signal.aborted) return 'aborted';
      const end = await this.attempt(sessionId, token, session, signal, withFfmpeg);
      if (end.kind === 'lost') {
        // Deleted while it was recording: what this run stored since goes too.
        if ((await this.recordings.row(sessionId))?.state === 'deleted') {
          await this.storage.deletePrefix(recordingPrefix(sessionId));
        }
        return 'lost';
      }
      if (end.kind === 'aborted') return end.kind;
      if (end.kind === 'failed' && end.unsupported && !withFfmpeg) {
        this.log.log(`recording ${sessionId}: ${end.error}; packaging with ffmpeg`);
        withFfmpeg = true;
        continue;
      }
      if (end.kind === 'failed') {
        lastError = end.error;
        this.log.warn(`recording ${sessionId}: ${end.error}; packaging again`);
        await sleep(RETRY_MS);
      }
    }
  }

  private async session(
    id: string,
  ): Promise<{ status: string; streamName: string; ingestNode: string } | null> {
    const [s] = (await this.db.query(
      `SELECT status, stream_name, ingest_node FROM sessions WHERE id = $1`,
      [id],
    )) as Array<{ status: string; stream_name: string; ingest_node: string }>;
    return s ? { status: s.status, streamName: s.stream_name, ingestNode: s.ingest_node } : null;
  }

  private async attempt(
    sessionId: string,
    token: string,
    session: { streamName: string; ingestNode: string },
    signal: AbortSignal,
    withFfmpeg: boolean,
  ): Promise<{ kind: AttemptEnd; error: string | null; unsupported?: boolean }> {
    const dir = scratchDir(this.config.mediaDir, 'recordings', `${sessionId}-${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    const clock = new MediaClock();
    const stream = { streamName: session.streamName, ingestNode: session.ingestNode };
    const packager = withFfmpeg
      ? this.ffmpegPackager(dir, stream, clock)
      : this.inProcessPackager(dir, stream, clock);
    const publisher = new HlsPublisher(
      dir,
      {
        storage: this.storage,
        prefix: recordingPrefix(sessionId),
        type: 'recording',
        listSize: 0,
        pins: () => this.recordings.pinRanges(sessionId),
        earlier: await this.recordings.segments(sessionId),
        onSegment: (file, seq) => this.recordings.addSegment(sessionId, token, seq, file),
      },
      clock,
    );
    publisher.start();
    let stopped = false;
    void packager.stopped.then(() => (stopped = true));
    let end: AttemptEnd;
    for (;;) {
      await Promise.race([sleep(RECORDING_WATCH_MS), packager.stopped, publisher.failed]);
      if (publisher.error) {
        end = 'lost';
        break;
      }
      if (signal.aborted) {
        end = 'aborted';
        break;
      }
      if (stopped) {
        end = 'failed';
        break;
      }
      const now = await this.session(sessionId).catch(() => 'unavailable' as const);
      if (now === 'unavailable') continue; // Postgres away: keep recording
      if (!now || now.status !== 'live') {
        end = 'ended';
        break;
      }
    }
    // The input ends: the packager completes its last segment.
    const failure = await packager.finish();
    await publisher.finish(end === 'ended');
    await rm(dir, { recursive: true, force: true });
    if (publisher.error) {
      this.log.warn(`recording ${sessionId}: ${publisher.error.message}`);
      return { kind: 'lost', error: publisher.error.message };
    }
    if (end !== 'failed') return { kind: end, error: null };
    return { kind: end, error: failure.error, unsupported: failure.unsupported };
  }

  /** H.264 + AAC, segmented in this process (no child process, no re-encode). */
  private inProcessPackager(
    dir: string,
    stream: { streamName: string; ingestNode: string },
    clock: MediaClock,
  ): Packager {
    const segmenter = new HlsSegmenter(dir, {
      segmentSeconds: RECORDING_SEGMENT_SECONDS,
      listSize: SCRATCH_LIST_SIZE,
      clock,
    });
    const sub = this.media.subscribe(stream.streamName, pullFrom(this.media, stream), segmenter);
    return {
      stopped: segmenter.failed,
      finish: async () => {
        sub.close();
        await segmenter.close();
        return { error: segmenter.error, unsupported: segmenter.unsupported };
      },
    };
  }

  /** Anything else ffmpeg reads: its HLS muxer, fed FLV on stdin. */
  private ffmpegPackager(
    dir: string,
    stream: { streamName: string; ingestNode: string },
    clock: MediaClock,
  ): Packager {
    const command = buildRelayCommand({
      output: {
        kind: 'hls',
        dir,
        segmentSeconds: RECORDING_SEGMENT_SECONDS,
        listSize: SCRATCH_LIST_SIZE,
        keepSegments: true,
      },
      encode: null,
      thoroughProbe: true, // what it gets is what the segmenter refused (MP3 audio, say)
    });
    const fed = feedFfmpeg(
      this.runner,
      this.media,
      stream.streamName,
      pullFrom(this.media, stream),
      command,
      clock,
    );
    return {
      stopped: fed.proc.exited,
      finish: async () => {
        // The input ends: ffmpeg writes its last segment and exits.
        fed.close();
        fed.proc.stdin.end();
        const timer = setTimeout(() => void fed.proc.stop(), 5000);
        const exit = await fed.proc.exited;
        clearTimeout(timer);
        return { error: fed.overflowed() ? OVERFLOW_TEXT : exitText(exit), unsupported: false };
      },
    };
  }
}

/** What packages a recording attempt into the scratch folder. */
interface Packager {
  /** Settles when it stopped on its own (a failure while the session is live). */
  readonly stopped: Promise<unknown>;
  /** Ends its input; resolves once its last segment is in the scratch folder. */
  finish(): Promise<{ error: string | null; unsupported: boolean }>;
}
