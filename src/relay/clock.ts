/** Time as the relay runs see it: the system's, or a test's. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('Clock');
export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };
