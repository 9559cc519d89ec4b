// An order proposal (from the chat, or from placeOrder on a LIVE account) with
// Confirm / Dismiss. Confirming is the explicit step before a live order.

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
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
  const status = expired ? 'EXPIRED' : state.status;

  const confirm = async () => {
    setState((s) => ({ ...s, busy: 'confirm', error: null }));
    try {
      const order = (await request(ops.CONFIRM_ORDER, { proposalId: proposal.id })).confirmOrder;
      setState({ status: 'CONFIRMED', order, busy: null, error: null });
      toast(`Order sent: ${fmt.statusLabel(order.status)}.`, 'ok');
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
      data-proposal-id=${proposal.id} data-status=${status} data-env=${proposal.environment} aria-label="Order proposal">
    <div class="proposal-head">
      <span class="proposal-kind">Order proposal</span>
      <${EnvBadge} env=${proposal.environment} />
    </div>
    <p class="proposal-summary" data-testid="proposal-summary">${proposal.summary}</p>
    <dl class="kv">
      <div><dt>Account</dt><dd data-testid="proposal-account">${account ? account.nickname : 'Unknown account'} (${proposal.environment})</dd></div>
      <div><dt>Estimated ${proposal.side === 'SELL' ? 'proceeds' : 'cost'}</dt><dd data-testid="proposal-cost">${fmt.money(proposal.estimatedCost)}</dd></div>
      <div><dt>Type</dt><dd>${fmt.TYPE[proposal.type] || proposal.type} · ${proposal.timeInForce}</dd></div>
    </dl>
    ${status === 'PENDING' && html`
      ${live && html`<p class="live-note"><strong>Real money.</strong> Confirming sends this order to your live Alpaca account.</p>`}
      <div class="proposal-actions">
        <button type="button" class="btn" data-testid="proposal-dismiss" disabled=${!!state.busy || !online} onClick=${dismiss}>Dismiss</button>
        <button type="button" class=${`btn ${live ? 'btn-danger' : 'btn-primary'}`} data-testid="proposal-confirm"
          disabled=${!!state.busy || !online} onClick=${confirm}>
          ${state.busy === 'confirm' ? 'Sending…' : live ? 'Confirm LIVE order' : 'Confirm order'}</button>
      </div>
      ${secsLeft !== null && html`<p class="muted small" data-testid="proposal-expiry">Expires in ${untilText(secsLeft)}.</p>`}`}
    ${status !== 'PENDING' && html`<p class=${`proposal-status status-${status}`} data-testid="proposal-status" role="status">
      ${status === 'CONFIRMED' ? `Confirmed${state.order ? ` — order ${fmt.statusLabel(state.order.status)}` : proposal.orderId ? ' — order sent' : ''}.`
        : status === 'DISMISSED' ? 'Dismissed.' : status === 'EXPIRED' ? 'Expired. Ask again for a fresh quote.' : fmt.statusLabel(status)}</p>`}
    <${ErrorText} error=${state.error} />
  </article>`;
}

function untilText(secs) {
  if (secs < 60) return `${secs} s`;
  if (secs < 3600) return `${Math.ceil(secs / 60)} min`;
  if (secs < 86400) return `${Math.round(secs / 3600)} h`;
  return `${Math.round(secs / 86400)} days`;
}
