/** How often the state a brand-site player shows is read, per watched destination. */
export const EMBED_POLL_MS = 1000;
/** Keep-alive comments on an open player event stream (proxies drop idle streams). */
export const EMBED_HEARTBEAT_MS = 15_000;
