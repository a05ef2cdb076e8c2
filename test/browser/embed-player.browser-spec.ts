import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { CommerceFixture, linkStore, startCommerce, waitForImport } from '../support/commerce';
import { publishTestPattern, Publisher, stopAllMedia } from '../support/media';
import { ROOT, waitFor } from '../support/processes';

jest.setTimeout(240_000);

const ARTIFACTS = resolve(ROOT, 'test-artifacts');

/**
 * The shoppable brand-site player in a real Chromium while a test stream is live: the
 * video plays (currentTime advances, through hls.js and its worker, served by Castbridge
 * under its CSP with no violation), a product pinned over the API appears within seconds
 * with its exact price, stock and buy link, and a price and stock change at the store
 * (its signed webhook) shows on the card live; the controls work by mouse and keyboard;
 * the layout holds at desktop and phone sizes (products under the video on a phone);
 * axe finds no serious accessibility violation; no request fails (no /favicon.ico 404).
 * The brand-site relay reports its bytes and bitrate. The browser may reach loopback only.
 */
describe('brand-site player in a browser', () => {
  let f: CommerceFixture;
  let browser: Browser;
  let publisher: Publisher | null = null;

  beforeAll(async () => {
    f = await startCommerce({ products: 3, variantsPerProduct: 2 });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await publisher?.stop();
    await browser?.close();
    await stopAllMedia();
    await f?.close();
  });

  async function currentTime(page: Page): Promise<number> {
    // A string expression: this file is type-checked without the DOM library.
    return Number(await page.evaluate(`document.getElementById('video').currentTime`));
  }

  it('plays the live rendition and shows pinned products as they are pinned', async () => {
    const linked = await linkStore(f);
    await waitForImport(f, linked.connectionId);
    const products = await f.t
      .http()
      .get(`/v1/brands/${f.brandId}/products`)
      .set(f.auth)
      .expect(200);
    const product = (
      products.body.data as Array<{ id: string; title: string; handle: string; externalId: string }>
    )[0]!;

    const channel = await f.t
      .http()
      .post('/v1/channels')
      .set(f.auth)
      .send({ name: 'Spring drop live', brandId: f.brandId })
      .expect(201);
    const site = await f.t
      .http()
      .post(`/v1/channels/${channel.body.id}/destinations`)
      .set(f.auth)
      .send({ name: 'Brand site', kind: 'brand_site' })
      .expect(201);
    const embedUrl = `${f.baseUrl}/embed/${site.body.id}`;
    expect(site.body.playback.embedUrl).toBe(embedUrl);

    const viewports = [
      { name: 'desktop', viewport: { width: 1280, height: 720 } },
      { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    ];
    const watchers: Array<{
      name: string;
      page: Page;
      problems: string[];
      requested: string[];
    }> = [];
    for (const v of viewports) {
      const context = await browser.newContext({
        viewport: v.viewport,
        isMobile: v.isMobile ?? false,
        hasTouch: v.hasTouch ?? false,
        locale: 'en-US',
      });
      // Loopback only: product images of the store's CDN are not fetched in tests.
      await context.route('**/*', (route) =>
        /^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url())
          ? route.continue()
          : route.abort(),
      );
      const page = await context.newPage();
      const problems: string[] = [];
      const requested: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
      });
      page.on('request', (r) => requested.push(r.url()));
      page.on('response', (r) => {
        // A rendition answers 404 once the show ended or a segment expired: that is HLS.
        if (r.status() >= 400 && !r.url().includes('/hls/')) {
          problems.push(`${r.status()} ${r.url()}`);
        }
      });
      watchers.push({ name: v.name, page, problems, requested });
    }
    const [desktop, phone] = [watchers[0]!.page, watchers[1]!.page];

    // Before the show: the offline state.
    for (const w of watchers) {
      await w.page.goto(embedUrl);
      await w.page.waitForSelector('main[data-status="offline"]');
      expect(await w.page.textContent('#overlay-text')).toContain('offline');
      expect(await w.page.locator('#badge').isVisible()).toBe(false);
      expect(await w.page.locator('#controls').isVisible()).toBe(false);
    }

    const rtmpPort = f.t.config.rtmp.port;
    publisher = publishTestPattern(
      `rtmp://127.0.0.1:${rtmpPort}/live/${channel.body.ingest.streamKey}`,
    );
    for (const w of watchers) {
      await w.page.waitForSelector('main[data-status="live"]', { timeout: 30_000 });
      // The video plays: currentTime advances.
      await waitFor(async () => (await currentTime(w.page)) > 0.5, {
        what: `playback (${w.name})`,
        timeoutMs: 30_000,
      });
      const t1 = await currentTime(w.page);
      await waitFor(async () => (await currentTime(w.page)) > t1 + 0.5, {
        what: `playback advancing (${w.name})`,
        timeoutMs: 10_000,
      });
    }

    // Pin a product: it appears within a few seconds, with its exact price, stock and buy link.
    const sessionId = (await f.t.http().get(`/v1/channels/${channel.body.id}`).set(f.auth)).body
      .currentSessionId as string;
    await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId: product.id })
      .expect(201);
    const inStore = f.fake.products.get(Number(product.externalId))!;
    const currency = f.fake.currency;
    const money = (n: number) =>
      new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n);
    const lowest = Math.min(...inStore.variants.map((x) => Number(x.price)));
    const stock = inStore.variants.reduce((n, x) => n + x.inventory_quantity, 0);
    for (const w of watchers) {
      const card = w.page.locator(`li[data-product-id="${product.id}"]`);
      // It shows when the playhead reaches the pin (the rendition runs seconds behind).
      await card.waitFor({ timeout: 15_000 });
      expect(await card.locator('h3').textContent()).toBe(product.title);
      expect(await card.locator('.price').textContent()).toBe(money(lowest));
      expect(await card.locator('.stock').textContent()).toBe(`${stock} in stock`);
      expect(await card.locator('a.buy').getAttribute('href')).toBe(
        `https://${f.fake.shop}/products/${product.handle}`,
      );
    }

    // The merchant changes the price and the stock (kept per location, where this store
    // holds it all): the store's webhooks, and the card follows.
    const changed = f.fake.updateProduct(inStore.id, { price: '7.25' });
    const hooks = `${f.baseUrl}/webhooks/shopify`;
    expect((await f.fake.sendWebhook(hooks, 'products/update', changed)).status).toBe(200);
    const [store] = f.fake.shopData().locations;
    for (const [i, n] of [2, 1].entries()) {
      const level = f.fake
        .shopData()
        .setLevel(inStore.variants[i]!.inventory_item_id, store!.id, n);
      expect((await f.fake.sendWebhook(hooks, 'inventory_levels/update', level)).status).toBe(200);
    }
    for (const w of watchers) {
      const card = w.page.locator(`li[data-product-id="${product.id}"]`);
      await waitFor(async () => (await card.locator('.price').textContent()) === money(7.25), {
        what: `the new price on the card (${w.name})`,
        timeoutMs: 10_000,
      });
      await waitFor(async () => (await card.locator('.stock').textContent()) === '3 in stock', {
        what: `the new stock on the card (${w.name})`,
        timeoutMs: 10_000,
      });
    }

    // Layout: beside the video on a desktop, under it on a phone; no page-wide scroll.
    const box = async (page: Page, sel: string) => (await page.locator(sel).boundingBox())!;
    const dStage = await box(desktop, '#stage');
    const dShelf = await box(desktop, '.shelf');
    expect(dShelf.x).toBeGreaterThanOrEqual(dStage.x + dStage.width);
    expect(dStage.width).toBeGreaterThan(700);
    const pStage = await box(phone, '#stage');
    const pShelf = await box(phone, '.shelf');
    expect(pShelf.y).toBeGreaterThanOrEqual(pStage.y + pStage.height);
    expect(pShelf.y - (pStage.y + pStage.height)).toBeLessThan(120); // right under it
    expect(pStage.width).toBeGreaterThanOrEqual(380);
    expect(
      Number(await phone.evaluate('document.documentElement.scrollWidth')),
    ).toBeLessThanOrEqual(390);

    await desktop.waitForTimeout(500); // let the card's entrance animation finish
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const w of watchers) {
      await w.page.screenshot({
        path: resolve(ARTIFACTS, `embed-player-${w.name}.png`),
        fullPage: true,
      });
    }

    // Accessibility: no serious or critical violation at either size.
    for (const w of watchers) {
      const result = await new AxeBuilder({ page: w.page }).analyze();
      const serious = result.violations
        .filter((x) => x.impact === 'serious' || x.impact === 'critical')
        .map((x) => `${w.name}: ${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      expect(serious).toEqual([]);
    }

    // Controls, by mouse and by keyboard (labels say what a press will do).
    const paused = async () =>
      (await desktop.evaluate(`document.getElementById('video').paused`)) as boolean;
    const muted = async () =>
      (await desktop.evaluate(`document.getElementById('video').muted`)) as boolean;
    await desktop.getByRole('button', { name: 'Pause' }).click();
    expect(await paused()).toBe(true);
    await desktop.getByRole('button', { name: 'Play', exact: true }).first().click();
    await waitFor(async () => !(await paused()), { what: 'playing again', timeoutMs: 5000 });
    const wasMuted = await muted();
    await desktop.focus('#stage');
    await desktop.keyboard.press('m');
    expect(await muted()).toBe(!wasMuted);
    // The unmute prompt shows exactly while muted, and the mute button says what it does.
    for (const m of [!wasMuted, wasMuted]) {
      if (m !== (await muted())) await desktop.keyboard.press('m');
      expect(await muted()).toBe(m);
      await waitFor(async () => (await desktop.locator('#unmute').isVisible()) === m, {
        what: `unmute prompt ${m ? 'shown' : 'hidden'}`,
        timeoutMs: 2000,
      });
      expect(await desktop.locator('#mute').getAttribute('aria-label')).toBe(m ? 'Unmute' : 'Mute');
    }
    await desktop.keyboard.press('k');
    expect(await paused()).toBe(true);
    await desktop.keyboard.press(' ');
    await waitFor(async () => !(await paused()), { what: 'space plays', timeoutMs: 5000 });
    expect(await desktop.getByRole('slider', { name: 'Volume' }).count()).toBe(1);
    expect(await desktop.getByRole('button', { name: 'Full screen' }).count()).toBe(1);
    // Icons are SVG: no emoji in the controls' text.
    const controlsText = (await desktop.locator('#stage').textContent()) ?? '';
    expect(controlsText).not.toMatch(/\p{Extended_Pictographic}/u);

    // The brand-site relay reports what it packages for viewers.
    await waitFor(
      async () => {
        const s = await f.t.http().get(`/v1/sessions/${sessionId}`).set(f.auth).expect(200);
        const relay = (
          s.body.destinations as Array<{
            destinationId: string;
            bytesSent: number;
            bitrateKbps: number | null;
          }>
        ).find((r) => r.destinationId === site.body.id);
        return relay && relay.bytesSent > 0 && (relay.bitrateKbps ?? 0) > 0 ? relay : null;
      },
      { what: 'brand-site relay figures', timeoutMs: 15_000 },
    );

    // The query options: autoplay=0 waits for the viewer, muted=1 starts muted, color themes.
    const options = await desktop.context().newPage();
    await options.goto(`${embedUrl}?autoplay=0&muted=1&color=0057b8`);
    await options.waitForSelector('main[data-status="live"]', { timeout: 30_000 });
    await options.locator('#bigplay').waitFor({ state: 'visible' });
    expect(await options.evaluate(`document.getElementById('video').paused`)).toBe(true);
    expect(
      await options.evaluate(
        `getComputedStyle(document.documentElement).getPropertyValue('--accent')`,
      ),
    ).toBe('#0057b8');
    await options.locator('#bigplay-button').click();
    await waitFor(
      async () => !(await options.evaluate(`document.getElementById('video').paused`)),
      {
        what: 'autoplay=0 plays on press',
        timeoutMs: 10_000,
      },
    );
    expect(await options.evaluate(`document.getElementById('video').muted`)).toBe(true);
    const bad = await f.t.http().get(`/embed/${site.body.id}?color=red`);
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([
      { field: 'color', message: 'must be 6 hex digits, like e11d48' },
    ]);
    await options.close();

    // Unpinned: gone from the shelf.
    await f.t.http().delete(`/v1/sessions/${sessionId}/pins/${product.id}`).set(f.auth).expect(204);
    await desktop
      .locator(`li[data-product-id="${product.id}"]`)
      .waitFor({ state: 'detached', timeout: 15_000 });

    // The show ends: back to offline.
    await publisher.stop();
    publisher = null;
    for (const w of watchers) {
      await w.page.waitForSelector('main[data-status="offline"]', { timeout: 20_000 });
      expect(w.problems).toEqual([]);
      expect(w.requested.filter((u) => u.endsWith('/favicon.ico'))).toEqual([]);
      await w.page.context().close();
    }
  });
});
