// Portfolio: the selected account's positions, refetched when the server says
// they changed (fills, PositionsChangedEvent, ResyncEvent).

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, loadLastKnown, saveLastKnownList } from '../store.js';
import { refreshSnapshot } from '../session.js';
import * as fmt from '../format.js';
import { ErrorText, useLoader, usePullToRefresh, AccountTag, NoAccount } from './ui.js';
import { PortfolioChart } from './history.js';
import { SymbolLink, SymbolSearch, WatchlistCard } from './market.js';

/** Load a per-account list, fall back to the device copy when offline. */
export function useAccountList(kind, accountId, load, rev) {
  const loader = useLoader(async () => {
    if (!accountId) return [];
    try {
      const items = await load();
      saveLastKnownList(kind, accountId, items);
      return items;
    } catch (e) {
      const cached = loadLastKnown()?.[kind]?.[accountId];
      // Offline, or the broker refuses the keys: the last list seen, marked as not live.
      if ((e.code === 'NETWORK' || e.keysRefused) && cached) return Object.assign([...cached.items], { cachedAt: cached.at });
      throw e;
    }
  }, [accountId, kind]);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return undefined; }
    const t = setTimeout(() => loader.reload(true), 250); // coalesce bursts of events
    return () => clearTimeout(t);
  }, [rev]);
  return loader;
}

export function PortfolioPage({ scrollRef }) {
  const acc = useStore(activeAccount);
  const rev = useStore((s) => s.rev.positions);
  const entry = useStore((s) => (s.activeId ? s.snapshots[s.activeId] : null));
  const online = useStore((s) => s.online);
  const { data, error, loading, reload } = useAccountList('positions', acc?.id,
    () => request(ops.POSITIONS, { accountId: acc.id }).then((d) => d.positions), rev);
  const refresh = () => { reload(true); refreshSnapshot().catch(() => {}); };
  const pull = usePullToRefresh(scrollRef, refresh);
  const wide = useWide();
  if (!acc) return html`<${NoAccount} />`;
  const snap = entry?.snapshot;
  const cur = snap?.currency || 'USD';

  return html`<section class="page" aria-labelledby="portfolio-title" data-testid="portfolio">
    ${pull > 0 && html`<div class="ptr" style=${{ height: `${pull}px` }} aria-hidden="true">${pull >= 60 ? 'Release to refresh' : 'Pull to refresh'}</div>`}
    <div class="page-head">
      <h1 id="portfolio-title">Portfolio</h1>
      <div class="head-actions">
        <button type="button" class="btn" data-testid="refresh" onClick=${refresh} disabled=${loading && !!data} aria-label="Refresh positions and balances">
          <span aria-hidden="true">↻</span> Refresh</button>
        <a class="btn" href="#/activity" data-testid="open-activity">Activity</a>
        <a class="btn btn-primary" href="#/trade" data-testid="open-ticket">Trade</a>
      </div>
    </div>
    <${PortfolioChart} account=${acc} key=${acc.id} />
    <${SymbolSearch} account=${acc} />
    ${snap && html`<div class="summary-row">
      <span>Portfolio value <strong data-testid="portfolio-value">${fmt.money(snap.portfolioValue, { currency: cur })}</strong></span>
      <span class="muted">Status ${fmt.statusLabel(snap.status)} · as of ${fmt.time(snap.asOf)}</span>
    </div>`}
    ${snap?.tradingBlocked && html`<div class="warning" role="alert" data-testid="trading-blocked">Trading is blocked on this account by the broker.</div>`}
    ${snap?.patternDayTrader && html`<p class="muted small">Flagged as a pattern day trader.</p>`}
    ${data?.cachedAt && html`<p class="muted small" data-testid="list-cached">Saved ${fmt.ago(data.cachedAt)}; not live.</p>`}
    <${ErrorText} error=${error} />
    ${!data && loading && html`<p class="muted" aria-busy="true">Loading positions…</p>`}
    ${data && data.length === 0 && html`<div class="empty" data-testid="positions-empty"><p>No open positions on <${AccountTag} account=${acc} />.</p>
      ${online && html`<a class="btn btn-primary" href="#/trade">Place an order</a>`}</div>`}
    ${data && data.length > 0 && html`<${PositionsTotal} positions=${data} currency=${cur} />`}
    ${data && data.length > 0 && !wide && html`<ul class="rows" data-testid="positions-list" aria-label=${`Positions of ${acc.nickname}`}>
      ${data.map((p) => html`<${PositionRow} key=${p.symbol} p=${p} currency=${cur} />`)}
    </ul>`}
    ${data && data.length > 0 && wide && html`<${PositionsTable} positions=${data} currency=${cur} label=${`Positions of ${acc.nickname}`} />`}
    <${WatchlistCard} account=${acc} key=${`w-${acc.id}`} />
  </section>`;
}

