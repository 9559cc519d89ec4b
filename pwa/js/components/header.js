// The top of every page: which account (and PAPER/LIVE) everything acts on, its
// cash / equity / buying power updated live, and whether what you see is live.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { useStore, activeAccount } from '../store.js';
import { ws } from '../session.js';
import * as fmt from '../format.js';
import { EnvBadge, LiveValue } from './ui.js';
import { AccountSwitcher } from './switcher.js';
import { MarketClockBadge } from './market.js';

export function LiveBanner() {
  const acc = useStore(activeAccount);
  if (acc?.environment !== 'LIVE') return null;
  return html`<div class="live-banner" role="note" data-testid="live-banner">
    <span aria-hidden="true">●</span> LIVE account — real money</div>`;
}

/** True when the figures on screen may not be current. */
export function useIsStale() {
  const s = useStore((st) => `${st.fromCache}|${st.online}|${st.conn}|${st.phase}|${st.serverStale}`);
  const [fromCache, online, conn, phase, serverStale] = s.split('|');
  return phase === 'ready' && (fromCache === 'true' || online === 'false' || conn === 'reconnecting' || conn === 'unauthorized' || serverStale === 'true');
}

export function AccountHeader() {
  const acc = useStore(activeAccount);
  const entry = useStore((s) => (s.activeId ? s.snapshots[s.activeId] : null));
  const refused = useStore((s) => !!s.keysRefused[s.activeId]);
  const stale = useIsStale() || refused;
  const btn = useRef(null);
  const [open, setOpen] = useState(false);
  const snap = entry?.snapshot;
  const cur = snap?.currency || 'USD';
  const dayTone = fmt.tone(snap?.dayChange);

  return html`<header class=${`acct-header ${acc?.environment === 'LIVE' ? 'is-live' : 'is-paper'}`} data-testid="active-account"
      data-account-id=${acc?.id || ''} data-env=${acc?.environment || ''}>
    <button ref=${btn} type="button" class="switcher-btn" data-testid="account-switcher" aria-haspopup="dialog"
        aria-expanded=${open} onClick=${() => setOpen(true)}>
      <span class="switcher-label">Account</span>
      <span class="switcher-name" data-testid="account-nickname">${acc ? acc.nickname : 'No account yet'}</span>
      ${acc && html`<${EnvBadge} env=${acc.environment} size="badge-lg" />`}
      <span class="chev" aria-hidden="true">▾</span>
    </button>
    ${acc && html`<dl class="figures" aria-live="off">
      <div class="figure">
        <dt>Cash</dt>
        <dd>${snap ? html`<${LiveValue} testid="cash" value=${snap.cash} text=${fmt.money(snap.cash, { currency: cur })} stale=${stale} />` : html`<span class="skeleton" data-testid="cash">—</span>`}</dd>
      </div>
      <div class="figure">
        <dt>Equity</dt>
        <dd>${snap ? html`<${LiveValue} testid="equity" value=${snap.equity} text=${fmt.money(snap.equity, { currency: cur })} stale=${stale} />` : html`<span class="skeleton" data-testid="equity">—</span>`}
          ${snap && html`<span class=${`day-change tone-${dayTone}`} data-testid="day-change" data-value=${snap.dayChange}>
            <span class="day-label">Today</span> ${fmt.money(snap.dayChange, { currency: cur, signed: true })} (${fmt.dayChangePercent(snap.dayChangePercent)})</span>`}
        </dd>
      </div>
      <div class="figure">
        <dt>Buying power</dt>
        <dd>${snap ? html`<${LiveValue} testid="buying-power" value=${snap.buyingPower} text=${fmt.money(snap.buyingPower, { currency: cur })} stale=${stale} />` : html`<span class="skeleton" data-testid="buying-power">—</span>`}</dd>
      </div>
    </dl>`}
    <${MarketClockBadge} />
    ${open && html`<${AccountSwitcher} anchor=${btn} onClose=${() => setOpen(false)} />`}
  </header>`;
}

export function StaleIndicator() {
  const stale = useIsStale();
  const s = useStore((st) => st);
  const entry = s.activeId ? s.snapshots[s.activeId] : null;
  const [, tick] = useState(0);
  useEffect(() => {
    if (!stale) return undefined;
    const t = setInterval(() => tick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, [stale]);
  if (!stale) return null;
  const why = !s.online ? 'Offline' : s.fromCache ? 'Connecting' : s.conn === 'unauthorized' ? 'Session check' : s.serverStale ? 'Server unavailable' : 'Reconnecting';
  return html`<div class="stale" role="status" data-testid="stale-indicator" data-conn=${s.conn}>
    <span class="stale-dot" aria-hidden="true"></span>
    <span>${why}… figures are not live${entry?.at ? ` (last update ${fmt.ago(entry.at)})` : ''}.</span>
    ${s.online && !s.fromCache && html`<button type="button" class="link-btn" data-testid="reconnect-now" onClick=${() => ws.retryNow()}>Retry now</button>`}
  </div>`;
}

/** The broker refuses the shown account's keys: said once, here, with the way out (the
 * figures above are marked stale; lists do not repeat the sentence). */
export function KeysRefusedBanner() {
  const acc = useStore(activeAccount);
  const refused = useStore((s) => !!s.keysRefused[s.activeId]);
  if (!acc || !refused) return null;
  return html`<div class="keys-refused" role="alert" data-testid="keys-refused">
    <span><strong>The keys of ${acc.nickname} stopped working</strong>: Alpaca refused them, so the figures shown are not live and trading is off.</span>
    <a class="btn btn-small btn-primary" href=${`#/accounts?replace=${acc.id}`} data-testid="keys-refused-replace">Replace keys</a>
  </div>`;
}

export function OfflineNotice() {
  const online = useStore((s) => s.online);
  if (online) return null;
  return html`<div class="offline" role="alert" data-testid="offline-notice">
    You are offline. Showing the last known state; trading is unavailable until you reconnect.</div>`;
}
