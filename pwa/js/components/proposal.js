// An order proposal (from the chat, or from placeOrder on a LIVE account) with
// Confirm / Dismiss. Confirming is the explicit step before a live order. The chat's
// "cancel all" and "sell everything" are proposals too (kind CANCEL_ALL / CLOSE_ALL):
// they list the orders or positions they cover, and confirming answers no order.
// A new proposal shows what the account's limits leave after it (headroom).

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import { withPasskey } from '../passkeys.js';
import * as ops from '../operations.js';
import { useStore, toast } from '../store.js';
import * as fmt from '../format.js';
import { EnvBadge, ErrorText } from './ui.js';

export function ProposalCard({ proposal, onResolved }) {
  const accounts = useStore((s) => s.accounts);
  const online = useStore((s) => s.online);
  const [state, setState] = useState({ status: proposal.status, order: null, busy: null, error: null });
  const [now, setNow] = useState(Date.now());
  const expiresAt = Date.parse(proposal.expiresAt);
  const expired = state.status === 'PENDING' && Number.isFinite(expiresAt) && now >= expiresAt;
  useEffect(() => {
    if (state.status !== 'PENDING' || !Number.isFinite(expiresAt)) return undefined;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [state.status]);

  const account = accounts.find((a) => a.id === proposal.accountId);
  const live = proposal.environment === 'LIVE';
  const kind = proposal.kind || 'ORDER';
  const bulk = BULK[kind];
  const count = proposal.targets?.length ?? 0;
  const status = expired ? 'EXPIRED' : state.status;
  const title = kind === 'REPLACE' ? 'Change of an order' : 'Order proposal';

  const confirm = async () => {
    setState((s) => ({ ...s, busy: 'confirm', error: null }));
    try {
      // a live order of a person with a passkey: Face ID / fingerprint on PASSKEY_REQUIRED (KEY-02)
      const confirmed = await withPasskey((passkey) => request(ops.CONFIRM_ORDER, { proposalId: proposal.id, passkey }));
      const order = confirmed.confirmOrder;
      setState({ status: 'CONFIRMED', order, busy: null, error: null });
      toast(order ? `Order sent: ${fmt.statusLabel(order.status)}.` : `${bulk.done(count)}.`, 'ok');
      onResolved?.('CONFIRMED', order);
    } catch (e) { setState((s) => ({ ...s, busy: null, error: e })); }
  };
  const dismiss = async () => {
    setState((s) => ({ ...s, busy: 'dismiss', error: null }));
    try {
      await request(ops.DISMISS_PROPOSAL, { proposalId: proposal.id });
      setState({ status: 'DISMISSED', order: null, busy: null, error: null });
      onResolved?.('DISMISSED');
    } catch (e) { setState((s) => ({ ...s, busy: null, error: e })); }
  };

  const secsLeft = Number.isFinite(expiresAt) ? Math.max(0, Math.round((expiresAt - now) / 1000)) : null;
  return html`<article class=${`proposal ${live ? 'is-live' : 'is-paper'}`} data-testid="proposal-card"
      data-proposal-id=${proposal.id} data-status=${status} data-env=${proposal.environment} data-kind=${kind}
      aria-label=${bulk ? bulk.title : title}>
    <div class="proposal-head">
      <span class="proposal-kind">${bulk ? bulk.title : title}</span>
      <${EnvBadge} env=${proposal.environment} />
    </div>
    <p class="proposal-summary" data-testid="proposal-summary">${proposal.summary}</p>
    ${proposal.reason && status === 'PENDING' && html`<p class="notice" role="note" data-testid="proposal-reason">${proposal.reason}.</p>`}
    <dl class="kv">
      <div><dt>Account</dt><dd data-testid="proposal-account">${account ? account.nickname : 'Unknown account'} (${proposal.environment})</dd></div>
      ${bulk ? html`<div><dt>${bulk.what}</dt><dd data-testid="proposal-targets">${kind === 'CLOSE_ALL' ? proposal.targets.join(', ') : count}</dd></div>`
      : html`<div><dt>Estimated ${proposal.side === 'SELL' ? 'proceeds' : 'cost'}</dt><dd data-testid="proposal-cost">${fmt.money(proposal.estimatedCost)}</dd></div>
      <div><dt>Type</dt><dd>${fmt.TYPE[proposal.type] || proposal.type} · ${proposal.timeInForce}</dd></div>
      ${proposal.takeProfitLimitPrice && html`<div><dt>Take profit</dt><dd data-testid="proposal-take-profit">limit ${fmt.price(proposal.takeProfitLimitPrice)}</dd></div>`}
      ${proposal.stopLossStopPrice && html`<div><dt>Stop loss</dt><dd data-testid="proposal-stop-loss">stop ${fmt.price(proposal.stopLossStopPrice)}${proposal.stopLossLimitPrice ? html`, limit ${fmt.price(proposal.stopLossLimitPrice)}` : ''}</dd></div>`}
      ${(proposal.trailPrice || proposal.trailPercent) && html`<div><dt>Trail</dt><dd data-testid="proposal-trail">${proposal.trailPercent ? `${proposal.trailPercent} %` : fmt.price(proposal.trailPrice)}</dd></div>`}`}
    </dl>
    ${proposal.headroom?.length > 0 && status === 'PENDING' && html`<ul class="headroom" data-testid="proposal-headroom" aria-label="What your limits leave">
      ${proposal.headroom.map((line) => html`<li>${line}</li>`)}</ul>`}
    ${status === 'PENDING' && html`
      ${live && html`<p class="live-note"><strong>Real money.</strong> ${bulk ? bulk.live : 'Confirming sends this order to your live Alpaca account.'}</p>`}
      <div class="proposal-actions">
        <button type="button" class="btn" data-testid="proposal-dismiss" disabled=${!!state.busy || !online} onClick=${dismiss}>Dismiss</button>
        <button type="button" class=${`btn ${live ? 'btn-danger' : 'btn-primary'}`} data-testid="proposal-confirm"
          disabled=${!!state.busy || !online} onClick=${confirm}>
          ${state.busy === 'confirm' ? 'Sending…' : bulk ? bulk.confirm(count, live) : live ? 'Confirm LIVE order' : 'Confirm order'}</button>
      </div>
      ${secsLeft !== null && html`<p class="muted small" data-testid="proposal-expiry">Expires in ${untilText(secsLeft)}.</p>`}`}
    ${status !== 'PENDING' && html`<p class=${`proposal-status status-${status}`} data-testid="proposal-status" role="status">
      ${status === 'CONFIRMED' ? (bulk ? `Confirmed — ${bulk.done(count).toLowerCase()}.` : `Confirmed${state.order ? ` — ${outcome(state.order)}` : proposal.orderId ? ' — order sent' : ''}.`)
        : status === 'DISMISSED' ? 'Dismissed.' : status === 'EXPIRED' ? 'Expired. Ask again for a fresh quote.' : fmt.statusLabel(status)}</p>`}
    <${ErrorText} error=${state.error} />
  </article>`;
}

/** "order filled: 1 AAPL @ $190.12", as the paper ticket's result says it (bug 12). */
function outcome(order) {
  const words = `order ${fmt.statusLabel(order.status)}`;
  if (fmt.sign(order.filledQty) <= 0) return words;
  return `${words}: ${fmt.qty(order.filledQty)} ${order.symbol} @ ${fmt.price(order.filledAvgPrice)}`;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const BULK = {
  CANCEL_ALL: {
    title: 'Cancel all orders', what: 'Open orders',
    live: 'Confirming cancels these orders at your live Alpaca account.',
    confirm: (n, live) => `Cancel ${plural(n, 'order', 'orders')}${live ? ' (LIVE)' : ''}`,
    done: (n) => `${plural(n, 'open order', 'open orders')} cancelled`,
  },
  CLOSE_ALL: {
    title: 'Close all positions', what: 'Positions',
    live: 'Confirming sells (or buys back) every one of these positions at market on your live Alpaca account.',
    confirm: (n, live) => `Close ${plural(n, 'position', 'positions')}${live ? ' (LIVE)' : ''}`,
    done: (n) => `Closing orders sent for ${plural(n, 'position', 'positions')}`,
  },
};

function untilText(secs) {
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.ceil(secs / 60)} min`;
  if (secs < 86400) return `${Math.round(secs / 3600)} h`;
  return `${Math.round(secs / 86400)} days`;
}
