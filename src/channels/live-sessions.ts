/**
 * What the channels part needs from the session lifecycle, without importing it: the
 * ingest part implements this (SessionsService) and provides it as LIVE_SESSIONS
 * (ingest.module.ts), so the arrow points ingest → channels only.
 */
export interface LiveSessions {
  /** Ends the session (relays stopped, publisher disconnected by its ingest node). */
  endSession(sessionId: string, reason: 'stopped'): Promise<boolean>;
}

export const LIVE_SESSIONS = Symbol('LiveSessions');
