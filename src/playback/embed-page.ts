/**
 * The brand-site player: one HTML page (no inline script or style, so a strict CSP holds),
 * its stylesheet, its script and its icons. hls.js is served by Castbridge from
 * node_modules, not a CDN. The products shown are rendered by one function of the
 * script, `renderProducts(products)` (a card per product: `productCard`).
 */

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** What the page's query asks for (`?muted=1`, `?autoplay=0`, `?color=e11d48`). */
export interface EmbedOptions {
  muted: boolean;
  autoplay: boolean;
  /** The theme colour, 6 hex digits without `#`; null: the default. */
  color: string | null;
}

const COLOR = /^[0-9a-f]{6}$/i;

/**
 * Reads the player's query. Unknown parameters are ignored (brands add their own tracking
 * parameters); a colour that is not 6 hex digits is a 400 naming `color` (`ok: false`).
 */
export function parseEmbedOptions(
  q: Record<string, unknown>,
): { ok: true; options: EmbedOptions } | { ok: false; field: string; message: string } {
  const flag = (v: unknown, dflt: boolean): boolean | null => {
    if (v === undefined) return dflt;
    if (v === '1' || v === 'true') return true;
    if (v === '0' || v === 'false') return false;
    return null;
  };
  const muted = flag(q.muted, false);
  if (muted === null) return { ok: false, field: 'muted', message: 'must be 0 or 1' };
  const autoplay = flag(q.autoplay, true);
  if (autoplay === null) return { ok: false, field: 'autoplay', message: 'must be 0 or 1' };
  let color: string | null = null;
  if (q.color !== undefined) {
    const c = typeof q.color === 'string' ? q.color.replace(/^#/, '') : '';
    if (!COLOR.test(c)) {
      return { ok: false, field: 'color', message: 'must be 6 hex digits, like e11d48' };
    }
    color = c.toLowerCase();
  }
  return { ok: true, options: { muted, autoplay, color } };
}

/** The SVG icons (no emoji, no icon font): `<use href="/embed/assets/icons.svg#name">`. */
export const EMBED_ICONS = `<svg xmlns="http://www.w3.org/2000/svg">
<symbol id="play" viewBox="0 0 24 24"><path fill="currentColor" d="M8 5.14v13.72a1 1 0 0 0 1.52.85l10.9-6.86a1 1 0 0 0 0-1.7L9.52 4.29A1 1 0 0 0 8 5.14z"/></symbol>
<symbol id="pause" viewBox="0 0 24 24"><path fill="currentColor" d="M7 4h3.5a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1zm6.5 0H17a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-3.5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z"/></symbol>
<symbol id="volume" viewBox="0 0 24 24"><path fill="currentColor" d="M4 9v6h4l5 5V4L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4.03v8.05A4.5 4.5 0 0 0 16.5 12zM14 3.23v2.06a7 7 0 0 1 0 13.42v2.06a9 9 0 0 0 0-17.54z"/></symbol>
<symbol id="muted" viewBox="0 0 24 24"><path fill="currentColor" d="M4 9v6h4l5 5V4L8 9H4zm12.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z"/></symbol>
<symbol id="fullscreen" viewBox="0 0 24 24"><path fill="currentColor" d="M4 4h6v2H6v4H4V4zm10 0h6v6h-2V6h-4V4zM4 14h2v4h4v2H4v-6zm14 0h2v6h-6v-2h4v-4z"/></symbol>
<symbol id="exit-fullscreen" viewBox="0 0 24 24"><path fill="currentColor" d="M8 4h2v6H4V8h4V4zm6 0h2v4h4v2h-6V4zM4 14h6v6H8v-4H4v-2zm10 0h6v2h-4v4h-2v-6z"/></symbol>
<symbol id="bag" viewBox="0 0 24 24"><path fill="currentColor" d="M7 7V6a5 5 0 0 1 10 0v1h3a1 1 0 0 1 1 1l-1 12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2L3 8a1 1 0 0 1 1-1h3zm2 0h6V6a3 3 0 0 0-6 0v1z"/></symbol>
</svg>`;

/** The page's icon (a tab icon, so the browser does not ask for /favicon.ico). */
export const EMBED_FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#e11d48"/><path fill="#fff" d="M12 9.5v13l10.5-6.5z"/></svg>`;

const icon = (name: string): string =>
  `<svg class="icon" aria-hidden="true" focusable="false"><use href="/embed/assets/icons.svg#${name}"></use></svg>`;

export function embedHtml(destinationId: string, title: string, options: EmbedOptions): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · Live</title>
<link rel="icon" type="image/svg+xml" href="/embed/assets/favicon.svg">
<link rel="stylesheet" href="/embed/assets/player.css">
</head>
<body>
<main class="cb" data-destination="${escapeHtml(destinationId)}" data-status="offline"
  data-muted="${options.muted ? '1' : '0'}" data-autoplay="${options.autoplay ? '1' : '0'}"
  data-color="${options.color ?? ''}">
  <section class="player">
    <div class="stage" id="stage" role="region" aria-label="Live video: ${t}" tabindex="0">
      <video id="video" playsinline muted aria-label="${t}"></video>
      <div class="badge" id="badge" hidden><span class="dot"></span>LIVE</div>
      <button class="unmute" id="unmute" type="button" hidden>${icon('muted')}<span>Tap to unmute</span></button>
      <div class="bigplay" id="bigplay" hidden>
        <button class="round" id="bigplay-button" type="button" aria-label="Play">${icon('play')}</button>
      </div>
      <div class="controls" id="controls" hidden>
        <button class="ctl" id="play" type="button" aria-label="Pause">${icon('pause')}</button>
        <button class="ctl" id="mute" type="button" aria-label="Unmute">${icon('muted')}</button>
        <input class="volume" id="volume" type="range" min="0" max="1" step="0.05" value="1" aria-label="Volume">
        <span class="spacer"></span>
        <button class="ctl" id="fullscreen" type="button" aria-label="Full screen">${icon('fullscreen')}</button>
      </div>
      <div class="overlay" id="overlay">
        <div class="overlay-card">
          <div class="spinner" id="spinner" hidden></div>
          <p class="overlay-title" id="overlay-title">${t}</p>
          <p id="overlay-text" role="status">We’re offline right now. Come back when the show starts.</p>
        </div>
      </div>
    </div>
    <header class="info">
      <h1 id="show-title">${t}</h1>
      <p class="info-status" id="info-status">Offline</p>
    </header>
  </section>
  <aside class="shelf" aria-labelledby="shelf-title">
    <header class="shelf-head">
      <h2 id="shelf-title">${icon('bag')}Featured in this show</h2>
      <span class="count" id="count"></span>
    </header>
    <ul class="products" id="products" aria-live="polite"></ul>
    <p class="empty" id="empty">Products featured during the show appear here.</p>
  </aside>
</main>
<script src="/embed/assets/hls.min.js"></script>
<script src="/embed/assets/timed-pins.js"></script>
<script src="/embed/assets/player.js"></script>
</body>
</html>`;
}

export const EMBED_CSS = `
:root { color-scheme: dark; --bg:#0d0f14; --panel:#151923; --line:#2a3140; --text:#f3f5f9;
  --muted:#a7b0bf; --accent:#e11d48; --on-accent:#fff; --ok:#34d399; --radius:14px;
  font-family: Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
html, body { margin:0; min-height:100%; background:var(--bg); color:var(--text); }
.icon { width:20px; height:20px; display:block; flex:none; }
.cb { display:grid; grid-template-columns:minmax(0, 1fr) minmax(280px, 360px); gap:16px;
  padding:16px; height:100vh; align-items:stretch; }
.player { display:flex; flex-direction:column; justify-content:center; gap:12px; min-width:0;
  min-height:0; }
.stage { position:relative; background:#000; border-radius:var(--radius); overflow:hidden;
  aspect-ratio:16/9; width:100%; max-height:calc(100vh - 110px); margin:0 auto;
  box-shadow:0 10px 40px rgba(0,0,0,.45); outline:none; }
.stage:focus-visible { box-shadow:0 0 0 3px var(--accent); }
.stage:fullscreen { max-height:none; border-radius:0; }
video { width:100%; height:100%; display:block; object-fit:contain; background:#000; }
.badge { position:absolute; top:14px; left:14px; display:flex; align-items:center; gap:8px;
  background:var(--accent); color:var(--on-accent); font-weight:700; font-size:12px;
  letter-spacing:.08em; padding:6px 10px; border-radius:999px; }
.dot { width:8px; height:8px; border-radius:50%; background:currentColor; animation:pulse 1.4s infinite; }
@keyframes pulse { 50% { opacity:.25; } }
button { font:inherit; color:inherit; }
.unmute { position:absolute; top:14px; right:14px; display:flex; align-items:center; gap:8px;
  border:0; border-radius:999px; padding:8px 14px; background:rgba(0,0,0,.72); color:#fff;
  cursor:pointer; }
.bigplay { position:absolute; inset:0; display:flex; align-items:center; justify-content:center;
  background:rgba(0,0,0,.35); }
.round { width:72px; height:72px; border-radius:50%; border:0; background:var(--accent);
  color:var(--on-accent); display:flex; align-items:center; justify-content:center; cursor:pointer; }
.round .icon { width:34px; height:34px; }
.controls { position:absolute; left:0; right:0; bottom:0; display:flex; align-items:center; gap:6px;
  padding:28px 10px 10px; background:linear-gradient(transparent, rgba(0,0,0,.75)); }
.ctl { width:40px; height:40px; border:0; border-radius:10px; background:transparent; color:#fff;
  display:flex; align-items:center; justify-content:center; cursor:pointer; }
.ctl:hover { background:rgba(255,255,255,.14); }
button:focus-visible, .volume:focus-visible, .buy:focus-visible { outline:3px solid #fff;
  outline-offset:2px; }
.volume { width:96px; accent-color:var(--accent); }
.spacer { flex:1; }
.overlay { position:absolute; inset:0; display:flex; align-items:center; justify-content:center;
  background:radial-gradient(circle at 30% 20%, #2a3147 0%, #0d0f14 70%); }
.overlay-card { text-align:center; padding:24px; max-width:420px; }
.overlay-title { margin:.2em 0; font-size:22px; font-weight:700; }
.overlay-card p { margin:0; color:var(--muted); }
.overlay-card .overlay-title { color:var(--text); }
.spinner { width:34px; height:34px; margin:0 auto 12px; border-radius:50%;
  border:3px solid rgba(255,255,255,.2); border-top-color:#fff; animation:spin 1s linear infinite; }
@keyframes spin { to { transform:rotate(360deg); } }
.info { display:flex; align-items:baseline; justify-content:space-between; gap:12px; padding:0 4px; }
.info h1 { margin:0; font-size:20px; line-height:1.3; }
.info-status { margin:0; color:var(--muted); font-size:14px; white-space:nowrap; }
.shelf { background:var(--panel); border:1px solid var(--line); border-radius:var(--radius);
  padding:14px; overflow:auto; min-height:0; }
.shelf-head { display:flex; align-items:center; justify-content:space-between; margin-bottom:10px; }
.shelf-head h2 { display:flex; align-items:center; gap:8px; font-size:15px; margin:0; }
.shelf-head .icon { width:18px; height:18px; color:var(--muted); }
.count { color:var(--muted); font-size:13px; }
.products { list-style:none; margin:0; padding:0; display:grid; gap:10px; }
.product { display:grid; grid-template-columns:84px 1fr; gap:12px; padding:10px;
  border:1px solid var(--line); border-radius:12px; background:#1a1f2b; animation:in .35s ease; }
@keyframes in { from { opacity:0; transform:translateY(6px); } }
.product img, .product .ph { width:84px; height:84px; border-radius:10px; object-fit:cover;
  background:#262d3d; }
.product h3 { margin:0 0 4px; font-size:14px; line-height:1.3; }
.price { font-weight:700; font-size:15px; }
.stock { font-size:12px; color:var(--ok); margin-left:8px; }
.stock.out { color:var(--muted); }
.buy { display:inline-block; margin-top:8px; padding:8px 16px; border-radius:999px;
  background:var(--accent); color:var(--on-accent); text-decoration:none; font-weight:600; font-size:13px; }
.buy[aria-disabled="true"] { background:#3a4152; color:var(--text); pointer-events:none; }
.empty { color:var(--muted); font-size:13px; margin:0; }
@media (max-width: 820px) {
  .cb { grid-template-columns:1fr; height:auto; min-height:100vh; padding:0 0 16px; gap:12px;
    align-items:start; align-content:start; }
  .player { gap:10px; }
  .stage { border-radius:0; max-height:none; }
  .info { padding:0 14px; }
  .info h1 { font-size:17px; }
  .shelf { margin:0 12px; overflow:visible; }
}
@media (prefers-reduced-motion: reduce) { .dot, .spinner, .product { animation:none; } }
`;

export const EMBED_JS = `(function () {
  'use strict';
  var root = document.querySelector('.cb');
  var id = root.getAttribute('data-destination');
  var startMuted = root.getAttribute('data-muted') === '1';
  var autoplay = root.getAttribute('data-autoplay') === '1';
  var $ = function (x) { return document.getElementById(x); };
  var video = $('video'), stage = $('stage'), overlay = $('overlay'), overlayText = $('overlay-text');
  var spinner = $('spinner'), badge = $('badge'), unmute = $('unmute'), list = $('products');
  var empty = $('empty'), count = $('count'), controls = $('controls'), playBtn = $('play');
  var muteBtn = $('mute'), volume = $('volume'), fsBtn = $('fullscreen'), bigplay = $('bigplay');
  var infoStatus = $('info-status');
  var hls = null;
  var playing = null;
  var wantPlay = autoplay;

  // The theme colour (?color=rrggbb), and a text colour that reads on it.
  var color = root.getAttribute('data-color');
  if (color) {
    var n = parseInt(color, 16), r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    var lum = function (c) { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    var L = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
    document.documentElement.style.setProperty('--accent', '#' + color);
    document.documentElement.style.setProperty('--on-accent', L > 0.179 ? '#111' : '#fff');
  }

  function setIcon(button, name, label) {
    button.querySelector('use').setAttribute('href', '/embed/assets/icons.svg#' + name);
    button.setAttribute('aria-label', label);
  }

  function money(price, currency) {
    if (price == null) return '';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' })
        .format(Number(price));
    } catch (e) { return price + (currency ? ' ' + currency : ''); }
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  /** One product's card: image, title, price, stock and the buy link. */
  function productCard(p) {
    var li = el('li', 'product');
    li.setAttribute('data-product-id', p.id);
    var ph = function () { var d = el('div', 'ph'); d.setAttribute('aria-hidden', 'true'); return d; };
    if (p.imageUrl) {
      var img = el('img'); img.alt = p.title; img.loading = 'lazy';
      img.onerror = function () { img.replaceWith(ph()); };
      img.src = p.imageUrl; li.appendChild(img);
    } else li.appendChild(ph());
    var body = el('div');
    body.appendChild(el('h3', null, p.title));
    var line = el('div');
    line.appendChild(el('span', 'price', money(p.price, p.currency)));
    var stock = p.available ? (p.stock != null ? p.stock + ' in stock' : 'In stock') : 'Sold out';
    line.appendChild(el('span', 'stock' + (p.available ? '' : ' out'), stock));
    body.appendChild(line);
    var buy = el('a', 'buy', p.available ? 'Buy now' : 'Sold out');
    if (p.buyUrl && p.available) {
      buy.href = p.buyUrl; buy.target = '_blank'; buy.rel = 'noopener';
      buy.setAttribute('aria-label', 'Buy now: ' + p.title + ' (opens the store)');
    } else buy.setAttribute('aria-disabled', 'true');
    body.appendChild(buy);
    li.appendChild(body);
    return li;
  }

  /** The products shown beside the video: the one place the shelf is drawn. */
  function renderProducts(products) {
    list.textContent = '';
    empty.hidden = products.length > 0;
    count.textContent = products.length ? products.length + (products.length > 1 ? ' items' : ' item') : '';
    products.forEach(function (p) { list.appendChild(productCard(p)); });
  }

  function syncControls() {
    var paused = video.paused;
    setIcon(playBtn, paused ? 'play' : 'pause', paused ? 'Play' : 'Pause');
    var silent = video.muted || video.volume === 0;
    setIcon(muteBtn, silent ? 'muted' : 'volume', silent ? 'Unmute' : 'Mute');
    volume.value = String(video.muted ? 0 : video.volume);
    volume.setAttribute('aria-valuetext', Math.round((video.muted ? 0 : video.volume) * 100) + '%');
    var full = document.fullscreenElement === stage;
    setIcon(fsBtn, full ? 'exit-fullscreen' : 'fullscreen', full ? 'Exit full screen' : 'Full screen');
    bigplay.hidden = !(playing && paused);
    unmute.hidden = !(playing && !paused && video.muted);
  }

  function tryPlay() {
    var p = video.play();
    if (p && p.catch) p.catch(function () {
      // Sound before a gesture is refused: play muted, and offer to unmute.
      if (!video.muted) { video.muted = true; video.play().catch(function () { syncControls(); }); }
      syncControls();
    });
  }

  function stopVideo() {
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute('src');
    playing = null;
  }

  function startVideo(url) {
    if (playing === url) return;
    stopVideo();
    playing = url;
    video.muted = startMuted;
    if (window.Hls && window.Hls.isSupported()) {
      // Pins come from the state and the playhead's date (timed-pins), not from hls.js's
      // metadata cues, whose text track loads a data: URL the CSP does not allow.
      hls = new window.Hls({
        liveSyncDurationCount: 2,
        lowLatencyMode: false,
        enableDateRangeMetadataCues: false,
        enableID3MetadataCues: false,
        enableEmsgMetadataCues: false,
      });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (data.fatal) { var u = playing; stopVideo(); setTimeout(function () { if (u) startVideo(u); }, 1500); }
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else {
      video.src = url; // Safari plays HLS natively
    }
    if (wantPlay) tryPlay();
    syncControls();
  }

  function togglePlay() {
    if (!playing) return;
    if (video.paused) { wantPlay = true; tryPlay(); } else { wantPlay = false; video.pause(); }
  }
  function toggleMute() {
    video.muted = !video.muted;
    if (!video.muted && video.volume === 0) video.volume = 1;
  }
  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (stage.requestFullscreen) stage.requestFullscreen().catch(function () {});
  }

  var STATUS_TEXT = { live: 'Live now', starting: 'Starting soon', offline: 'Offline' };
  // Pins follow the playhead (timed-pins.ts), not the moment the state arrives.
  var current = null;
  var shown = null;
  function showAtPlayhead() {
    if (!current) return;
    var pins = window.CastbridgePins;
    var playhead = pins.playheadOf(video, hls);
    var visible = pins.visibleProducts(current.products || [], current.pins || [], playhead);
    var key = JSON.stringify(visible);
    if (key !== shown) {
      shown = key;
      // The playhead the shelf was drawn for (tests read it).
      root.setAttribute('data-playhead', playhead === null ? '' : String(playhead));
      renderProducts(visible);
    }
  }
  video.addEventListener('timeupdate', showAtPlayhead);

  function render(state) {
    document.title = state.title + (state.status === 'live' ? ' · Live' : '');
    current = state;
    showAtPlayhead();
    var live = state.status === 'live';
    badge.hidden = !live;
    controls.hidden = !live;
    overlay.hidden = live;
    spinner.hidden = state.status !== 'starting';
    infoStatus.textContent = STATUS_TEXT[state.status] || '';
    overlayText.textContent = state.status === 'starting'
      ? 'The show is about to start…'
      : 'We’re offline right now. Come back when the show starts.';
    root.setAttribute('data-status', state.status);
    if (live && state.hlsUrl) startVideo(state.hlsUrl); else stopVideo();
    syncControls();
  }

  ['play', 'pause', 'volumechange', 'playing'].forEach(function (e) { video.addEventListener(e, syncControls); });
  document.addEventListener('fullscreenchange', syncControls);
  playBtn.addEventListener('click', togglePlay);
  $('bigplay-button').addEventListener('click', togglePlay);
  muteBtn.addEventListener('click', toggleMute);
  fsBtn.addEventListener('click', toggleFullscreen);
  volume.addEventListener('input', function () {
    video.volume = Number(volume.value);
    video.muted = video.volume === 0;
  });
  unmute.addEventListener('click', function () { video.muted = false; if (video.volume === 0) video.volume = 1; tryPlay(); });
  video.addEventListener('click', togglePlay);
  // Keys while the player has focus: space or k play/pause, m mute, f full screen.
  stage.addEventListener('keydown', function (e) {
    if (e.target !== stage && e.target !== video) return;
    var k = e.key.toLowerCase();
    if (k === ' ' || k === 'k') { e.preventDefault(); togglePlay(); }
    else if (k === 'm') { e.preventDefault(); toggleMute(); }
    else if (k === 'f') { e.preventDefault(); toggleFullscreen(); }
  });

  var source = new EventSource('/embed/' + encodeURIComponent(id) + '/events');
  source.addEventListener('state', function (e) { render(JSON.parse(e.data)); });
})();
`;
