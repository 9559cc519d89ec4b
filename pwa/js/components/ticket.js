// Order ticket (ORD-01..05, TRADE-02). Always names the account (nickname + PAPER/LIVE)
// the order goes to. Fill in, review, place: PAPER places at once; LIVE, or a price far
// from the market on either, answers CONFIRMATION_REQUIRED with a proposal, which the
// person confirms or dismisses. `#/trade?replace=<order id>` modifies an open order
// instead (ticket_replace.js). If the active account changes under an unsent ticket,
// nothing is sent until the person says which account it is for.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount } from '../store.js';
import * as fmt from '../format.js';
import { Field, Segmented, ErrorText, fieldErrors, AccountTag, NoAccount, useLoader } from './ui.js';
import { ProposalCard } from './proposal.js';
import { OrderRow } from './orders.js';
import { ClosedMarketNotice, symbolHref } from './market.js';
import { EMPTY, isCrypto, orderInput, reconcile, validate } from './ticket_rules.js';
import { OrderTermFields } from './ticket_fields.js';
import { AccountChanged, HeldPanel, QuoteLine, ReviewPanel, bumpOrders, newKey, useQuote } from './ticket_review.js';
import { ReplaceTicket } from './ticket_replace.js';

// Fields shown with their own error; a server error naming another goes above the button.
const UNSHOWN = new Set(['accountId', 'side', 'extendedHours']);
const CLEARED = { amount: '', limitPrice: '', stopPrice: '', trail: '', takeProfit: '', stopLoss: '', stopLossLimit: '' };
const sameSymbol = (held, typed) => held.replace('/', '') === typed.replace('/', '');

export function TicketPage({ params }) {
  const replacing = params.get('replace');
  return replacing ? html`<${ReplaceTicket} orderId=${replacing} />` : html`<${NewOrderTicket} params=${params} />`;
}

