// Orders of the selected account, with cancel (after confirmation); refetched
// on OrderEvent / ResyncEvent from the accountUpdates subscription.

import { html } from '../html.js';
import { useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, toast } from '../store.js';
import * as fmt from '../format.js';
import { ConfirmDialog, ErrorText, usePullToRefresh, AccountTag } from './ui.js';
import { useAccountList } from './portfolio.js';
import { NoAccount } from './ui.js';
import { SymbolLink } from './market.js';

const FILTERS = [['OPEN', 'Open'], ['CLOSED', 'Closed'], ['ALL', 'All']];

export function OrdersPage({ scrollRef }) {
  const acc = useStore(activeAccount);
  const rev = useStore((s) => s.rev.orders);
  const online = useStore((s) => s.online);
  const [status, setStatus] = useState('OPEN');
  const [cancelling, setCancelling] = useState(null);
  const { data, error, loading, reload } = useAccountList(`orders-${status}`, acc?.id,
    () => request(ops.ORDERS, { accountId: acc.id, status, limit: 100 }).then((d) => d.orders), rev);
  const pull = usePullToRefresh(scrollRef, () => reload(true));
  if (!acc) return html`<${NoAccount} />`;

  return html`<section class="page" aria-labelledby="orders-title" data-testid="orders">
    ${pull > 0 && html`<div class="ptr" style=${{ height: `${pull}px` }} aria-hidden="true">${pull >= 60 ? 'Release to refresh' : 'Pull to refresh'}</div>`}
    <div class="page-head">
      <h1 id="orders-title">Orders</h1>
      <div class="head-actions">
        <button type="button" class="btn" data-testid="refresh" onClick=${() => reload(true)} aria-label="Refresh orders"><span aria-hidden="true">↻</span> Refresh</button>
        <a class="btn btn-primary" href="#/trade" data-testid="new-order">New order</a>
      </div>
    </div>
    <div class="tabs" role="group" aria-label="Show orders">
      ${FILTERS.map(([v, label]) => html`<button type="button" class=${`tab ${status === v ? 'is-on' : ''}`} aria-pressed=${status === v}
        data-testid=${`orders-filter-${v.toLowerCase()}`} onClick=${() => setStatus(v)}>${label}</button>`)}
    </div>
    ${data?.cachedAt && html`<p class="muted small" data-testid="list-cached">Saved ${fmt.ago(data.cachedAt)}; not live.</p>`}
    <${ErrorText} error=${error} />
    ${!data && loading && html`<p class="muted" aria-busy="true">Loading orders…</p>`}
    ${data && data.length === 0 && html`<div class="empty" data-testid="orders-empty"><p>No ${status === 'ALL' ? '' : status.toLowerCase() + ' '}orders on <${AccountTag} account=${acc} />.</p></div>`}
    ${data && data.length > 0 && html`<ul class="rows" data-testid="orders-list" aria-label=${`Orders of ${acc.nickname}`}>
      ${data.map((o) => html`<${OrderRow} key=${o.id} o=${o} canCancel=${online && fmt.isOpenStatus(o.status)} actions=${online} onCancel=${() => setCancelling(o)} />`)}
    </ul>`}
    ${cancelling && html`<${ConfirmDialog} title="Cancel order?" confirmLabel="Cancel order" cancelLabel="Keep order" onClose=${() => setCancelling(null)}
      message=${html`Cancel <strong>${describeOrder(cancelling)}</strong> on <${AccountTag} account=${acc} />?`}
      onConfirm=${async () => {
        await request(ops.CANCEL_ORDER, { accountId: acc.id, orderId: cancelling.id });
        toast('Cancel requested.', 'ok');
        reload(true);
      }} />`}
  </section>`;
}

