import { Logger } from '@nestjs/common';
import { PeriodicLoop } from './periodic-loop';

describe('PeriodicLoop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const log = { warn: jest.fn() } as unknown as Logger;

  it('runs every period after the previous run ended, and never two at once', async () => {
    let runs = 0;
    let inFlight = 0;
    let most = 0;
    const loop = new PeriodicLoop(
      't',
      1000,
      async () => {
        runs += 1;
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1500)); // longer than the period
        inFlight -= 1;
      },
      log,
    );
    loop.start(0);
    await jest.advanceTimersByTimeAsync(9000);
    expect(runs).toBe(4); // at 0, 2.5, 5 and 7.5 s
    expect(most).toBe(1);
    await loop.stop();
  });

  it('takes the delay a run returns (0: again at once) and survives a failing run', async () => {
    const delays = [0, 0, undefined];
    let runs = 0;
    const loop = new PeriodicLoop(
      't',
      1000,
      async () => {
        runs += 1;
        if (runs === 2) throw new Error('boom');
        return delays.shift();
      },
      log,
    );
    loop.start(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2); // the first asked for 0: the second ran at once, and failed
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(3);
    expect(log.warn).toHaveBeenCalledWith('t: boom');
    await loop.stop();
  });

  it('stop() waits for the run in progress and nothing runs after it', async () => {
    let finished = false;
    let runs = 0;
    const loop = new PeriodicLoop(
      't',
      100,
      async () => {
        runs += 1;
        await new Promise((r) => setTimeout(r, 500));
        finished = true;
      },
      log,
    );
    loop.start(0);
    await jest.advanceTimersByTimeAsync(10);
    const stopping = loop.stop();
    await jest.advanceTimersByTimeAsync(600);
    await stopping;
    expect(finished).toBe(true);
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(1);
  });
});

describe('PeriodicLoop.wake', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const log = { warn: jest.fn() } as unknown as Logger;

  it('runs at once when woken, and once more right after a run that was woken meanwhile', async () => {
    let runs = 0;
    const loop = new PeriodicLoop(
      't',
      60_000,
      async () => {
        runs += 1;
        await new Promise((r) => setTimeout(r, 100));
      },
      log,
    );
    loop.start();
    loop.wake();
    await jest.advanceTimersByTimeAsync(10);
    expect(runs).toBe(1);
    loop.wake(); // during the run
    loop.wake();
    await jest.advanceTimersByTimeAsync(150);
    expect(runs).toBe(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2); // back to its period
    await loop.stop();
  });
});
