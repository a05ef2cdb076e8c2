import { UnrecoverableError } from 'bullmq';
import { deliveryJobId, isJobName, JOBS, jobsOf, QueueName, QUEUE_LABELS } from './queue-registry';

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

describe('webhooks.deliver', () => {
  const parse = JOBS['webhooks.deliver'].parse;
  const id = '6f0c2f4e-2a4b-4c3d-9e8f-0a1b2c3d4e5f';
  it('carries only a delivery id', () => {
    expect(parse({ deliveryId: id })).toEqual({ deliveryId: id });
    expect(parse({ deliveryId: id, secret: 'x' })).toEqual({ deliveryId: id });
    expect(() => parse({ deliveryId: 'nope' })).toThrow(UnrecoverableError);
  });
  it('derives job ids from the delivery id', () => {
    expect(deliveryJobId(id, 0)).toBe(`wh-${id}`);
    expect(deliveryJobId(id, 2)).toBe(`wh-${id}-2`);
  });
});
