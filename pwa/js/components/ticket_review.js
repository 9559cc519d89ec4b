// What the order ticket shows around its fields: the latest quote and the estimated
// cost while typing, the review before sending (TRADE-02: the account and PAPER/LIVE
// named on the very step that sends), the warning when the active account changed
// under an unsent ticket, and a position's "close 25 / 50 / 100 %" (ORD-03); and what
// the new-order and modify tickets share when they send.

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import * as fmt from '../format.js';
import { store } from '../store.js';
import { AccountTag, ConfirmDialog } from './ui.js';
import { CLASSES, estimate, priceWords } from './ticket_rules.js';

const QUOTE_REFRESH_MS = 10_000;

// randomUUID needs a secure context; getRandomValues works on a plain-http LAN address too
export const newKey = () => crypto.randomUUID?.()
  ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/** Tell the lists that orders and positions changed (the realtime events follow too). */
export function bumpOrders() {
  store.set((s) => ({ rev: { ...s.rev, orders: s.rev.orders + 1, positions: s.rev.positions + 1 } }));
}

/** The latest quote of `symbol` on the account, refreshed while the ticket is open. */
export function useQuote(accountId, symbol) {
  const [quote, setQuote] = useState(null);
  useEffect(() => {
    setQuote(null);
    if (!accountId || !symbol) return undefined;
    let gone = false;
    const load = async () => {
      try {
        const d = await request(ops.TICKET_QUOTE, { accountId, symbol });
        if (!gone) setQuote(d.quote);
      } catch { if (!gone) setQuote(null); }
    };
    const first = setTimeout(load, 250); // typing a symbol: ask once it settles
    const again = setInterval(load, QUOTE_REFRESH_MS);
    return () => { gone = true; clearTimeout(first); clearInterval(again); };
  }, [accountId, symbol]);
  return quote;
}

const costLabel = (input) => `Estimated ${input.side === 'SELL' ? 'proceeds' : 'cost'}`;

export function QuoteLine({ input, quote }) {
  const est = estimate(input, quote);
  return html`<div class="ticket-quote" data-testid="ticket-quote" aria-live="polite">
    ${quote ? html`<span>Bid <strong data-testid="ticket-bid">${fmt.price(quote.bidPrice)}</strong>
        · Ask <strong data-testid="ticket-ask">${fmt.price(quote.askPrice)}</strong></span>`
      : input.symbol ? html`<span class="muted">No quote for ${input.symbol} yet.</span>` : null}
    ${est && html`<span>${costLabel(input)} <strong data-testid="ticket-estimate" data-value=${est.value}>${fmt.money(est.value)}</strong>
      ${est.basis !== 'amount' && html`<span class="muted small"> at the ${est.basis}</span>`}</span>`}
  </div>`;
}

