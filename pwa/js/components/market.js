// Market views (HIST-03, HIST-04): links to a symbol's page, the market clock in
// the header, the symbol search, the watchlist and the symbol page itself.

import { html } from '../html.js';
import { useEffect, useMemo, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, toast } from '../store.js';
import * as fmt from '../format.js';
import { ErrorText, useLoader, AccountTag } from './ui.js';
import { LineChart, PeriodPicker, SPANS, changeSummary } from './chart.js';
import { NoAccount } from './ui.js';

export function symbolHref(symbol) {
  return `#/symbol?s=${encodeURIComponent(symbol)}`;
}

export function SymbolLink({ symbol, className = 'symbol-link' }) {
  return html`<a class=${className} href=${symbolHref(symbol)} data-testid="symbol-link" data-symbol=${symbol}>${symbol}</a>`;
}

/** Text with the given symbols turned into links to their pages (chat replies). */
export function LinkedText({ text, symbols }) {
  if (!symbols.size) return text;
  const parts = text.split(/(\b[A-Z][A-Z0-9.]{0,9}\b)/);
  return parts.map((part) => (symbols.has(part) ? html`<${SymbolLink} symbol=${part} />` : part));
}

// ── market clock ───────────────────────────────────────────────────────────
const CLOCK_REFRESH_MS = 60_000;

export function useMarketClock(accountId) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), CLOCK_REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  return useLoader(async () => {
    if (!accountId) return null;
    return (await request(ops.MARKET_CLOCK, { accountId })).marketClock;
  }, [accountId, tick]);
}

function when(iso) {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const hm = { hour: 'numeric', minute: '2-digit' };
  return sameDay ? d.toLocaleTimeString(undefined, hm) : d.toLocaleString(undefined, { weekday: 'short', ...hm });
}

export function MarketClockBadge() {
  const acc = useStore(activeAccount);
  const { data } = useMarketClock(acc?.id);
  if (!acc || !data) return null;
  const text = data.isOpen
    ? `Market open · closes ${when(data.nextClose)}${data.closesEarly ? ' (early close)' : ''}`
    : `Market closed · opens ${when(data.nextOpen)}`;
  return html`<p class=${`market-clock ${data.isOpen ? 'is-open' : 'is-closed'}`} data-testid="market-clock"
      data-open=${String(data.isOpen)} role="status">
    <span class="market-dot" aria-hidden="true"></span>${text}</p>`;
}

/** For an order that rests because the market is closed: when it will start to work. */
export function ClosedMarketNotice({ order }) {
  const acc = useStore(activeAccount);
  const { data } = useMarketClock(acc?.id);
  if (!data || data.isOpen || !order || !fmt.isOpenStatus(order.status)) return null;
  return html`<p class="notice" role="note" data-testid="closed-market-notice">
    The market is closed: this order will work from the next open, ${when(data.nextOpen)}.</p>`;
}

// ── search ─────────────────────────────────────────────────────────────────
export function SymbolSearch({ account }) {
  const [query, setQuery] = useState('');
  const [found, setFound] = useState(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) { setFound(null); return undefined; }
    let gone = false;
    const t = setTimeout(async () => {
      try {
        const d = await request(ops.SEARCH_SYMBOLS, { accountId: account.id, query: q });
        if (!gone) setFound(d.symbols);
      } catch { if (!gone) setFound([]); }
    }, 200);
    return () => { gone = true; clearTimeout(t); };
  }, [query, account.id]);
  return html`<div class="search" role="search">
    <label class="sr-only" for="symbol-search">Find a symbol or company</label>
    <input id="symbol-search" type="search" class="search-input" placeholder="Search symbol or company"
      autocomplete="off" spellcheck="false" data-testid="symbol-search" value=${query} onInput=${(e) => setQuery(e.target.value)} />
    ${found && html`<ul class="search-results" data-testid="search-results" aria-label="Matching symbols">
      ${found.length === 0 && html`<li class="muted small">No symbol matches “${query.trim()}”.</li>`}
      ${found.map((s) => html`<li key=${s.symbol}><a href=${symbolHref(s.symbol)} data-testid="search-result" data-symbol=${s.symbol}>
        <span class="symbol">${s.symbol}</span> <span class="muted small">${s.name || ''}</span></a></li>`)}
    </ul>`}
  </div>`;
}

// ── watchlist ──────────────────────────────────────────────────────────────
const watchers = new Set();
function watchlistChanged() { watchers.forEach((f) => f()); }

export function useWatchlist(accountId) {
  const [rev, setRev] = useState(0);
  useEffect(() => {
    const on = () => setRev((n) => n + 1);
    watchers.add(on);
    return () => watchers.delete(on);
  }, []);
  return useLoader(async () => {
    if (!accountId) return null;
    return (await request(ops.WATCHLIST_QUERY, { accountId })).watchlist;
  }, [accountId, rev]);
}

export function WatchlistCard({ account }) {
  const { data, error } = useWatchlist(account.id);
  return html`<section class="card" aria-labelledby="watch-title" data-testid="watchlist">
    <div class="card-head"><h2 id="watch-title">Watchlist</h2></div>
    <${ErrorText} error=${error} />
    ${data && data.entries.length === 0 && html`<p class="muted small" data-testid="watchlist-empty">Nothing watched yet: open a symbol and tap Watch.</p>`}
    ${data && data.entries.length > 0 && html`<ul class="rows">
      ${data.entries.map((e) => html`<li class="row" key=${e.symbol} data-testid="watchlist-row" data-symbol=${e.symbol}>
        <div class="row-main"><${SymbolLink} symbol=${e.symbol} /><span class="muted small">${e.name || ''}</span></div>
        <div class="row-value"><span class="strong">${e.quote ? fmt.price(e.quote.askPrice) : '—'}</span></div>
      </li>`)}
    </ul>`}
  </section>`;
}

