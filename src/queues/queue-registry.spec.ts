import { UnrecoverableError } from 'bullmq';
import { isJobName, JOBS, jobsOf, QueueName, QUEUE_LABELS } from './queue-registry';

describe('queue registry', () => {
  it('puts every job on a known queue, and every queue has a label and a job', () => {
    for (const def of Object.values(JOBS)) expect(Object.values(QueueName)).toContain(def.queue);
    for (const q of Object.values(QueueName)) {
      expect(QUEUE_LABELS[q]).toBeTruthy();
      expect(jobsOf(q).length).toBeGreaterThan(0);
    }
  });
  it('checks payloads as they come off the queue', () => {
    const parse = JOBS['maintenance.prune-outbox'].parse;
    expect(parse({ olderThanDays: 30 })).toEqual({ olderThanDays: 30 });
    expect(() => parse({ olderThanDays: '30' })).toThrow(UnrecoverableError);
    expect(() => parse(null)).toThrow(UnrecoverableError);
  });
  it('knows its job names', () => {
    expect(isJobName('maintenance.prune-outbox')).toBe(true);
    expect(isJobName('constructor')).toBe(false);
  });
});