/** True on wide screens (the side-bar layout of app.css), following resizes. */
function useWide(query = '(min-width: 56rem)') {
  const [wide, setWide] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const mq = matchMedia(query);
    const on = () => setWide(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return wide;
}

/** The unrealized P/L of all positions together, summed exactly. */
function PositionsTotal({ positions, currency }) {
  const total = fmt.sum(positions.map((p) => p.unrealizedPl));
  return html`<p class="positions-total">Unrealized P/L, all positions
    <strong class=${`tone-${fmt.tone(total)}`} data-testid="positions-total-pl" data-value=${total}>${fmt.money(total, { currency, signed: true })}</strong></p>`;
}

// Desktop: one table, sortable by any column (exact decimal comparison; symbols by name).
const COLUMNS = [
  { key: 'symbol', label: 'Symbol', text: true },
  { key: 'qty', label: 'Qty' },
  { key: 'avgEntryPrice', label: 'Avg price' },
  { key: 'currentPrice', label: 'Price' },
  { key: 'marketValue', label: 'Value' },
  { key: 'changeToday', label: 'Today' },
  { key: 'unrealizedPl', label: 'Unrealized P/L' },
];

function PositionsTable({ positions, currency, label }) {
  const [sort, setSort] = useState({ key: 'marketValue', dir: -1 });
  const col = COLUMNS.find((c) => c.key === sort.key);
  const rows = [...positions].sort((a, b) => sort.dir * (col.text ? String(a[col.key]).localeCompare(String(b[col.key])) : fmt.compare(a[col.key], b[col.key])));
  const by = (key) => setSort((s) => ({ key, dir: s.key === key ? -s.dir : key === 'symbol' ? 1 : -1 }));
  return html`<div class="table-wrap"><table class="positions-table" data-testid="positions-table" aria-label=${label}>
    <thead><tr>${COLUMNS.map((c) => html`<th scope="col" aria-sort=${sort.key === c.key ? (sort.dir > 0 ? 'ascending' : 'descending') : undefined}>
      <button type="button" class="sort-btn" data-testid=${`sort-${c.key}`} onClick=${() => by(c.key)}>${c.label}
        <span aria-hidden="true">${sort.key === c.key ? (sort.dir > 0 ? '▲' : '▼') : ''}</span></button></th>`)}<th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${rows.map((p) => {
      const short = (p.side || '').toLowerCase() === 'short';
      return html`<tr key=${p.symbol} data-testid="position-row" data-symbol=${p.symbol}>
        <td><${SymbolLink} symbol=${p.symbol} className="symbol symbol-link" /></td>
        <td>${fmt.qty(p.qty)}${short ? ' short' : ''}</td>
        <td>${fmt.price(p.avgEntryPrice, { currency })}</td>
        <td>${fmt.price(p.currentPrice, { currency })}</td>
        <td data-testid="position-market-value">${fmt.money(p.marketValue, { currency })}</td>
        <td class=${`tone-${fmt.tone(p.changeToday)}`}>${fmt.fractionPercent(p.changeToday)}</td>
        <td class=${`tone-${fmt.tone(p.unrealizedPl)}`} data-testid="position-pl" data-value=${p.unrealizedPl ?? ''}>
          ${fmt.money(p.unrealizedPl, { currency, signed: true })} (${fmt.fractionPercent(p.unrealizedPlpc)})</td>
        <td><a class="btn btn-small" href=${`#/trade?symbol=${encodeURIComponent(p.symbol)}&side=${short ? 'BUY' : 'SELL'}`}
          data-testid="position-trade" aria-label=${`Trade ${p.symbol}`}>Trade</a></td>
      </tr>`;
    })}</tbody>
  </table></div>`;
}

function PositionRow({ p, currency }) {
  const plTone = fmt.tone(p.unrealizedPl);
  const dayTone = fmt.tone(p.changeToday);
  const short = (p.side || '').toLowerCase() === 'short';
  return html`<li class="row position-row" data-testid="position-row" data-symbol=${p.symbol}>
    <div class="row-main">
      <${SymbolLink} symbol=${p.symbol} className="symbol symbol-link" />
      <span class="muted small">${fmt.qty(p.qty)} ${short ? 'short' : 'sh'} @ ${fmt.price(p.avgEntryPrice, { currency })}</span>
    </div>
    <div class="row-value">
      <span class="strong" data-testid="position-market-value">${fmt.money(p.marketValue, { currency })}</span>
      <span class=${`small tone-${plTone}`} data-testid="position-pl" data-value=${p.unrealizedPl ?? ''}>
        <span class="sr-only">Unrealized P/L </span>${fmt.money(p.unrealizedPl, { currency, signed: true })} (${fmt.fractionPercent(p.unrealizedPlpc)})</span>
    </div>
    <div class="row-details">
      <dl class="row-facts">
        <div><dt>Price</dt><dd>${fmt.price(p.currentPrice, { currency })}</dd></div>
        <div><dt>Today</dt><dd class=${`tone-${dayTone}`}>${fmt.fractionPercent(p.changeToday)}</dd></div>
        <div><dt>Cost basis</dt><dd>${fmt.money(p.costBasis, { currency })}</dd></div>
      </dl>
      <div class="row-actions"><a class="btn btn-small" href=${`#/trade?symbol=${encodeURIComponent(p.symbol)}&side=${short ? 'BUY' : 'SELL'}`}
        data-testid="position-trade" aria-label=${`Trade ${p.symbol}`}>Trade</a></div>
    </div>
  </li>`;
}
