/**
 * What the destinations part needs from the part that runs relays, without importing it:
 * the relay part implements this (RelayOrchestrator) and provides it as
 * DESTINATION_RUNTIME (relay.module.ts), so the arrow points relay → destinations only.
 */
export interface DestinationRuntime {
  /**
   * After a destination changed: start, stop or restart the relays of the channel's live
   * session so that they match its destinations (no-op when it is not live).
   */
  syncChannel(channelId: string): Promise<void>;
  /** The relay state of each of these destinations in that session. */
  relayStates(sessionId: string, destinationIds: string[]): Promise<Map<string, string>>;
}

export const DESTINATION_RUNTIME = Symbol('DestinationRuntime');
