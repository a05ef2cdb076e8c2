import type { DataSource } from 'typeorm';
import { RelayWatch } from './relay-watch';

/** A DataSource stand-in that records queries and answers from a script. */
function fakeDb(answer: (sql: string, params: unknown[]) => unknown) {
  const calls: Array<{ sql: string; params: unknown[] }> = [];
  const db = {
    query: jest.fn(async (sql: string, params: unknown[]) => {
      calls.push({ sql, params });
      return answer(sql, params);
    }),
  } as unknown as DataSource;
  return { db, calls };
}

describe('RelayWatch', () => {
  it('reads every waiting relay in one query per poll', async () => {
    const { db, calls } = fakeDb(() => [
      {
        id: 'r1',
        state: 'live',
        generation: 2,
        worker_id: 'w:1:t',
        session_status: 'live',
        enabled: true,
        config_version: 3,
      },
    ]);
    const watch = new RelayWatch(db, 5, 5);
    const [a, b] = await Promise.all([watch.next('r1'), watch.next('r2')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.params).toEqual([['r1', 'r2']]);
    expect(a).toEqual({
      state: 'live',
      generation: 2,
      workerId: 'w:1:t',
      sessionLive: true,
      destinationEnabled: true,
      configVersion: 3,
    });
    expect(b).toBeNull(); // relay gone
    watch.close();
  });

  it('says "unavailable" when Postgres does not answer, so runs keep streaming', async () => {
    const { db } = fakeDb(() => {
      throw new Error('connection refused');
    });
    const watch = new RelayWatch(db, 5, 5);
    await expect(watch.next('r1')).resolves.toBe('unavailable');
    watch.close();
  });

  it('writes the latest progress of every relay in one fenced UPDATE', async () => {
    const { db, calls } = fakeDb(() => [[], 0]);
    const watch = new RelayWatch(db, 5, 5);
    watch.reportProgress('r1', 1, 't1', 900, 1000);
    watch.reportProgress('r1', 1, 't1', 950, 2000); // newer figures replace older ones
    watch.reportProgress('r2', 4, 't2', null, 10);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.sql).toContain('r.worker_id = v.token');
    expect(calls[0]!.params).toEqual([
      ['r1', 'r2'],
      [1, 4],
      ['t1', 't2'],
      [950, null],
      [2000, 10],
    ]);
    watch.close();
  });
});
