import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { CommerceFixture, linkStore, startCommerce, waitForImport } from '../support/commerce';
import { publishTestPattern, Publisher, stopAllMedia } from '../support/media';
import { ROOT, waitFor } from '../support/processes';

jest.setTimeout(180_000);

const ARTIFACTS = resolve(ROOT, 'test-artifacts');

/**
 * Pins on the video's timeline, in a real Chromium: live, a product pinned at t shows when
 * the viewer's playhead reaches t — not when the pin arrives over SSE, seconds earlier;
 * in the replay of the recorded session, each chapter seeks to its pin and shows its
 * product. The browser may reach loopback only.
 */
describe('timed pins in the browser (live and replay)', () => {
  let f: CommerceFixture;
  let browser: Browser;
  let publisher: Publisher | null = null;

  beforeAll(async () => {
    f = await startCommerce({ products: 3, variantsPerProduct: 1 });
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

  async function loopbackContext(viewport: { width: number; height: number }) {
    const context = await browser.newContext({ viewport });
    await context.route('**/*', (route) =>
      /^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url()) ? route.continue() : route.abort(),
    );
    return context;
  }

  const num = async (page: Page, expr: string) => Number(await page.evaluate(expr));

  it('live: shows a pin when the playhead reaches it; replay: a chapter seeks and shows its product', async () => {
    const linked = await linkStore(f);
    await waitForImport(f, linked.connectionId);
    const list = await f.t.http().get(`/v1/brands/${f.brandId}/products`).set(f.auth).expect(200);
    const [a, b] = list.body.data as Array<{ id: string; title: string }>;
    const channel = await f.t
      .http()
      .post('/v1/channels')
      .set(f.auth)
      .send({ name: 'Timed show', brandId: f.brandId, recording: true })
      .expect(201);
    const site = await f.t
      .http()
      .post(`/v1/channels/${channel.body.id}/destinations`)
      .set(f.auth)
      .send({ name: 'Brand site', kind: 'brand_site' })
      .expect(201);

    publisher = publishTestPattern(
      `rtmp://127.0.0.1:${f.t.config.rtmp.port}/live/${channel.body.ingest.streamKey}`,
    );
    const sessionId = await waitFor(
      async () =>
        (await f.t.http().get(`/v1/channels/${channel.body.id}`).set(f.auth)).body
          .currentSessionId as string | null,
      { what: 'live session' },
    );

    const live: BrowserContext = await loopbackContext({ width: 1280, height: 720 });
    const page = await live.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${f.baseUrl}/embed/${site.body.id}`);
    await page.waitForSelector('main[data-status="live"]', { timeout: 30_000 });
    await waitFor(
      async () => (await num(page, `document.getElementById('video').currentTime`)) > 1,
      {
        what: 'playback',
        timeoutMs: 30_000,
      },
    );

    // A second event stream in the page notes whether A's card was on the shelf when the
    // state carrying A's pin arrived.
    await page.evaluate(`(() => {
      window.__pinArrival = null;
      const es = new EventSource('/embed/${site.body.id}/events');
      es.addEventListener('state', (e) => {
        const s = JSON.parse(e.data);
        if (window.__pinArrival === null && s.pins.some((p) => p.productId === '${a!.id}')) {
          window.__pinArrival = {
            cardShown: !!document.querySelector('li[data-product-id="${a!.id}"]'),
          };
          es.close();
        }
      });
    })()`);
    const pinA = await f.t
      .http()
      .post(`/v1/sessions/${sessionId}/pins`)
      .set(f.auth)
      .send({ productId: a!.id })
      .expect(201);
    const pinnedAt = Date.parse(pinA.body.pinnedAt as string);

    await page.locator(`li[data-product-id="${a!.id}"]`).waitFor({ timeout: 30_000 });
    const arrival = (await page.evaluate('window.__pinArrival')) as { cardShown: boolean } | null;
    expect(arrival).not.toBeNull();
    // When the pin reached the page the product was not shown yet …
    expect(arrival!.cardShown).toBe(false);
    // … it was drawn for a playhead at or past the moment it was pinned.
    const drawnAt = Number(await page.getAttribute('main', 'data-playhead'));
    expect(drawnAt).toBeGreaterThanOrEqual(pinnedAt);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'timed-pin-live.png') });

    // A is replaced by B; the live playlist carries both pins as DATERANGEs.
    await page.waitForTimeout(3000);
    await f.t.http().delete(`/v1/sessions/${sessionId}/pins/${a!.id}`).set(f.auth).expect(204);
    await f.t.http().post(`/v1/sessions/${sessionId}/pins`).set(f.auth).send({ productId: b!.id });
    await page.locator(`li[data-product-id="${b!.id}"]`).waitFor({ timeout: 30_000 });
    const playlist = await (await fetch(`${f.baseUrl}/hls/${site.body.id}/index.m3u8`)).text();
    expect(playlist).toContain(`CLASS="com.castbridge.pin"`);
    expect(playlist).toContain(`X-PRODUCT-ID="${a!.id}"`);
    expect(playlist).toContain(`X-PRODUCT-ID="${b!.id}"`);
    expect(errors).toEqual([]);
    await live.close();

    await new Promise((r) => setTimeout(r, 4000));
    await publisher.stop();
    publisher = null;
    const recording = await waitFor(
      async () => {
        const r = await f.t.http().get(`/v1/sessions/${sessionId}/recording`).set(f.auth);
        return r.body.state === 'ready' ? r.body : null;
      },
      { what: 'recording ready', timeoutMs: 30_000 },
    );
    const recorded = await (await fetch(`${f.baseUrl}/replay/${sessionId}/index.m3u8`)).text();
    expect(recorded).toContain(`X-PRODUCT-ID="${a!.id}"`);
    expect(recorded).toContain('#EXT-X-ENDLIST');
    const pins = recording.pins as Array<{ productId: string; offsetSeconds: number }>;
    expect(pins.map((p) => p.productId)).toEqual([a!.id, b!.id]);
    expect(pins[1]!.offsetSeconds).toBeGreaterThan(pins[0]!.offsetSeconds);

    // Replay, at phone size: chapters seek to their pin and show its product.
    for (const viewport of [
      { width: 390, height: 844, name: 'phone' },
      { width: 1280, height: 720, name: 'desktop' },
    ]) {
      const ctx = await loopbackContext(viewport);
      const replay = await ctx.newPage();
      replay.on('pageerror', (e) => errors.push(e.message));
      await replay.goto(recording.playback.replayUrl as string);
      const chapters = replay.locator('button.chapter');
      await waitFor(async () => (await chapters.count()) === 2, { what: 'chapters' });
      await waitFor(
        async () => (await num(replay, `document.getElementById('video').readyState`)) >= 1,
        { what: 'replay loaded', timeoutMs: 30_000 },
      );

      // By keyboard: focus B's chapter and press Enter.
      await chapters.nth(1).focus();
      await replay.keyboard.press('Enter');
      await replay.locator(`li[data-product-id="${b!.id}"]`).waitFor({ timeout: 20_000 });
      expect(await replay.locator(`li[data-product-id="${a!.id}"]`).count()).toBe(0);
      await replay.screenshot({
        path: resolve(ARTIFACTS, `replay-chapter-b-${viewport.name}.png`),
      });

      await chapters.nth(0).click();
      await replay.locator(`li[data-product-id="${a!.id}"]`).waitFor({ timeout: 20_000 });
      expect(await replay.locator(`li[data-product-id="${b!.id}"]`).count()).toBe(0);
      expect(await replay.locator(`li[data-product-id="${a!.id}"] .price`).textContent()).toMatch(
        /\d/,
      );
      await replay.screenshot({
        path: resolve(ARTIFACTS, `replay-chapter-a-${viewport.name}.png`),
      });
      await ctx.close();
    }
    expect(errors).toEqual([]);
  });
});
