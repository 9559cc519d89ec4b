// Service worker: makes the app installable and its shell load offline.
//
// - The shell (HTML, CSS, JS modules, icons, manifest) is precached on install;
//   install waits for cache.addAll, so a half-filled cache never activates.
// - Old caches are deleted on activate.
// - /graphql is never intercepted or cached, nor is any non-GET request:
//   account data must always come live from the server (the app keeps its own
//   clearly-stale copy for offline viewing).
// - Shell files are served network-first, falling back to the cache offline, so
//   an online user always runs one consistent, current version of the modules.
//
// - A push always shows a notification (Safari revokes subscriptions whose pushes
//   show nothing); a tap opens the page it names, on this origin only, focusing an
//   open window of the app if there is one (PUSH-01, PUSH-02).
//
// Bump CACHE_VERSION whenever the list below changes or a vendored file is upgraded.

const CACHE_VERSION = 'v7';
const CACHE = `alpaca-chat-shell-${CACHE_VERSION}`;

const SHELL = [
  './',
  './index.html',
  './manifest.webmanifest',
  './css/app.css',
  './js/app.js',
  './js/html.js',
  './js/format.js',
  './js/refusals.js',
  './js/graphql.js',
  './js/ws.js',
  './js/operations.js',
  './js/store.js',
  './js/session.js',
  './js/push.js',
  './js/components/ui.js',
  './js/components/header.js',
  './js/components/switcher.js',
  './js/components/auth.js',
  './js/components/accounts.js',
  './js/components/limits.js',
  './js/components/security.js',
  './js/components/passkeys.js',
  './js/passkeys.js',
  './js/components/admin.js',
  './js/components/notifications.js',
  './js/components/portfolio.js',
  './js/components/orders.js',
  './js/components/proposal.js',
  './js/components/proposal-page.js',
  './js/components/ticket.js',
  './js/components/ticket_rules.js',
  './js/components/ticket_fields.js',
  './js/components/ticket_review.js',
  './js/components/ticket_replace.js',
  './js/components/chat.js',
  './js/components/chart.js',
  './js/components/history.js',
  './js/components/market.js',
  './vendor/preact.module.js',
  './vendor/hooks.module.js',
  './vendor/htm.module.js',
  './vendor/uPlot.esm.js',
  './vendor/uPlot.min.css',
  './icons/icon-192.png',
  './icons/icon-512.png',
  './icons/maskable-192.png',
  './icons/maskable-512.png',
  './icons/apple-touch-icon.png',
];

const SHELL_URLS = new Set(SHELL.map((p) => new URL(p, self.registration.scope).href));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((p) => new Request(p, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('alpaca-chat-') && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

function isApi(url) {
  return url.pathname === '/graphql' || url.pathname.startsWith('/graphql/') || url.pathname === '/healthz';
}

const OFFLINE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>alpaca-chat — offline</title></head>
<body><main><h1>alpaca-chat</h1><p data-testid="offline-notice">You are offline and the app has not been saved on this device yet.
Connect to the internet and reload.</p></main></body></html>`;

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;               // POSTs (GraphQL, …) go straight to the network
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (isApi(url)) return;                         // never cache or intercept the API
  if (req.headers.get('upgrade')) return;

  const isNavigation = req.mode === 'navigate';
  const key = isNavigation ? new URL('./', self.registration.scope).href : url.origin + url.pathname;
  if (!isNavigation && !SHELL_URLS.has(key)) return; // not ours to cache

  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req, { cache: 'no-cache' });
      if (res.ok && res.type === 'basic' && !isNavigation) cache.put(key, res.clone());
      if (res.ok && res.type === 'basic' && isNavigation && url.pathname === new URL('./', self.registration.scope).pathname) cache.put(key, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(key) || (isNavigation && await cache.match(new URL('./index.html', self.registration.scope).href));
      if (hit) return hit;
      if (isNavigation) return new Response(OFFLINE_PAGE, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
      throw err;
    }
  })());
});

// ── notifications ────────────────────────────────────────────────────────────
// The server's payload: { kind, title, body, url, tag } (api/notify/messages.py).

function appUrl(raw) {
  // Only a page of this app: anything else (another origin, javascript:) opens the app's start.
  try {
    const url = new URL(raw, self.registration.scope);
    if (url.origin === self.location.origin && (url.protocol === 'https:' || url.protocol === 'http:')) return url.href;
  } catch { /* not a URL: the start page */ }
  return new URL('./', self.registration.scope).href;
}

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  const text = (value, fallback) => (typeof value === 'string' && value ? value : fallback);
  const tag = text(data.tag, '');
  event.waitUntil(self.registration.showNotification(text(data.title, 'alpaca-chat'), {
    body: text(data.body, ''),
    tag: tag || undefined,
    renotify: Boolean(tag),
    icon: new URL('./icons/icon-192.png', self.registration.scope).href,
    badge: new URL('./icons/icon-192.png', self.registration.scope).href,
    data: { url: appUrl(data.url) },
  }));
});

// Opens `raw` (validated by appUrl) in the app's open window if there is one, else in a new one.
async function openPage(raw) {
  const target = appUrl(raw);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    const shown = await open.navigate(target).catch(() => null); // null: not controlled yet
    if (shown) { await shown.focus().catch(() => {}); return; }
  }
  await self.clients.openWindow(target);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openPage(event.notification.data && event.notification.data.url));
});
