// Modify an open order (ORD-02): quantity (whole shares), limit, stop, trail and time in
// force, reviewed as "before → after", then replaceOrder. A live replace answers
// CONFIRMATION_REQUIRED with a proposal like a new live order. The order belongs to the
// account that was active when the ticket opened; if another device switches the active
// account meanwhile, nothing is sent from here.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount } from '../store.js';
import * as fmt from '../format.js';
import { ErrorText, AccountTag, NoAccount, fieldErrors, useLoader } from './ui.js';
import { ProposalCard } from './proposal.js';
import { OrderRow, describeOrder } from './orders.js';
import { EMPTY, allowed } from './ticket_rules.js';
import { PriceInput } from './ticket_fields.js';
import { bumpOrders, newKey } from './ticket_review.js';

const WHOLE = /^\d+$/;
const PRICE = /^\d+(\.\d+)?$/;

function trailField(order) {
  if (order.type !== 'TRAILING_STOP') return null;
  return order.trailPercent != null ? 'trailPercent' : 'trailPrice';
}

/** The editable terms of `order`, as the form holds them (plain strings). */
function termsOf(order) {
  const trail = trailField(order);
  return {
    qty: order.qty ?? '', limitPrice: order.limitPrice ?? '', stopPrice: order.type === 'TRAILING_STOP' ? '' : order.stopPrice ?? '',
    trail: trail ? order[trail] ?? '' : '', tif: order.timeInForce,
  };
}

const LABELS = { qty: 'Quantity', limitPrice: 'Limit price', stopPrice: 'Stop price', trailPrice: 'Trail (USD)', trailPercent: 'Trail (%)', timeInForce: 'Time in force' };

/** What the form changes in `order`: a ReplaceOrderInput without the idempotency key. */
function changesOf(order, v) {
  const before = termsOf(order);
  const differs = (a, b) => fmt.compare(a, b) !== 0;
  const c = {};
  if (differs(v.qty, before.qty)) c.qty = v.qty;
  if (order.limitPrice != null && differs(v.limitPrice, before.limitPrice)) c.limitPrice = v.limitPrice;
  if (before.stopPrice !== '' && differs(v.stopPrice, before.stopPrice)) c.stopPrice = v.stopPrice;
  const trail = trailField(order);
  if (trail && differs(v.trail, before.trail)) c[trail] = v.trail;
  if (v.tif !== before.tif) c.timeInForce = v.tif;
  return c;
}

function check(change) {
  const e = {};
  if ('qty' in change && !(WHOLE.test(change.qty) && fmt.sign(change.qty) > 0)) e.qty = 'A replaced order takes whole shares.';
  for (const f of ['limitPrice', 'stopPrice', 'trailPrice', 'trailPercent']) {
    if (f in change && !(PRICE.test(change[f]) && fmt.sign(change[f]) > 0)) e[f] = `Enter a ${LABELS[f].toLowerCase()}.`;
  }
  if (!Object.keys(change).length) e.form = { message: 'Change the quantity, a price or the time in force first.' };
  return e;
}

const shown = (field, value) => (field === 'qty' || field === 'trailPercent' ? fmt.qty(value)
  : field === 'timeInForce' ? fmt.TIF[value] : fmt.price(value));

