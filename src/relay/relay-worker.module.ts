import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/env.schema';
import { APP_CONFIG } from '../common/app-config';
import { DestinationsModule } from '../destinations/destinations.module';
import { ShoppingModule } from '../shopping/shopping.module';
import { CLOCK, SYSTEM_CLOCK } from './clock';
import { FfmpegRunner } from './ffmpeg-runner';
import { RelayProcessor, RelayResumer } from './relay.processor';
import { RelayStore } from './relay-store';
import { RelaySupervisor } from './relay-supervisor.service';
import { RELAY_PULSES, RELAY_TRANSPORTS } from './relay-tokens';
import { RelayTransports } from './relay-transport-factory';
import { RelayWatch } from './relay-watch';

/** How often the runs of this process re-read their rows (live changes ≤ 3 s). */
export const RELAY_POLL_MS = 1000;
/** Progress (bitrate, bytes) written to Postgres at most this often, for all runs at once. */
export const RELAY_PROGRESS_WRITE_MS = 2000;

/** The one ffmpeg spawner of a worker module (PATH only in its environment). */
export const FFMPEG_RUNNER_PROVIDER = {
  provide: FfmpegRunner,
  useFactory: (config: AppConfig) => new FfmpegRunner(config.ffmpegPath, config.ffmpegEnv),
  inject: [APP_CONFIG],
};

/** Closes the shared poll when the worker stops. */
class RelayWatchCloser implements OnApplicationShutdown {
  constructor(@Inject(RELAY_PULSES) private readonly watch: RelayWatch) {}
  onApplicationShutdown(): void {
    this.watch.close();
  }
}

/**
 * Runs relays: `worker` role only. The supervisor's collaborators are wired here (and
 * only here): rows, transports, the shared poll, ffmpeg, the clock.
 */
@Module({
  imports: [DestinationsModule, ShoppingModule],
  providers: [
    RelaySupervisor,
    RelayProcessor,
    RelayResumer,
    RelayStore,
    RelayTransports,
    { provide: RELAY_TRANSPORTS, useExisting: RelayTransports },
    {
      provide: RELAY_PULSES,
      useFactory: (db: DataSource) => new RelayWatch(db, RELAY_POLL_MS, RELAY_PROGRESS_WRITE_MS),
      inject: [getDataSourceToken()],
    },
    RelayWatchCloser,
    FFMPEG_RUNNER_PROVIDER,
    { provide: CLOCK, useValue: SYSTEM_CLOCK },
  ],
})
export class RelayWorkerModule {}
