import { Agent, request } from 'node:http';

/**
 * An open-loop load at a steady rate: request i is due at start + i / rate, whatever the
 * earlier ones are doing, and its latency is counted from when it was due (so a stall
 * in the server, or in this generator, shows in the figures instead of hiding them).
 *
 * autocannon's `overallRate` is not this: each connection sends its per-second quota
 * back to back when a new second starts and then waits, so "1,000/s" there is a burst
 * of 1,000 requests at full concurrency once a second, and its latencies are those of
 * the burst (plus a coordinated-omission correction computed for a 1 ms interval).
 */
export interface SteadyRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface SteadyResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Milliseconds from when each request was due to its full response; 2xx only. */
  latency: { p50: number; p90: number; p99: number; max: number };
}

export async function steadyRate(opts: {
  url: string;
  rate: number;
  durationS: number;
  /** Most requests in flight at once (further ones wait for a connection). */
  maxSockets: number;
  next(): SteadyRequest;
  onResponse?(status: number, req: SteadyRequest): void;
}): Promise<SteadyResult> {
  const { hostname, port } = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  const total = Math.round(opts.rate * opts.durationS);
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  let errors = 0;
  let settled = 0;
  const start = performance.now() + 50;

  await new Promise<void>((done) => {
    const settle = () => {
      if (++settled === total) done();
    };
    const send = (dueAt: number) => {
      const r = opts.next();
      const req = request(
        {
          host: hostname,
          port,
          method: r.method,
          path: r.path,
          agent,
          headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) latencies.push(performance.now() - dueAt);
            else non2xx++;
            opts.onResponse?.(status, r);
            settle();
          });
        },
      );
      req.on('error', () => {
        errors++;
        settle();
      });
      req.end(r.body);
    };
    // Wakes about every millisecond and sends whatever has come due since.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / opts.rate <= now) {
        send(start + (sent * 1000) / opts.rate);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 50);
  });
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies.length === 0
      ? 0
      : Math.round(latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]);
  return {
    sent,
    ok: latencies.length,
    non2xx,
    errors,
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
  };
}
