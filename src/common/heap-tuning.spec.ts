import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from './heap-tuning';

const ROOT = join(__dirname, '..', '..');

describe('NODE_FLAGS', () => {
  it('are in the start command of package.json, before the script', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe(`node ${NODE_FLAGS.join(' ')} dist/src/main.js`);
  });

  it("are in the Dockerfile's CMD, before the script", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(JSON.parse(cmd![1]!)).toEqual(['node', ...NODE_FLAGS, 'dist/src/main.js']);
  });

  it('keep the young generation small under a steady allocation (without them it grows)', () => {
    // Short-lived objects with some survivors, as a live stream's messages: V8 grows its
    // semi-spaces under this unless the flag caps them.
    const script = `
      const keep = [];
      for (let i = 0; i < 3e6; i++) {
        const o = { a: i, b: [i] };
        if (i % 10 === 0) keep.push(o);
        if (keep.length > 20000) keep.splice(0, 10000);
      }
      const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
      console.log(s.space_size);`;
    const newSpace = (flags: readonly string[]) =>
      Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }).trim());
    expect(newSpace([])).toBeGreaterThan(8 * 1024 * 1024);
    expect(newSpace(NODE_FLAGS)).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
