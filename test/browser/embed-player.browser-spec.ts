import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { CommerceFixture, linkStore, startCommerce, waitForImport } from '../support/commerce';
import { publishTestPattern, Publisher, stopAllMedia } from '../support/media';
import { ROOT, waitFor } from '../support/processes';

jest.setTimeout(120_000);

const ARTIFACTS = resolve(ROOT, 'test-artifacts');

/**
 * The shoppable brand-site player in a real Chromium while a test stream is live: the
 * video plays (currentTime advances, through hls.js served by Castbridge), a product
 * pinned over the API appears within seconds, with its price, stock and buy link; a price
 * change from the store shows up live. The browser may reach loopback only.
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
      products.body.data as Array<{ id: string; title: string; handle: string }>
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

    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    // Loopback only: product images of the store's CDN are not fetched in tests.
    await context.route('**/*', (route) =>
      /^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url()) ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // Before the show: the offline state.
    await page.goto(embedUrl);
    await page.waitForSelector('main[data-status="offline"]');
    expect(await page.textContent('#overlay-text')).toContain('offline');

    const rtmpPort = f.t.config.rtmp.port;
    publisher = publishTestPattern(
      `rtmp://127.0.0.1:${rtmpPort}/live/${channel.body.ingest.streamKey}`,
    );
    await page.waitForSelector('main[data-status="live"]', { timeout: 30_000 });

    // The video plays: currentTime advances.
    await waitFor(async () => (await currentTime(page)) > 0.5, {
      what: 'playback',
      timeoutMs: 30_000,
    });
    const t1 = await currentTime(page);
    await page.waitForTimeout(2000);
    expect(await currentTime(page)).toBeGreaterThan(t1 + 0.5);

    // Pin a product: it appears within a few seconds, with price, stock and a buy link.
    const sessionId = (await f.t.http().get(`/v1/channels/${channel.body.id}`).set(f.auth)).body
      .currentSessionId as string;
    await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId: product.id })
      .expect(201);
    // It shows when the playhead reaches the pin (the rendition runs seconds behind).
    const card = page.locator(`li[data-product-id="${product.id}"]`);
    await card.waitFor({ timeout: 15_000 });
    expect(await card.locator('h3').textContent()).toBe(product.title);
    expect(await card.locator('.price').textContent()).toMatch(/\d/);
    expect(await card.locator('.stock').textContent()).toMatch(/in stock|Sold out/i);
    expect(await card.locator('a.buy').getAttribute('href')).toBe(
      `https://${f.fake.shop}/products/${product.handle}`,
    );

    await page.waitForTimeout(500); // let the card's entrance animation finish
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'embed-player.png') });

    // Unpinned: gone from the shelf.
    await f.t.http().delete(`/v1/sessions/${sessionId}/pins/${product.id}`).set(f.auth).expect(204);
    await card.waitFor({ state: 'detached', timeout: 15_000 });

    // The show ends: back to offline.
    await publisher.stop();
    publisher = null;
    await page.waitForSelector('main[data-status="offline"]', { timeout: 20_000 });
    expect(errors).toEqual([]);
    await context.close();
  });
});