function NewOrderTicket({ params }) {
  const acc = useStore(activeAccount);
  const online = useStore((s) => s.online);
  const [t, setT] = useState(() => reconcile({
    ...EMPTY, symbol: (params.get('symbol') || '').toUpperCase(), side: params.get('side') === 'SELL' ? 'SELL' : 'BUY',
  }));
  // Whether anything was typed or prefilled: an untouched ticket simply follows the account.
  const touched = useRef(false);
  const set = (patch) => { touched.current = true; setT((prev) => reconcile({ ...prev, ...patch })); };
  const [step, setStep] = useState('edit'); // edit | review
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const [result, setResult] = useState(null); // {order} | {proposal}
  // The account this ticket is being filled in for; another one means asking again (bug 9).
  const [forAccount, setForAccount] = useState(acc?.id ?? null);
  // One idempotency key per submission: pressing Place again after a failure sends the
  // same order with the same key, so the server answers with the first order, never a second.
  const submission = useRef(null); // {body, key}
  const prefilled = useRef(false);
  const symbolReady = /^[A-Z][A-Z0-9./]{0,14}$/.test(t.symbol);
  const quote = useQuote(acc?.id, symbolReady ? t.symbol : '');
  const positions = useLoader(async () => (acc ? (await request(ops.POSITIONS, { accountId: acc.id })).positions : []), [acc?.id, result]);
  const held = (positions.data || []).find((p) => sameSymbol(p.symbol, t.symbol) && fmt.sign(p.qty) !== 0);

  useEffect(() => { if (!forAccount && acc) setForAccount(acc.id); }, [acc?.id]);
  const changed = !!(acc && forAccount && forAccount !== acc.id);
  const moved = changed && touched.current;
  useEffect(() => { if (changed && !touched.current) setForAccount(acc.id); }, [changed]);
  useEffect(() => { if (moved) setStep('edit'); }, [moved]);
  useEffect(() => {
    // A ticket opened on a position to reduce it (its Trade button) starts with all of it.
    const reduces = held && (fmt.sign(held.qty) > 0) === (t.side === 'SELL');
    if (!reduces || prefilled.current || t.amount || !params.get('symbol')) return;
    prefilled.current = true;
    set({ amount: held.qty.replace('-', '') });
  }, [held]);
  if (!acc) return html`<${NoAccount} />`;

  const live = acc.environment === 'LIVE';
  const input = orderInput(t, acc.id);
  const shownFields = Object.keys(input).filter((k) => input[k] !== null && !UNSHOWN.has(k) && !(k === 'type' && t.orderClass === 'OCO'));

  const review = (ev) => {
    ev.preventDefault();
    const e = validate(input);
    setErr(e);
    if (!Object.keys(e).length) setStep('review');
  };
  const place = async () => {
    const body = JSON.stringify(input);
    if (submission.current?.body !== body) submission.current = { body, key: newKey() };
    setBusy(true);
    try {
      const order = (await request(ops.PLACE_ORDER, { input: { ...input, idempotencyKey: submission.current.key } })).placeOrder;
      submission.current = null;
      // Said in the page (role=status), not by a toast that would sit on the next ticket (bug 3).
      setResult({ order });
      bumpOrders();
    } catch (ex) {
      if (ex.code === 'CONFIRMATION_REQUIRED' && ex.proposal) { submission.current = null; setResult({ proposal: ex.proposal }); }
      else { setErr(fieldErrors(ex, shownFields)); setStep('edit'); }
    }
    setBusy(false);
  };
  const startOver = (values = CLEARED) => {
    setResult(null); setStep('edit'); setErr({}); submission.current = null;
    setT((prev) => reconcile({ ...prev, ...values }));
  };
  const useAccount = (fresh) => { setForAccount(acc.id); startOver(fresh ? EMPTY : {}); };

  return html`<section class="page ticket" aria-labelledby="ticket-title" data-testid="order-ticket">
    <div class="page-head"><h1 id="ticket-title">New order</h1></div>
    <div class=${`ticket-account ${live ? 'is-live' : 'is-paper'}`} data-testid="ticket-account">
      <span>This order goes to</span> <${AccountTag} account=${acc} />
      ${live && html`<span class="live-note-inline">real money</span>`}
    </div>
    ${moved && !result && html`<${AccountChanged} account=${acc} onKeep=${() => useAccount(false)} onReset=${() => useAccount(true)} />`}
    ${result?.proposal ? html`<div class="ticket-result" data-testid="ticket-result">
        <p>${result.proposal.reason ? 'Check the price before the order is sent:' : 'Live orders need your confirmation:'}</p>
        <${ProposalCard} proposal=${result.proposal} onResolved=${(st) => { if (st === 'CONFIRMED') bumpOrders(); }} />
        <button type="button" class="btn btn-block" data-testid="ticket-new" onClick=${() => startOver()}>New order</button>
      </div>`
    : result?.order ? html`<div class="ticket-result" data-testid="ticket-result" role="status">
        <p><strong>Order ${fmt.statusLabel(result.order.status)}</strong> on <${AccountTag} account=${acc} />.</p>
        <ul class="rows"><${OrderRow} o=${result.order} compact=${true} /></ul>
        <${ClosedMarketNotice} order=${result.order} />
        <div class="card-actions"><a class="btn" href="#/orders">See orders</a>
          <button type="button" class="btn btn-primary" data-testid="ticket-new" onClick=${() => startOver()}>New order</button></div>
      </div>`
    : step === 'review' ? html`<${ReviewPanel} input=${input} account=${acc} quote=${quote} busy=${busy} online=${online && !moved}
        onEdit=${() => setStep('edit')} onPlace=${place} />`
    : html`<form class="form" onSubmit=${review} novalidate>
      <${Field} label="Symbol" name="symbol" error=${err.symbol}>${({ id, describedBy }) => html`
        <input id=${id} type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required class="mono upper"
          data-testid="ticket-symbol" aria-describedby=${describedBy} value=${t.symbol} placeholder="AAPL or BTC/USD"
          onInput=${(e) => set({ symbol: e.target.value.toUpperCase().trim() })} />`}<//>
      ${t.symbol && html`<p class="small"><a href=${symbolHref(t.symbol)} data-testid="ticket-symbol-page">${t.symbol}: price and chart</a></p>`}
      ${held && html`<${HeldPanel} position=${held} account=${acc} online=${online && !moved} onClosed=${setResult} />`}
      <${QuoteLine} input=${input} quote=${quote} />
      <${Segmented} legend="Side" name="side" value=${t.side} onChange=${(v) => set({ side: v })} testidPrefix="ticket-side"
        options=${[{ value: 'BUY', label: 'Buy', tone: 'buy' }, { value: 'SELL', label: 'Sell', tone: 'sell' }]} />
      <${Segmented} legend="Amount in" name="amount-mode" value=${t.mode} onChange=${(v) => set({ mode: v })} testidPrefix="ticket-amount"
        options=${[{ value: 'QTY', label: isCrypto(t.symbol) ? 'Coins' : 'Shares' }, { value: 'NOTIONAL', label: 'Dollars' }]} />
      ${t.mode === 'QTY'
        ? html`<${Field} label=${`Quantity (${isCrypto(t.symbol) ? 'coins' : 'shares'})`} name="qty" error=${err.qty}>${({ id, describedBy }) => html`
            <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-qty" aria-describedby=${describedBy}
              value=${t.amount} onInput=${(e) => set({ amount: e.target.value.trim() })} />`}<//>`
        : html`<${Field} label="Amount (USD)" name="notional" error=${err.notional} hint="A market order for a fraction of a share, for the day.">${({ id, describedBy }) => html`
            <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-notional" aria-describedby=${describedBy}
              value=${t.amount} onInput=${(e) => set({ amount: e.target.value.trim() })} />`}<//>`}
      <${OrderTermFields} t=${t} set=${set} err=${err} />
      <${ErrorText} error=${err.form} />
      <button type="submit" class=${`btn btn-block btn-lg ${live ? 'btn-danger' : t.side === 'BUY' ? 'btn-buy' : 'btn-sell'}`}
        data-testid="ticket-submit" disabled=${busy || !online || moved}>
        ${`Review ${live ? 'LIVE ' : ''}${t.side === 'BUY' ? 'buy' : 'sell'} order on ${acc.nickname}`}</button>
      ${!online && html`<p class="muted small">Trading needs a connection.</p>`}
    </form>`}
  </section>`;
}