function WatchButton({ account, symbol }) {
  const { data } = useWatchlist(account.id);
  const [busy, setBusy] = useState(false);
  const watched = !!data?.entries.some((e) => e.symbol === symbol);
  const toggle = async () => {
    setBusy(true);
    try {
      await request(watched ? ops.REMOVE_FROM_WATCHLIST : ops.ADD_TO_WATCHLIST, { accountId: account.id, symbol });
      watchlistChanged();
      toast(watched ? `${symbol} removed from the watchlist` : `${symbol} added to the watchlist`, 'ok');
    } catch (e) { toast(e.message, 'error'); } finally { setBusy(false); }
  };
  return html`<button type="button" class="btn" data-testid="watch-toggle" aria-pressed=${watched} disabled=${busy || !data} onClick=${toggle}>
    ${watched ? '★ Watching' : '☆ Watch'}</button>`;
}

// ── the symbol page ────────────────────────────────────────────────────────
// Bars per period: about one session of 5-minute bars, a week of hours, a month and a year of days.
const BAR_PERIODS = { '1D': ['5Min', 78], '1W': ['1Hour', 35], '1M': ['1Day', 22], '1A': ['1Day', 252] };

export function SymbolPage({ params }) {
  const acc = useStore(activeAccount);
  const symbol = (params.get('s') || '').toUpperCase();
  const [period, setPeriod] = useState('1M');
  const [timeframe, limit] = BAR_PERIODS[period];
  const view = useLoader(async () => {
    if (!acc || !symbol) return null;
    return request(ops.SYMBOL_VIEW, { accountId: acc.id, symbol, timeframe, limit });
  }, [acc?.id, symbol, period]);
  const positions = useLoader(async () => (acc ? (await request(ops.POSITIONS, { accountId: acc.id })).positions : []), [acc?.id]);
  const orders = useLoader(async () => (acc ? (await request(ops.ORDERS, { accountId: acc.id, status: 'OPEN', limit: 100 })).orders : []), [acc?.id]);
  const series = useMemo(() => {
    const bars = view.data?.bars || [];
    return { times: bars.map((b) => Date.parse(b.at) / 1000), values: bars.map((b) => Number(b.close)) };
  }, [view.data]);
  if (!acc) return html`<${NoAccount} />`;
  const info = view.data?.symbols?.find((s) => s.symbol === symbol);
  const quote = view.data?.quote;
  const position = positions.data?.find((p) => p.symbol === symbol);
  const open = (orders.data || []).filter((o) => o.symbol === symbol);
  const summary = series.values.length
    ? `${symbol} ${changeSummary(series.values[0], series.values.at(-1), SPANS[period])}`
    : `No prices for ${symbol}`;
  const first = series.values[0], last = series.values.at(-1);
  const tone = last > first ? 'pos' : last < first ? 'neg' : 'neutral';
  const trade = (side) => `#/trade?symbol=${encodeURIComponent(symbol)}&side=${side}`;
  return html`<section class="page" aria-labelledby="symbol-title" data-testid="symbol-page" data-symbol=${symbol}>
    <div class="page-head">
      <div><h1 id="symbol-title">${symbol}</h1>
        <p class="muted small" data-testid="symbol-name">${info?.name || ''}${info?.exchange ? ` · ${info.exchange}` : ''}</p></div>
      <div class="head-actions"><${WatchButton} account=${acc} symbol=${symbol} /></div>
    </div>
    <${ErrorText} error=${view.error} />
    ${quote && html`<dl class="row-facts quote" data-testid="symbol-quote">
      <div><dt>Bid</dt><dd>${fmt.price(quote.bidPrice)}</dd></div>
      <div><dt>Ask</dt><dd data-testid="symbol-ask">${fmt.price(quote.askPrice)}</dd></div>
      <div><dt>As of</dt><dd>${fmt.time(quote.at)}</dd></div>
    </dl>`}
    <section class="card chart-card" aria-label=${`${symbol} price`}>
      <div class="card-head"><h2>Price</h2>
        <${PeriodPicker} value=${period} onChange=${setPeriod} label="Period" testid="symbol-period" /></div>
      ${view.loading && !view.data && html`<p class="muted" aria-busy="true">Loading prices…</p>`}
      ${series.values.length > 0 && html`<${LineChart} times=${series.times} values=${series.values} tone=${tone}
        summary=${summary} testid="symbol-chart" />`}
    </section>
    <div class="card-actions">
      <a class="btn btn-buy" href=${trade('BUY')} data-testid="symbol-buy">Buy ${symbol}</a>
      <a class="btn btn-sell" href=${trade('SELL')} data-testid="symbol-sell">Sell ${symbol}</a>
    </div>
    <section class="card" aria-labelledby="symbol-position-title" data-testid="symbol-position">
      <h2 id="symbol-position-title">Your position on <${AccountTag} account=${acc} /></h2>
      ${position
        ? html`<p>${fmt.qty(position.qty)} shares @ ${fmt.price(position.avgEntryPrice)} · value ${fmt.money(position.marketValue)}
            · <span class=${`tone-${fmt.tone(position.unrealizedPl)}`}>${fmt.money(position.unrealizedPl, { signed: true })}</span></p>`
        : html`<p class="muted small">None.</p>`}
      ${open.length > 0 && html`<p class="small" data-testid="symbol-open-orders">Open orders: ${open.map((o) =>
        `${fmt.SIDE[o.side]} ${o.qty ? fmt.qty(o.qty) : fmt.money(o.notional)} ${fmt.TYPE[o.type] || ''} (${fmt.statusLabel(o.status)})`).join(' · ')}</p>`}
    </section>
  </section>`;
}
