import { loadConfig } from '../../config/env.schema';
import { JOBS } from '../queues/queue-registry';
import { jobSchedules, LOOPS } from './periodic-work';

describe('periodic work', () => {
  const config = loadConfig({ RECONCILE_INTERVAL: '15m' });

  it('schedules registered jobs, each once, each with an interval or a cron pattern', () => {
    const schedules = jobSchedules(config);
    expect(new Set(schedules.map((s) => s.id)).size).toBe(schedules.length);
    for (const s of schedules) {
      expect(JOBS[s.job]).toBeDefined();
      expect(() => JOBS[s.job].parse(s.data)).not.toThrow();
      expect((s.every !== undefined) !== (s.pattern !== undefined)).toBe(true);
    }
    expect(schedules.find((s) => s.id === 'reconcile-all')?.every).toBe(15 * 60_000);
  });

  it('lists every in-process loop with a role and a positive interval', () => {
    for (const [name, loop] of Object.entries(LOOPS)) {
      expect([name, loop.everyMs > 0]).toEqual([name, true]);
      expect(['api', 'worker', 'ingest']).toContain(loop.role);
    }
  });
});