/** Everything the order is, on the step that sends it: Edit goes back, Place order sends. */
export function ReviewPanel({ input, account, quote, busy, online, onEdit, onPlace }) {
  const live = account.environment === 'LIVE';
  const est = estimate(input, quote);
  const amount = input.notional ? fmt.money(input.notional) : `${fmt.qty(input.qty)} ${input.symbol.includes('/') ? '' : 'shares'}`.trim();
  const row = (label, value, testid) => html`<div><dt>${label}</dt><dd data-testid=${testid}>${value}</dd></div>`;
  return html`<section class=${`card ticket-review ${live ? 'is-live' : ''}`} data-testid="ticket-review" aria-labelledby="review-title">
    <h2 id="review-title">Review your order</h2>
    <dl class="kv">
      ${row('Account', html`<${AccountTag} account=${account} />`, 'review-account')}
      ${row('Symbol', input.symbol, 'review-symbol')}
      ${row('Side', fmt.SIDE[input.side], 'review-side')}
      ${row(input.notional ? 'Amount' : 'Quantity', amount, 'review-amount')}
      ${row('Type', `${input.orderClass === 'OCO' ? 'OCO' : fmt.TYPE[input.type]} · ${priceWords(input)}`, 'review-type')}
      ${input.orderClass !== 'SIMPLE' && row('Order class', CLASSES[input.orderClass], 'review-class')}
      ${input.takeProfitLimitPrice && row('Take profit', `limit ${fmt.price(input.takeProfitLimitPrice)}`, 'review-take-profit')}
      ${input.stopLossStopPrice && row('Stop loss', `stop ${fmt.price(input.stopLossStopPrice)}${input.stopLossLimitPrice
        ? ` limit ${fmt.price(input.stopLossLimitPrice)}` : ''}`, 'review-stop-loss')}
      ${row('Time in force', fmt.TIF[input.timeInForce], 'review-tif')}
      ${input.extendedHours && row('Extended hours', 'Yes', 'review-extended')}
      ${row(costLabel(input), est ? fmt.money(est.value) : '—', 'review-cost')}
    </dl>
    ${live && html`<p class="live-note"><strong>Real money.</strong> A live order is confirmed once more before it is sent.</p>`}
    <div class="dialog-actions ticket-review-actions">
      <button type="button" class="btn" data-testid="ticket-edit" onClick=${onEdit} disabled=${busy}>Edit</button>
      <button type="button" class=${`btn btn-lg ${live ? 'btn-danger' : input.side === 'BUY' ? 'btn-buy' : 'btn-sell'}`}
        data-testid="ticket-place" disabled=${busy || !online} onClick=${onPlace}>
        ${busy ? 'Sending…' : `Place ${live ? 'LIVE ' : ''}order`}</button>
    </div>
  </section>`;
}

/**
 * Shown when the active account is no longer the one the ticket was opened on (another
 * device switched it): nothing is sent until the person says which account it is for.
 */
export function AccountChanged({ account, onKeep, onReset }) {
  return html`<div class="warning ticket-moved" role="alert" data-testid="ticket-account-changed">
    <p><strong>The active account changed.</strong> This order would now go to <${AccountTag} account=${account} />${account.environment === 'LIVE' ? ', with real money' : ''}.</p>
    <div class="card-actions">
      <button type="button" class="btn" data-testid="ticket-account-reset" onClick=${onReset}>Start over</button>
      <button type="button" class="btn btn-primary" data-testid="ticket-account-keep" onClick=${onKeep}>Use ${account.nickname} for this order</button>
    </div>
  </div>`;
}

const PARTS = [25, 50, 100];

/** The position held in the ticket's symbol, with "Close 25 / 50 / 100 %" (closePosition). */
export function HeldPanel({ position, account, online, onClosed }) {
  const [part, setPart] = useState(null);
  const short = position.side === 'short' || fmt.sign(position.qty) < 0;
  const close = async () => {
    try {
      const d = await request(ops.CLOSE_POSITION, { accountId: account.id, symbol: position.symbol, percentage: String(part) });
      onClosed({ order: d.closePosition });
    } catch (e) {
      if (e.code !== 'CONFIRMATION_REQUIRED' || !e.proposal) throw e;
      onClosed({ proposal: e.proposal });
    }
  };
  return html`<section class="ticket-held" data-testid="ticket-held" data-qty=${position.qty}>
    <p>You hold <strong>${fmt.qty(position.qty)} ${position.symbol}</strong>${short ? ' short' : ''} on <${AccountTag} account=${account} />.</p>
    <div class="card-actions" role="group" aria-label=${`Close ${position.symbol}`}>
      ${PARTS.map((p) => html`<button type="button" class="btn" data-testid=${`ticket-close-${p}`} disabled=${!online}
        onClick=${() => setPart(p)}>Close ${p} %</button>`)}
    </div>
    ${part && html`<${ConfirmDialog} title=${`Close ${part} % of ${position.symbol}?`} confirmLabel=${`Close ${part} %`}
      cancelLabel="Keep position" onClose=${() => setPart(null)} onConfirm=${close}
      message=${html`${part === 100 ? 'All' : `${part} %`} of ${fmt.qty(position.qty)} ${position.symbol} at market on <${AccountTag} account=${account} />.`} />`}
  </section>`;
}
