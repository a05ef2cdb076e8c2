import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { AddressInfo } from 'node:net';
import { Browser, chromium } from 'playwright-core';
import { QUEUE_LABELS, QueueName } from '../../src/queues/queue-registry';
import { ROOT } from '../support/processes';
import { startTestApp, TestApp } from '../support/test-app';

const OPS = { OPS_USER: 'ops', OPS_PASSWORD: 'dashboard-password-123' };
const ARTIFACTS = resolve(ROOT, 'test-artifacts');

/** The queue dashboard in a real Chromium, logged in with the ops Basic credentials. */
describe('queue dashboard in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    // api only: no worker, so the job stays visible in "waiting".
    t = await startTestApp({ ROLES: 'api', ...OPS });
    baseUrl = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    await queue.add('maintenance.prune-outbox', { olderThanDays: 42 });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('refuses a browser without credentials', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Headless Chromium turns the 401 Basic challenge into a navigation error.
      await expect(page.goto(`${baseUrl}/admin/queues`)).rejects.toThrow(
        /ERR_INVALID_AUTH_CREDENTIALS/,
      );
    } finally {
      await context.close();
    }
  });

  it('lists the queues by readable name and shows a job', async () => {
    const context = await browser.newContext({
      httpCredentials: { username: OPS.OPS_USER, password: OPS.OPS_PASSWORD },
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = await context.newPage();
      // Every request the dashboard makes, answered or not (offline-safe: none leaves here).
      const requested: string[] = [];
      context.on('request', (r) => requested.push(r.url()));
      const res = await page.goto(`${baseUrl}/admin/queues`);
      expect(res?.status()).toBe(200);
      for (const q of Object.values(QueueName)) {
        await page.getByText(QUEUE_LABELS[q], { exact: false }).first().waitFor();
      }

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'queues-overview.png'), fullPage: true });

      await page.goto(`${baseUrl}/admin/queues/queue/${QueueName.Maintenance}?status=waiting`);
      await page.getByText('maintenance.prune-outbox').first().waitFor();
      await page.getByText(QUEUE_LABELS[QueueName.Maintenance]).first().waitFor();

      await page.screenshot({ path: resolve(ARTIFACTS, 'queues-dashboard.png'), fullPage: true });

      expect(requested.length).toBeGreaterThan(5);
      const outside = requested.filter(
        (u) => !u.startsWith(`${baseUrl}/`) && !u.startsWith('data:'),
      );
      expect(outside).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
