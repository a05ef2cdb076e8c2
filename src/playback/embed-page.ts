/**
 * The brand-site player: one HTML page (no inline script, so a strict CSP holds), its
 * stylesheet and its script. hls.js is served by Castbridge from node_modules, not a CDN.
 */

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

export function embedHtml(destinationId: string, title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · Live</title>
<link rel="stylesheet" href="/embed/assets/player.css">
</head>
<body>
<main class="cb" data-destination="${escapeHtml(destinationId)}">
  <section class="stage">
    <video id="video" playsinline muted autoplay></video>
    <div class="badge" id="badge" hidden><span class="dot"></span>LIVE</div>
    <button class="unmute" id="unmute" type="button" hidden>🔊 Tap to unmute</button>
    <div class="overlay" id="overlay">
      <div class="overlay-card">
        <div class="spinner" id="spinner" hidden></div>
        <h1 id="overlay-title">${t}</h1>
        <p id="overlay-text">We’re offline right now. Come back when the show starts.</p>
      </div>
    </div>
  </section>
  <aside class="shelf">
    <header class="shelf-head">
      <h2>Featured in this show</h2>
      <span class="count" id="count"></span>
    </header>
    <ul class="products" id="products"></ul>
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
:root { color-scheme: dark; --bg:#0d0f14; --panel:#151923; --line:#252b38; --text:#f3f5f9;
  --muted:#98a2b3; --accent:#ff3b5c; --ok:#2fd07a; --radius:14px;
  font-family: Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
html, body { margin:0; height:100%; background:var(--bg); color:var(--text); }
.cb { display:grid; grid-template-columns: minmax(0, 1fr) 340px; gap:16px; padding:16px;
  height:100%; }
@media (max-width: 820px) { .cb { grid-template-columns: 1fr; height:auto; } }
.stage { position:relative; background:#000; border-radius:var(--radius); overflow:hidden;
  aspect-ratio:16/9; align-self:start; box-shadow:0 10px 40px rgba(0,0,0,.45); }
video { width:100%; height:100%; display:block; object-fit:contain; background:#000; }
.badge { position:absolute; top:14px; left:14px; display:flex; align-items:center; gap:8px;
  background:var(--accent); color:#fff; font-weight:700; font-size:12px; letter-spacing:.08em;
  padding:6px 10px; border-radius:999px; }
.dot { width:8px; height:8px; border-radius:50%; background:#fff; animation:pulse 1.4s infinite; }
@keyframes pulse { 50% { opacity:.25; } }
.unmute { position:absolute; bottom:14px; left:14px; border:0; border-radius:999px;
  padding:8px 14px; background:rgba(0,0,0,.65); color:#fff; font:inherit; cursor:pointer; }
.overlay { position:absolute; inset:0; display:flex; align-items:center; justify-content:center;
  background:radial-gradient(circle at 30% 20%, #2a3147 0%, #0d0f14 70%); }
.overlay[hidden] { display:none; }
.overlay-card { text-align:center; padding:24px; max-width:420px; }
.overlay-card h1 { margin:.2em 0; font-size:22px; }
.overlay-card p { margin:0; color:var(--muted); }
.spinner { width:34px; height:34px; margin:0 auto 12px; border-radius:50%;
  border:3px solid rgba(255,255,255,.2); border-top-color:#fff; animation:spin 1s linear infinite; }
@keyframes spin { to { transform:rotate(360deg); } }
.shelf { background:var(--panel); border:1px solid var(--line); border-radius:var(--radius);
  padding:14px; overflow:auto; }
.shelf-head { display:flex; align-items:baseline; justify-content:space-between; }
.shelf-head h2 { font-size:15px; margin:0 0 10px; }
.count { color:var(--muted); font-size:13px; }
.products { list-style:none; margin:0; padding:0; display:grid; gap:10px; }
.product { display:grid; grid-template-columns:72px 1fr; gap:12px; padding:10px;
  border:1px solid var(--line); border-radius:12px; background:#1a1f2b; animation:in .35s ease; }
@keyframes in { from { opacity:0; transform:translateY(6px); } }
.product img, .product .ph { width:72px; height:72px; border-radius:10px; object-fit:cover;
  background:#262d3d; }
.product h3 { margin:0 0 4px; font-size:14px; line-height:1.3; }
.price { font-weight:700; }
.stock { font-size:12px; color:var(--ok); margin-left:6px; }
.stock.out { color:var(--muted); }
.buy { display:inline-block; margin-top:8px; padding:7px 14px; border-radius:999px;
  background:var(--accent); color:#fff; text-decoration:none; font-weight:600; font-size:13px; }
.buy[aria-disabled="true"] { background:#3a4152; pointer-events:none; }
.empty { color:var(--muted); font-size:13px; }
`;

export const EMBED_JS = `(function () {
  'use strict';
  var root = document.querySelector('.cb');
  var id = root.getAttribute('data-destination');
  var video = document.getElementById('video');
  var overlay = document.getElementById('overlay');
  var overlayText = document.getElementById('overlay-text');
  var spinner = document.getElementById('spinner');
  var badge = document.getElementById('badge');
  var unmute = document.getElementById('unmute');
  var list = document.getElementById('products');
  var empty = document.getElementById('empty');
  var count = document.getElementById('count');
  var hls = null;
  var playing = null;

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

  function renderProducts(products) {
    list.textContent = '';
    empty.hidden = products.length > 0;
    count.textContent = products.length ? products.length + (products.length > 1 ? ' items' : ' item') : '';
    products.forEach(function (p) {
      var li = el('li', 'product');
      li.setAttribute('data-product-id', p.id);
      if (p.imageUrl) {
        var img = el('img'); img.alt = ''; img.loading = 'lazy';
        img.onerror = function () { img.replaceWith(el('div', 'ph')); };
        img.src = p.imageUrl; li.appendChild(img);
      }
      else li.appendChild(el('div', 'ph'));
      var body = el('div');
      body.appendChild(el('h3', null, p.title));
      var line = el('div');
      line.appendChild(el('span', 'price', money(p.price, p.currency)));
      var stock = p.available ? (p.stock != null ? p.stock + ' in stock' : 'In stock') : 'Sold out';
      line.appendChild(el('span', 'stock' + (p.available ? '' : ' out'), stock));
      body.appendChild(line);
      var buy = el('a', 'buy', p.available ? 'Buy now' : 'Sold out');
      if (p.buyUrl && p.available) { buy.href = p.buyUrl; buy.target = '_blank'; buy.rel = 'noopener'; }
      else buy.setAttribute('aria-disabled', 'true');
      body.appendChild(buy);
      li.appendChild(body);
      list.appendChild(li);
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
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({ liveSyncDurationCount: 2, lowLatencyMode: false });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (data.fatal) { var u = playing; stopVideo(); setTimeout(function () { if (u) startVideo(u); }, 1500); }
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else {
      video.src = url; // Safari plays HLS natively
    }
    var p = video.play();
    if (p && p.catch) p.catch(function () {});
  }

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
    unmute.hidden = !live || !video.muted;
    overlay.hidden = live;
    spinner.hidden = state.status !== 'starting';
    overlayText.textContent = state.status === 'starting'
      ? 'The show is about to start…'
      : 'We’re offline right now. Come back when the show starts.';
    root.setAttribute('data-status', state.status);
    if (live && state.hlsUrl) startVideo(state.hlsUrl); else stopVideo();
  }

  unmute.addEventListener('click', function () { video.muted = false; unmute.hidden = true; video.play(); });

  var source = new EventSource('/embed/' + encodeURIComponent(id) + '/events');
  source.addEventListener('state', function (e) { render(JSON.parse(e.data)); });
})();
`;
