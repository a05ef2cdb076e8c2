import type { RelayState } from './relay.entity';
import { planRelays } from './relay-orchestrator.service';

const t0 = new Date('2026-12-02T10:00:00Z');
const later = new Date('2026-12-02T10:05:00Z');
const d = (id: string, enabled = true, updatedAt = t0) => ({ id, enabled, updatedAt });
const r = (id: string, destinationId: string, state: RelayState, since = t0) => ({
  id,
  destinationId,
  state,
  since,
});

describe('planRelays', () => {
  it('creates a relay for each enabled destination without one', () => {
    expect(planRelays([d('a'), d('b'), d('c', false)], [])).toEqual({
      create: ['a', 'b'],
      restart: [],
      stop: [],
    });
  });

  it('leaves running relays alone and stops the ones of disabled or deleted destinations', () => {
    const plan = planRelays(
      [d('a'), d('b', false)],
      [r('ra', 'a', 'live'), r('rb', 'b', 'retrying'), r('rc', 'gone', 'starting')],
    );
    expect(plan).toEqual({ create: [], restart: [], stop: ['rb', 'rc'] });
  });

  it('restarts a stopped relay of a destination enabled again', () => {
    expect(planRelays([d('a')], [r('ra', 'a', 'stopped')]).restart).toEqual(['ra']);
  });

  it('restarts an errored relay only when the destination was touched after it gave up', () => {
    expect(planRelays([d('a', true, t0)], [r('ra', 'a', 'errored', later)]).restart).toEqual([]);
    expect(planRelays([d('a', true, later)], [r('ra', 'a', 'errored', t0)]).restart).toEqual([
      'ra',
    ]);
  });

  it('does not stop what is already stopped or errored', () => {
    expect(planRelays([], [r('ra', 'a', 'stopped'), r('rb', 'b', 'errored')])).toEqual({
      create: [],
      restart: [],
      stop: [],
    });
  });
});
