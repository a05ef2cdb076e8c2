import type { DataSource } from 'typeorm';

/**
 * Runs one SQL statement that stops when `signal` aborts: the statement is cancelled in
 * Postgres (pg_cancel_backend on its own connection) and the returned promise rejects.
 * For long statements in jobs, so that shutdown is not held up by them.
 */
export async function abortableQuery<T = unknown>(
  db: DataSource,
  sql: string,
  params: unknown[],
  signal: AbortSignal,
): Promise<T> {
  signal.throwIfAborted();
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as Array<{
      pid: number;
    }>;
    let cancelled: Promise<unknown> = Promise.resolve();
    const cancel = () => {
      cancelled = db.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return (await runner.query(sql, params)) as T;
    } catch (err) {
      if (signal.aborted)
        throw new Error(`query cancelled: ${String(signal.reason)}`, { cause: err });
      throw err;
    } finally {
      signal.removeEventListener('abort', cancel);
      // Never hand the connection back while a cancel may still land on it.
      await cancelled;
    }
  } finally {
    await runner.release();
  }
}