export function ReplaceTicket({ orderId }) {
  const acc = useStore(activeAccount);
  const accounts = useStore((s) => s.accounts);
  const online = useStore((s) => s.online);
  const [forAccount] = useState(acc?.id ?? null);
  const found = useLoader(async () => {
    if (!forAccount) return null;
    const open = (await request(ops.ORDERS, { accountId: forAccount, status: 'OPEN', limit: 100 })).orders;
    // A bracket's exits are orders too: they are modified the same way.
    return open.flatMap((o) => [o, ...(o.legs || [])]).find((o) => o.id === orderId) ?? null;
  }, [forAccount, orderId]);
  const [v, setV] = useState(null);
  const [step, setStep] = useState('edit');
  const [err, setErr] = useState({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const submission = useRef(null);
  useEffect(() => { if (found.data && !v) setV(termsOf(found.data)); }, [found.data]);
  if (!acc) return html`<${NoAccount} />`;
  const account = accounts.find((a) => a.id === forAccount) ?? acc;
  const order = found.data;
  const moved = acc.id !== account.id;
  const live = account.environment === 'LIVE';

  const head = html`<div class="page-head"><h1 id="ticket-title">Modify order</h1></div>
    <div class=${`ticket-account ${live ? 'is-live' : 'is-paper'}`} data-testid="ticket-account">
      <span>Order on</span> <${AccountTag} account=${account} />${live && html`<span class="live-note-inline">real money</span>`}
    </div>
    ${moved && html`<div class="warning" role="alert" data-testid="ticket-account-changed">The active account is now
      <${AccountTag} account=${acc} />; this order belongs to ${account.nickname}. <a href="#/orders">Back to orders</a></div>`}`;
  if (!order || !v) {
    return html`<section class="page ticket" aria-labelledby="ticket-title" data-testid="order-ticket" data-mode="replace">${head}
      <${ErrorText} error=${found.error} />
      ${found.loading ? html`<p class="muted" aria-busy="true">Loading the order…</p>`
        : html`<p data-testid="replace-gone">This order is no longer open. <a href="#/orders">See orders</a></p>`}
    </section>`;
  }

  const change = changesOf(order, v);
  const fits = allowed({ ...EMPTY, symbol: order.symbol, amount: v.qty, type: order.type, orderClass: order.orderClass || 'SIMPLE', tif: v.tif });
  const trail = trailField(order);
  const before = termsOf(order);
  const review = (ev) => {
    ev.preventDefault();
    const e = check(change);
    setErr(e);
    if (!Object.keys(e).length) setStep('review');
  };
  const send = async () => {
    const body = JSON.stringify(change);
    if (submission.current?.body !== body) submission.current = { body, key: newKey() };
    setBusy(true);
    try {
      const input = { ...change, idempotencyKey: submission.current.key };
      const d = await request(ops.REPLACE_ORDER, { accountId: account.id, orderId, input });
      submission.current = null;
      setResult({ order: d.replaceOrder });
      bumpOrders();
    } catch (ex) {
      if (ex.code === 'CONFIRMATION_REQUIRED' && ex.proposal) { submission.current = null; setResult({ proposal: ex.proposal }); }
      else { setErr(fieldErrors(ex, Object.keys(change))); setStep('edit'); }
    }
    setBusy(false);
  };
  const put = (patch) => setV((prev) => ({ ...prev, ...patch }));

  return html`<section class="page ticket" aria-labelledby="ticket-title" data-testid="order-ticket" data-mode="replace">${head}
    <p class="ticket-replacing" data-testid="replace-order">${describeOrder(order)} · ${fmt.TIF[order.timeInForce]}</p>
    ${result?.proposal ? html`<div class="ticket-result" data-testid="ticket-result">
        <p>${result.proposal.reason ? 'Check the price before the change is sent:' : 'Live changes need your confirmation:'}</p>
        <${ProposalCard} proposal=${result.proposal} onResolved=${(st) => { if (st === 'CONFIRMED') bumpOrders(); }} />
        <a class="btn btn-block" href="#/orders">See orders</a>
      </div>`
    : result?.order ? html`<div class="ticket-result" data-testid="ticket-result" role="status">
        <p><strong>Order changed</strong> on <${AccountTag} account=${account} />: the new order replaces the old one.</p>
        <ul class="rows"><${OrderRow} o=${result.order} compact=${true} /></ul>
        <a class="btn btn-primary" href="#/orders">See orders</a>
      </div>`
    : step === 'review' ? html`<section class=${`card ticket-review ${live ? 'is-live' : ''}`} data-testid="ticket-review">
        <h2>Review the change</h2>
        <dl class="kv">
          <div><dt>Account</dt><dd data-testid="review-account"><${AccountTag} account=${account} /></dd></div>
          ${Object.entries(change).map(([f, value]) => html`<div data-testid="review-change" data-field=${f}><dt>${LABELS[f]}</dt>
            <dd>${shown(f, f === 'timeInForce' ? before.tif : f === trail ? before.trail : before[f])} → <strong>${shown(f, value)}</strong></dd></div>`)}
        </dl>
        ${live && html`<p class="live-note"><strong>Real money.</strong> A live change is confirmed once more before it is sent.</p>`}
        <div class="dialog-actions ticket-review-actions">
          <button type="button" class="btn" data-testid="ticket-edit" disabled=${busy} onClick=${() => setStep('edit')}>Edit</button>
          <button type="button" class=${`btn btn-lg ${live ? 'btn-danger' : 'btn-primary'}`} data-testid="ticket-place"
            disabled=${busy || !online || moved} onClick=${send}>${busy ? 'Sending…' : `Replace ${live ? 'LIVE ' : ''}order`}</button>
        </div>
      </section>`
    : html`<form class="form" onSubmit=${review} novalidate>
      <${PriceInput} label="Quantity (whole shares)" name="qty" value=${v.qty} error=${err.qty} testid="ticket-qty"
        onInput=${(x) => put({ qty: x })} />
      <div class="field-row">
        ${before.stopPrice !== '' && html`<${PriceInput} label="Stop price" name="stopPrice" value=${v.stopPrice} error=${err.stopPrice}
          testid="ticket-stop" onInput=${(x) => put({ stopPrice: x })} />`}
        ${order.limitPrice != null && html`<${PriceInput} label="Limit price" name="limitPrice" value=${v.limitPrice} error=${err.limitPrice}
          testid="ticket-limit" onInput=${(x) => put({ limitPrice: x })} />`}
      </div>
      ${trail && html`<${PriceInput} label=${LABELS[trail]} name=${trail} value=${v.trail} error=${err[trail]} testid="ticket-trail"
        onInput=${(x) => put({ trail: x })} />`}
      <label class="field"><span class="field-label">Time in force</span>
        <select data-testid="ticket-tif" value=${v.tif} onChange=${(e) => put({ tif: e.target.value })}>
          ${Object.keys(fmt.TIF).map((k) => html`<option value=${k} disabled=${!fits.tifs.includes(k)}>${fmt.TIF[k]}</option>`)}
        </select></label>
      ${fits.tifWhy && html`<p class="ticket-note" role="note" data-testid="ticket-tif-note">${fits.tifWhy}</p>`}
      ${err.timeInForce && html`<p class="field-error" role="alert" data-testid="field-error" data-field="timeInForce">${err.timeInForce}</p>`}
      <${ErrorText} error=${err.form} />
      <button type="submit" class=${`btn btn-block btn-lg ${live ? 'btn-danger' : 'btn-primary'}`} data-testid="ticket-submit"
        disabled=${!online || moved}>Review the change</button>
    </form>`}
  </section>`;
}
