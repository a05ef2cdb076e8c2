import { Logger } from '@nestjs/common';
import type { Destination } from '../destinations/destination.entity';
import { planDestination, type DestinationPlan, type Reencode } from './output-plan';
import { sameWarnings, type RelayWarning, type WarningCode } from './preflight';
import type { FiguresHandle } from './stream-figures';

/** How long a first plan waits for the stream's headers when its output depends on them. */
export const FIGURES_WAIT_MS = 2000;

/**
 * The pre-flight of one relay run: the stream's figures, measured in this process, turned
 * into the destination's plan (passthrough or an encode) at the start of every attempt
 * and at every poll, its warnings written (with their event) whenever they change. What
 * a run re-encodes only grows until the destination is edited, so that a figure hovering
 * at a limit does not switch the destination between passthrough and transcode.
 */
export class RelayPreflight {
  private readonly log = new Logger(RelayPreflight.name);
  private reencoding: Reencode = { video: false, audio: false };
  private previous: WarningCode[] = [];
  private configVersion: number | null = null;
  private firstPlan = true;

  constructor(
    private readonly figures: FiguresHandle,
    /** What the relay row holds now. */
    private written: RelayWarning[],
    /** Fenced write of the warnings with their event; null when the run lost the relay. */
    private readonly write: (warnings: RelayWarning[]) => Promise<boolean | null>,
  ) {}

  /** The destination's plan now; 'lost' when the run no longer holds the relay. */
  async plan(d: Destination): Promise<DestinationPlan | 'lost'> {
    if (this.firstPlan) {
      this.firstPlan = false;
      // An encode decided before the headers arrive (a pull just starting) would be
      // decided again, with a restart, a moment later.
      if (d.profile !== null) await this.figures.ready(FIGURES_WAIT_MS);
    }
    if (d.configVersion !== this.configVersion) {
      this.configVersion = d.configVersion;
      this.reencoding = { video: false, audio: false };
      this.previous = [];
    }
    const plan = planDestination(d, this.figures.figures(), {
      reencoding: this.reencoding,
      previous: this.previous,
    });
    this.reencoding = plan.reencoding;
    this.previous = [...plan.findings.map((f) => f.code), ...plan.warnings.map((w) => w.code)];
    if (!sameWarnings(this.written, plan.warnings)) {
      try {
        const changed = await this.write(plan.warnings);
        if (changed === null) return 'lost';
        this.written = plan.warnings;
      } catch (err) {
        // Postgres away: the media goes on; the next poll writes them.
        this.log.warn(
          `warnings of destination ${d.id} not recorded yet: ${(err as Error).message}`,
        );
      }
    }
    return plan;
  }

  release(): void {
    this.figures.release();
  }
}
