// The order ticket's fields for what an order is (ORD-01): its class and exits, its
// type and prices, a trailing stop's trail, time in force. Choices that do not fit are
// disabled and the reason is said beside the field (ticket_rules.js), so a person never
// learns a broker rule from a refusal.

import { html } from '../html.js';
import * as fmt from '../format.js';
import { Field, Segmented } from './ui.js';
import { CLASSES, CLASS_HINT, NEEDS_LIMIT, NEEDS_STOP, allowed } from './ticket_rules.js';

export function PriceInput({ label, name, value, onInput, error, testid, hint }) {
  return html`<${Field} label=${label} name=${name} error=${error} hint=${hint}>${({ id, describedBy }) => html`
    <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid=${testid} aria-describedby=${describedBy}
      value=${value} onInput=${(e) => onInput(e.target.value.trim())} />`}<//>`;
}

function Choice({ label, name, value, options, labels, fits, why, error, testid, onChange }) {
  return html`<${Field} label=${label} name=${name} error=${error}>${({ id, describedBy }) => html`
    <select id=${id} data-testid=${testid} value=${value} aria-describedby=${describedBy} onChange=${(e) => onChange(e.target.value)}>
      ${options.map((v) => html`<option value=${v} disabled=${!fits.includes(v)}>${labels[v]}</option>`)}
    </select>`}<//>
    ${why && html`<p class="ticket-note" role="note" data-testid=${`${testid}-note`}>${why}</p>`}`;
}

/** Class, type, prices, exits, trail and time in force of ticket `t`; `set(patch)` changes it. */
export function OrderTermFields({ t, set, err }) {
  const fits = allowed(t);
  const oco = t.orderClass === 'OCO';
  const type = oco ? 'LIMIT' : t.type;
  const needsLimit = !oco && NEEDS_LIMIT.has(type);
  const needsStop = !oco && NEEDS_STOP.has(type);
  const trailing = type === 'TRAILING_STOP';
  const legs = t.orderClass !== 'SIMPLE';
  return html`
    <${Choice} label="Order class" name="orderClass" value=${t.orderClass} options=${Object.keys(CLASSES)} labels=${CLASSES}
      fits=${fits.classes} why=${fits.classWhy} error=${err.orderClass} testid="ticket-class" onChange=${(v) => set({ orderClass: v })} />
    <p class="field-hint" data-testid="ticket-class-hint">${CLASS_HINT[t.orderClass]}</p>
    <div class="field-row">
      ${!oco && html`<div><${Choice} label="Order type" name="type" value=${t.type} options=${Object.keys(fmt.TYPE)} labels=${fmt.TYPE}
        fits=${fits.types} why=${fits.typeWhy} error=${err.type} testid="ticket-type" onChange=${(v) => set({ type: v })} /></div>`}
      <div><${Choice} label="Time in force" name="timeInForce" value=${t.tif} options=${Object.keys(fmt.TIF)} labels=${fmt.TIF}
        fits=${fits.tifs} why=${fits.tifWhy} error=${err.timeInForce} testid="ticket-tif" onChange=${(v) => set({ tif: v })} /></div>
    </div>
    ${(needsLimit || needsStop) && html`<div class="field-row">
      ${needsStop && html`<${PriceInput} label="Stop price" name="stopPrice" value=${t.stopPrice} error=${err.stopPrice}
        testid="ticket-stop" onInput=${(v) => set({ stopPrice: v })} />`}
      ${needsLimit && html`<${PriceInput} label="Limit price" name="limitPrice" value=${t.limitPrice} error=${err.limitPrice}
        testid="ticket-limit" onInput=${(v) => set({ limitPrice: v })} />`}
    </div>`}
    ${trailing && html`<${Segmented} legend="Trail by" name="trail-by" value=${t.trailBy} onChange=${(v) => set({ trailBy: v })}
        testidPrefix="ticket-trail-by" options=${[{ value: 'PERCENT', label: 'Percent' }, { value: 'PRICE', label: 'Dollars' }]} />
      <${PriceInput} label=${t.trailBy === 'PERCENT' ? 'Trail (%)' : 'Trail (USD)'} name=${t.trailBy === 'PERCENT' ? 'trailPercent' : 'trailPrice'}
        value=${t.trail} error=${t.trailBy === 'PERCENT' ? err.trailPercent : err.trailPrice} testid="ticket-trail"
        hint="The stop follows the best price since the order started, this far behind it." onInput=${(v) => set({ trail: v })} />`}
    ${legs && html`<fieldset class="ticket-legs" data-testid="ticket-legs">
      <legend class="field-label">Exits, held by the broker</legend>
      <div class="field-row">
        <${PriceInput} label="Take-profit limit" name="takeProfitLimitPrice" value=${t.takeProfit} error=${err.takeProfitLimitPrice}
          testid="ticket-take-profit" hint=${t.orderClass === 'OTO' ? 'Fill one of the two exits.' : undefined}
          onInput=${(v) => set({ takeProfit: v })} />
        <${PriceInput} label="Stop-loss stop" name="stopLossStopPrice" value=${t.stopLoss} error=${err.stopLossStopPrice}
          testid="ticket-stop-loss" onInput=${(v) => set({ stopLoss: v })} />
      </div>
      <${PriceInput} label="Stop-loss limit (optional)" name="stopLossLimitPrice" value=${t.stopLossLimit} error=${err.stopLossLimitPrice}
        testid="ticket-stop-loss-limit" hint="Makes the stop-loss a stop-limit order." onInput=${(v) => set({ stopLossLimit: v })} />
    </fieldset>`}
    ${fits.extended && html`<label class="check-row"><input type="checkbox" data-testid="ticket-extended" checked=${t.extendedHours}
      onChange=${(e) => set({ extendedHours: e.target.checked })} /><span>Allow extended hours</span></label>`}`;
}
