import { readFileSync } from 'node:fs';
import { withoutOutsideRequests } from './queue-dashboard.module';

describe('withoutOutsideRequests (the queue dashboard page)', () => {
  it("drops the outside font links of bull-board's own page and keeps its local assets", () => {
    const page = readFileSync(require.resolve('@bull-board/ui/dist/index.ejs'), 'utf8');
    expect(page).toMatch(/href="https:\/\/fonts\.googleapis\.com/); // what it fixes
    const out = withoutOutsideRequests(page);
    expect(out).not.toMatch(/(?:href|src)="(?:https?:)?\/\//);
    expect(out).toContain('href="static/css/');
    expect(out).toContain('src="static/js/main.');
  });
});