export function describeOrder(o) {
  const amount = o.qty ? `${fmt.qty(o.qty)} ${o.symbol}` : `${fmt.money(o.notional)} of ${o.symbol}`;
  const px = o.type === 'LIMIT' ? ` limit ${fmt.price(o.limitPrice)}`
    : o.type === 'STOP' ? ` stop ${fmt.price(o.stopPrice)}`
    : o.type === 'STOP_LIMIT' ? ` stop ${fmt.price(o.stopPrice)} limit ${fmt.price(o.limitPrice)}`
    : o.type === 'TRAILING_STOP' ? ` trailing ${o.trailPercent != null ? `${fmt.qty(o.trailPercent)}%` : fmt.price(o.trailPrice)}${o.stopPrice ? `, stop now ${fmt.price(o.stopPrice)}` : ''}`
    : ' at market';
  return `${fmt.SIDE[o.side] || o.side} ${amount}${px}`;
}

/** An open order whose terms can be replaced (ORD-02): not a dollar amount, not at market. */
function canModify(o) {
  return fmt.isOpenStatus(o.status) && o.status !== 'pending_replace' && !!o.qty && o.type !== 'MARKET';
}

function ModifyLink({ o }) {
  return html`<a class="btn btn-small" href=${`#/trade?replace=${encodeURIComponent(o.id)}`} data-testid="order-modify"
    aria-label=${`Modify order: ${describeOrder(o)}`}>Modify</a>`;
}

const LEG_NAMES = { LIMIT: 'Take profit', STOP: 'Stop loss', STOP_LIMIT: 'Stop loss', TRAILING_STOP: 'Trailing stop' };

/** A bracket's, OTO's or OCO's exits, held by the broker, under their order (ORD-01). */
function Legs({ legs, actions }) {
  return html`<ul class="legs" data-testid="order-legs" aria-label="Exits of this order">
    ${legs.map((leg) => html`<li class="leg" key=${leg.id} data-testid="order-leg" data-order-id=${leg.id} data-status=${leg.status} data-type=${leg.type}>
      <span><span class="leg-name">${LEG_NAMES[leg.type] || 'Exit'}</span> ${describeOrder(leg)}</span>
      <span class=${`status status-${leg.status}`} data-testid="order-leg-status">${fmt.orderStatus(leg.status)}${fmt.sign(leg.filledQty) > 0
        ? ` @ ${fmt.price(leg.filledAvgPrice)}` : ''}</span>
      ${actions && canModify(leg) && html`<${ModifyLink} o=${leg} />`}
    </li>`)}
  </ul>`;
}

export function OrderRow({ o, canCancel, onCancel, compact = false, actions = false }) {
  const filled = fmt.sign(o.filledQty) > 0;
  return html`<li class="row order-row" data-testid="order-row" data-order-id=${o.id} data-status=${o.status}>
    <div class="row-main">
      <span class="symbol"><${SymbolLink} symbol=${o.symbol} /> <span class=${`side side-${o.side.toLowerCase()}`}>${fmt.SIDE[o.side]}</span></span>
      <span class="muted small">${describeOrder(o)} · ${o.timeInForce}</span>
    </div>
    <div class="row-value">
      <span class=${`status status-${o.status}`} data-testid="order-status">${fmt.orderStatus(o.status)}</span>
      ${filled && html`<span class="small">${fmt.qty(o.filledQty)} filled @ ${fmt.price(o.filledAvgPrice)}</span>`}
    </div>
    ${!compact && html`<div class="row-details">
      <dl class="row-facts">
        <div><dt>Submitted</dt><dd>${fmt.dateTime(o.submittedAt || o.createdAt)}</dd></div>
        ${o.filledAt && html`<div><dt>Filled</dt><dd>${fmt.dateTime(o.filledAt)}</dd></div>`}
        ${o.canceledAt && html`<div><dt>Canceled</dt><dd>${fmt.dateTime(o.canceledAt)}</dd></div>`}
      </dl>
      ${(canCancel || (actions && canModify(o))) && html`<div class="row-actions">
        ${actions && canModify(o) && html`<${ModifyLink} o=${o} />`}
        ${canCancel && html`<button type="button" class="btn btn-small btn-danger-ghost" data-testid="order-cancel"
        aria-label=${`Cancel order: ${describeOrder(o)}`} onClick=${onCancel}>Cancel</button>`}</div>`}
    </div>`}
    ${o.legs?.length > 0 && html`<${Legs} legs=${o.legs} actions=${actions && !compact} />`}
  </li>`;
}
