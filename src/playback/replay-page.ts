import { escapeHtml } from './embed-page';

/**
 * `/replay/<sessionId>`: the brand-site player's look (its stylesheet) for a recording,
 * with the session's products as chapters. No inline script (the same strict CSP).
 */
export function replayHtml(sessionId: string, title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · Replay</title>
<link rel="stylesheet" href="/embed/assets/player.css">
<link rel="stylesheet" href="/replay/assets/replay.css">
</head>
<body>
<main class="cb" data-session="${escapeHtml(sessionId)}">
  <section class="stage">
    <video id="video" playsinline controls muted></video>
  </section>
  <aside class="shelf">
    <header class="shelf-head"><h2>${t}</h2><span class="count">Replay</span></header>
    <ul class="products" id="products" aria-live="polite"></ul>
    <p class="empty" id="empty">Products appear here when the host shows them.</p>
    <h2 class="chapters-head" id="chapters-head">Chapters</h2>
    <ol class="chapters" id="chapters" aria-labelledby="chapters-head"></ol>
  </aside>
</main>
<script src="/embed/assets/hls.min.js"></script>
<script src="/embed/assets/timed-pins.js"></script>
<script src="/replay/assets/replay.js"></script>
</body>
</html>`;
}

export const REPLAY_CSS = `
.chapters-head { font-size:15px; margin:18px 0 8px; }
.chapters { list-style:none; margin:0; padding:0; display:grid; gap:6px; }
.chapter { width:100%; display:flex; gap:10px; align-items:center; text-align:left;
  padding:8px 10px; border:1px solid var(--line); border-radius:10px; background:#1a1f2b;
  color:var(--text); font:inherit; font-size:13px; cursor:pointer; }
.chapter:focus-visible { outline:2px solid var(--accent); outline-offset:2px; }
.chapter[aria-current="true"] { border-color:var(--accent); }
.chapter .at { color:var(--muted); font-variant-numeric:tabular-nums; min-width:44px; }
`;

export const REPLAY_JS = `(function () {
  'use strict';
  var root = document.querySelector('.cb');
  var id = root.getAttribute('data-session');
  var video = document.getElementById('video');
  var list = document.getElementById('products');
  var empty = document.getElementById('empty');
  var chapters = document.getElementById('chapters');
  var pins = window.CastbridgePins;
  var hls = null;
  var state = null;
  var shown = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function money(price, currency) {
    if (price == null) return '';
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' })
        .format(Number(price));
    } catch (e) { return price + (currency ? ' ' + currency : ''); }
  }
  function clock(s) {
    var m = Math.floor(s / 60), r = Math.floor(s % 60);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }
  function card(p) {
    var li = el('li', 'product');
    li.setAttribute('data-product-id', p.id);
    if (p.imageUrl) {
      var img = el('img'); img.alt = '';
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
    return li;
  }
  function show() {
    if (!state) return;
    var playhead = pins.playheadOf(video, hls);
    var visible = pins.visibleProducts(state.products, state.pins, playhead);
    var key = visible.map(function (p) { return p.id; }).join(',');
    if (key === shown) return;
    shown = key;
    root.setAttribute('data-playhead', playhead === null ? '' : String(playhead));
    list.textContent = '';
    visible.forEach(function (p) { list.appendChild(card(p)); });
    empty.hidden = visible.length > 0;
    Array.prototype.forEach.call(chapters.querySelectorAll('.chapter'), function (b) {
      b.setAttribute('aria-current', visible.length && visible[0].id === b.getAttribute('data-product-id') ? 'true' : 'false');
    });
  }
  function renderChapters() {
    chapters.textContent = '';
    state.chapters.forEach(function (c) {
      var p = state.products.filter(function (x) { return x.id === c.productId; })[0];
      var li = el('li');
      var b = el('button', 'chapter');
      b.type = 'button';
      b.setAttribute('data-product-id', c.productId);
      b.appendChild(el('span', 'at', clock(c.offsetSeconds)));
      b.appendChild(el('span', null, p ? p.title : 'Product'));
      b.addEventListener('click', function () {
        // A little past the pin's moment: the playhead is then inside its range.
        video.currentTime = c.offsetSeconds + 0.05;
        var v = video.play(); if (v && v.catch) v.catch(function () {});
      });
      li.appendChild(b);
      chapters.appendChild(li);
    });
  }
  function start(url) {
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({
        enableDateRangeMetadataCues: false,
        enableID3MetadataCues: false,
        enableEmsgMetadataCues: false,
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else {
      video.src = url;
    }
  }
  video.addEventListener('timeupdate', show);
  video.addEventListener('seeked', show);
  fetch('/replay/' + encodeURIComponent(id) + '/state').then(function (r) { return r.json(); })
    .then(function (s) {
      state = s;
      renderChapters();
      start(s.hlsUrl);
      show();
      setInterval(function () {
        fetch('/replay/' + encodeURIComponent(id) + '/state').then(function (r) { return r.json(); })
          .then(function (n) { state.products = n.products; shown = null; show(); })
          .catch(function () {});
      }, 15000);
    });
})();
`;
