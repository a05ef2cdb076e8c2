import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves the requests `pick` takes (it returns what the handler needs of them, or null)
 * with `handler`, ahead of the server's own listeners (Express, and Nest on top of it),
 * which keep getting every other request.
 *
 * For a hot path whose cost must not include the framework's: Express and Nest spend more
 * per request than the whole of verifying and recording an inbound webhook (README
 * "Benchmarks"). Such a handler does its own request id, metrics, logging and error body.
 */
export function serveAhead<T>(
  server: Server,
  pick: (req: IncomingMessage) => T | null,
  handler: (req: IncomingMessage, res: ServerResponse, picked: T) => void,
): void {
  const rest = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const picked = pick(req);
    if (picked !== null) return handler(req, res, picked);
    for (const listener of rest) listener.call(server, req, res);
  });
}
