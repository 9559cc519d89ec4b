// Order ticket. Always shows the account (nickname + PAPER/LIVE) it will hit.
// PAPER: placeOrder places at once. LIVE: the server answers
// CONFIRMATION_REQUIRED with a proposal, which the user confirms or dismisses.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, toast, store } from '../store.js';
import * as fmt from '../format.js';
import { Field, Segmented, ErrorText, fieldErrors, AccountTag } from './ui.js';
import { ProposalCard } from './proposal.js';
import { NoAccount } from './ui.js';
import { OrderRow } from './orders.js';
import { ClosedMarketNotice, symbolHref } from './market.js';

const DECIMAL = /^\d+(\.\d+)?$/;
// randomUUID needs a secure context; getRandomValues works on a plain-http LAN address too
const newKey = () => crypto.randomUUID?.()
  ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

export function TicketPage({ params }) {
  const acc = useStore(activeAccount);
  const online = useStore((s) => s.online);
  const [symbol, setSymbol] = useState((params.get('symbol') || '').toUpperCase());
  const [side, setSide] = useState(params.get('side') === 'SELL' ? 'SELL' : 'BUY');
  const [mode, setMode] = useState('QTY'); // QTY | NOTIONAL
  const [amount, setAmount] = useState('');
  const [type, setType] = useState('MARKET');
  const [limitPrice, setLimit] = useState('');
  const [stopPrice, setStop] = useState('');
  const [tif, setTif] = useState('DAY');
  const [extendedHours, setExt] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const [result, setResult] = useState(null); // {order} | {proposal}
  const [accountAtStart, setAccountAtStart] = useState(acc?.id);
  // One idempotency key per submission: pressing Place again after a failure sends the
  // same order with the same key, so the server answers with the first order, never a second.
  const submission = useRef(null); // {body, key}

  useEffect(() => { setResult(null); }, [acc?.id]);
  if (!acc) return html`<${NoAccount} />`;
  const live = acc.environment === 'LIVE';
  const needsLimit = type === 'LIMIT' || type === 'STOP_LIMIT';
  const needsStop = type === 'STOP' || type === 'STOP_LIMIT';

  const validate = () => {
    const e = {};
    if (!/^[A-Z][A-Z0-9.\/-]{0,14}$/.test(symbol)) e.symbol = 'Enter a ticker symbol, e.g. AAPL.';
    if (!DECIMAL.test(amount) || fmt.sign(amount) <= 0) e[mode === 'QTY' ? 'qty' : 'notional'] = mode === 'QTY' ? 'Enter a number of shares.' : 'Enter a dollar amount.';
    if (needsLimit && (!DECIMAL.test(limitPrice) || fmt.sign(limitPrice) <= 0)) e.limitPrice = 'Enter a limit price.';
    if (needsStop && (!DECIMAL.test(stopPrice) || fmt.sign(stopPrice) <= 0)) e.stopPrice = 'Enter a stop price.';
    return e;
  };

  const submit = async (ev) => {
    ev.preventDefault();
    const e = validate();
    setErr(e);
    if (Object.keys(e).length) return;
    const input = {
      accountId: acc.id, symbol, side, type, timeInForce: tif, extendedHours: type === 'LIMIT' && extendedHours,
      qty: mode === 'QTY' ? amount : null, notional: mode === 'NOTIONAL' ? amount : null,
      limitPrice: needsLimit ? limitPrice : null, stopPrice: needsStop ? stopPrice : null,
    };
    const body = JSON.stringify(input);
    if (submission.current?.body !== body) submission.current = { body, key: newKey() };
    setBusy(true); setResult(null); setAccountAtStart(acc.id);
    try {
      const order = (await request(ops.PLACE_ORDER, { input: { ...input, idempotencyKey: submission.current.key } })).placeOrder;
      submission.current = null;
      setResult({ order });
      toast(`Order ${fmt.statusLabel(order.status)} on ${acc.nickname}.`, 'ok');
      bumpOrders();
    } catch (ex) {
      if (ex.code === 'CONFIRMATION_REQUIRED' && ex.proposal) { submission.current = null; setResult({ proposal: ex.proposal }); }
      else setErr(fieldErrors(ex, ['symbol', 'qty', 'notional', 'limitPrice', 'stopPrice', 'timeInForce', 'side', 'type']));
    }
    setBusy(false);
  };

  const reset = () => { setResult(null); setAmount(''); setLimit(''); setStop(''); };

  return html`<section class="page ticket" aria-labelledby="ticket-title" data-testid="order-ticket">
    <div class="page-head"><h1 id="ticket-title">New order</h1></div>
    <div class=${`ticket-account ${live ? 'is-live' : 'is-paper'}`} data-testid="ticket-account">
      <span>This order goes to</span> <${AccountTag} account=${acc} />
      ${live && html`<span class="live-note-inline">real money</span>`}
    </div>
    ${result?.proposal ? html`<div class="ticket-result" data-testid="ticket-result">
        <p>Live orders need your confirmation:</p>
        <${ProposalCard} proposal=${result.proposal} onResolved=${(st) => { if (st === 'CONFIRMED') bumpOrders(); }} />
        <button type="button" class="btn btn-block" onClick=${reset}>New order</button>
      </div>`
    : result?.order ? html`<div class="ticket-result" data-testid="ticket-result" role="status">
        <p><strong>Order ${fmt.statusLabel(result.order.status)}</strong> on <${AccountTag} account=${acc} />.</p>
        <ul class="rows"><${OrderRow} o=${result.order} compact=${true} /></ul>
        <${ClosedMarketNotice} order=${result.order} />
        <div class="card-actions"><a class="btn" href="#/orders">See orders</a><button type="button" class="btn btn-primary" onClick=${reset}>New order</button></div>
      </div>`
    : html`<form class="form" onSubmit=${submit} novalidate>
      <${Field} label="Symbol" name="symbol" error=${err.symbol}>${({ id, describedBy }) => html`
        <input id=${id} type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required class="mono upper"
          data-testid="ticket-symbol" aria-describedby=${describedBy} value=${symbol} placeholder="AAPL"
          onInput=${(e) => setSymbol(e.target.value.toUpperCase().trim())} />`}<//>
      ${symbol && html`<p class="small"><a href=${symbolHref(symbol)} data-testid="ticket-symbol-page">${symbol}: price and chart</a></p>`}
      <${Segmented} legend="Side" name="side" value=${side} onChange=${setSide} testidPrefix="ticket-side"
        options=${[{ value: 'BUY', label: 'Buy', tone: 'buy' }, { value: 'SELL', label: 'Sell', tone: 'sell' }]} />
      <${Segmented} legend="Amount in" name="amount-mode" value=${mode} onChange=${(m) => { setMode(m); if (m === 'NOTIONAL') setTif('DAY'); }} testidPrefix="ticket-amount"
        options=${[{ value: 'QTY', label: 'Shares' }, { value: 'NOTIONAL', label: 'Dollars' }]} />
      ${mode === 'QTY'
        ? html`<${Field} label="Quantity (shares)" name="qty" error=${err.qty}>${({ id, describedBy }) => html`
            <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-qty" aria-describedby=${describedBy}
              value=${amount} onInput=${(e) => setAmount(e.target.value.trim())} />`}<//>`
        : html`<${Field} label="Amount (USD)" name="notional" error=${err.notional} hint="Fractional, market orders, day only.">${({ id, describedBy }) => html`
            <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-notional" aria-describedby=${describedBy}
              value=${amount} onInput=${(e) => setAmount(e.target.value.trim())} />`}<//>`}
      <div class="field-row">
        <${Field} label="Order type" name="type">${({ id }) => html`
          <select id=${id} data-testid="ticket-type" value=${type} onChange=${(e) => setType(e.target.value)}>
            ${Object.entries(fmt.TYPE).map(([v, l]) => html`<option value=${v} disabled=${mode === 'NOTIONAL' && v !== 'MARKET' && v !== 'LIMIT'}>${l}</option>`)}
          </select>`}<//>
        <${Field} label="Time in force" name="timeInForce" error=${err.timeInForce}>${({ id }) => html`
          <select id=${id} data-testid="ticket-tif" value=${tif} onChange=${(e) => setTif(e.target.value)}>
            ${Object.entries(fmt.TIF).map(([v, l]) => html`<option value=${v}>${l}</option>`)}
          </select>`}<//>
      </div>
      ${(needsLimit || needsStop) && html`<div class="field-row">
        ${needsStop && html`<${Field} label="Stop price" name="stopPrice" error=${err.stopPrice}>${({ id, describedBy }) => html`
          <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-stop" aria-describedby=${describedBy}
            value=${stopPrice} onInput=${(e) => setStop(e.target.value.trim())} />`}<//>`}
        ${needsLimit && html`<${Field} label="Limit price" name="limitPrice" error=${err.limitPrice}>${({ id, describedBy }) => html`
          <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid="ticket-limit" aria-describedby=${describedBy}
            value=${limitPrice} onInput=${(e) => setLimit(e.target.value.trim())} />`}<//>`}
      </div>`}
      ${type === 'LIMIT' && html`<label class="check-row"><input type="checkbox" data-testid="ticket-extended" checked=${extendedHours}
        onChange=${(e) => setExt(e.target.checked)} /><span>Allow extended hours</span></label>`}
      <${ErrorText} error=${err.form} />
      ${accountAtStart && accountAtStart !== acc.id && html`<p class="warning" role="alert">The active account changed to ${acc.nickname} (${acc.environment}). Check before placing.</p>`}
      <button type="submit" class=${`btn btn-block btn-lg ${live ? 'btn-danger' : side === 'BUY' ? 'btn-buy' : 'btn-sell'}`}
        data-testid="ticket-submit" disabled=${busy || !online}>
        ${busy ? 'Sending…' : `${live ? 'Review LIVE' : 'Place'} ${side === 'BUY' ? 'buy' : 'sell'} order on ${acc.nickname}`}</button>
      ${!online && html`<p class="muted small">Trading needs a connection.</p>`}
    </form>`}
  </section>`;
}

function bumpOrders() {
  store.set((s) => ({ rev: { ...s.rev, orders: s.rev.orders + 1 } }));
}
