// The order ticket's rules, pure (no DOM): which order classes, types and times in
// force fit what is typed, with the reason shown beside the field; the ticket's
// values as a PlaceOrderInput; the checks made before asking the server; the
// estimated cost. They mirror the server's one order validator (api/trading/orders.py,
// docs/requirements.md ORD-01, ORD-04), which still decides: the ticket only keeps a
// person from choosing a combination the broker refuses, and says why as it happens.

import * as fmt from '../format.js';

export const CLASSES = { SIMPLE: 'Simple', BRACKET: 'Bracket', OTO: 'OTO', OCO: 'OCO' };
export const CLASS_HINT = {
  SIMPLE: 'One order.',
  BRACKET: 'An entry with a take-profit and a stop-loss exit; one filling cancels the other.',
  OTO: 'An entry with one exit: a take-profit or a stop-loss.',
  OCO: 'Two exits for shares you hold: a take-profit and a stop-loss; one filling cancels the other.',
};
const TYPES = Object.keys(fmt.TYPE);
const TIFS = Object.keys(fmt.TIF);
const ENTRY_TYPES = ['MARKET', 'LIMIT'];
const CRYPTO_TYPES = ['MARKET', 'LIMIT', 'STOP_LIMIT'];
export const NEEDS_LIMIT = new Set(['LIMIT', 'STOP_LIMIT']);
export const NEEDS_STOP = new Set(['STOP', 'STOP_LIMIT']);

export const EMPTY = {
  symbol: '', side: 'BUY', mode: 'QTY', amount: '', type: 'MARKET', orderClass: 'SIMPLE',
  limitPrice: '', stopPrice: '', trailBy: 'PERCENT', trail: '',
  takeProfit: '', stopLoss: '', stopLossLimit: '', tif: 'DAY', extendedHours: false,
};

const DECIMAL = /^\d+(\.\d+)?$/;
const SYMBOL = /^(?:[A-Z][A-Z0-9]{0,9}(?:\.[A-Z]{1,3})?|[A-Z][A-Z0-9]{1,9}\/[A-Z]{3,5})$/;

export const isCrypto = (symbol) => symbol.includes('/');
const positive = (v) => DECIMAL.test(v) && fmt.sign(v) > 0;

/** A fraction of a share or a dollar amount (Alpaca's fractional orders). */
export function isFractional(t) {
  return t.mode === 'NOTIONAL' || /\.\d*[1-9]/.test(t.amount);
}

/**
 * What fits the ticket now: {classes, types, tifs, extended} and, for each list that is
 * narrowed, the reason (classWhy, typeWhy, tifWhy), in the words shown beside the field.
 */
export function allowed(t) {
  const crypto = isCrypto(t.symbol);
  const fractional = !crypto && isFractional(t);
  const advanced = t.orderClass !== 'SIMPLE';
  const name = CLASSES[t.orderClass];
  const out = { classes: Object.keys(CLASSES), types: TYPES, tifs: TIFS, classWhy: null, typeWhy: null, tifWhy: null };
  if (crypto) Object.assign(out, { classes: ['SIMPLE'], classWhy: 'Crypto orders are simple orders: no bracket, OTO or OCO.' });
  else if (fractional) Object.assign(out, { classes: ['SIMPLE'], classWhy: 'Bracket, OTO and OCO orders need whole shares.' });

  if (crypto) Object.assign(out, { types: CRYPTO_TYPES, typeWhy: 'Crypto orders are market, limit or stop limit orders.' });
  else if (t.mode === 'NOTIONAL') Object.assign(out, { types: ['MARKET'], typeWhy: 'A dollar amount goes as a market order.' });
  else if (fractional) Object.assign(out, { types: ENTRY_TYPES, typeWhy: 'A fraction of a share goes as a market or limit order.' });
  else if (advanced) Object.assign(out, { types: ENTRY_TYPES, typeWhy: `The entry of a ${name} order is a market or limit order: no trailing stop inside it.` });

  if (crypto) Object.assign(out, { tifs: ['GTC', 'IOC'], tifWhy: 'Crypto trades around the clock: good till canceled or immediate or cancel only.' });
  else if (fractional) Object.assign(out, { tifs: ['DAY'], tifWhy: 'Orders for a fraction of a share or a dollar amount are day orders.' });
  else if (advanced) Object.assign(out, { tifs: ['DAY', 'GTC'], tifWhy: `${name} orders last the day or until canceled.` });
  else if (t.type === 'TRAILING_STOP') Object.assign(out, { tifs: ['DAY', 'GTC'], tifWhy: 'A trailing stop lasts the day or until canceled.' });

  out.extended = !crypto && !advanced && t.type === 'LIMIT' && t.tif === 'DAY';
  return out;
}

/** The ticket with every choice that no longer fits replaced by one that does. */
export function reconcile(t) {
  let next = { ...t };
  if (!allowed(next).classes.includes(next.orderClass)) next.orderClass = 'SIMPLE';
  const { types } = allowed(next);
  if (next.orderClass !== 'OCO' && !types.includes(next.type)) next.type = types[0];
  const { tifs, extended } = allowed(next);
  if (!tifs.includes(next.tif)) next.tif = tifs[0];
  if (!extended && next.extendedHours) next = { ...next, extendedHours: false };
  return next;
}

const orNull = (v) => (v === '' ? null : v);

/** The ticket as a PlaceOrderInput (without the idempotency key). */
export function orderInput(t, accountId) {
  const oco = t.orderClass === 'OCO';
  const type = oco ? 'LIMIT' : t.type; // an OCO pair is its two exits (api/trading/orders.py)
  const legs = t.orderClass !== 'SIMPLE';
  const trailing = type === 'TRAILING_STOP';
  return {
    accountId, symbol: t.symbol, side: t.side, type, timeInForce: t.tif, orderClass: t.orderClass,
    extendedHours: allowed(t).extended && t.extendedHours,
    qty: t.mode === 'QTY' ? t.amount : null, notional: t.mode === 'NOTIONAL' ? t.amount : null,
    limitPrice: !oco && NEEDS_LIMIT.has(type) ? t.limitPrice : null,
    stopPrice: !oco && NEEDS_STOP.has(type) ? t.stopPrice : null,
    trailPrice: trailing && t.trailBy === 'PRICE' ? t.trail : null,
    trailPercent: trailing && t.trailBy === 'PERCENT' ? t.trail : null,
    takeProfitLimitPrice: legs ? orNull(t.takeProfit) : null,
    stopLossStopPrice: legs ? orNull(t.stopLoss) : null,
    stopLossLimitPrice: legs ? orNull(t.stopLossLimit) : null,
  };
}

/** What is missing or malformed, by the input field the server would name. */
export function validate(input) {
  const e = {};
  if (!SYMBOL.test(input.symbol)) e.symbol = 'Enter a ticker symbol (AAPL) or a crypto pair (BTC/USD).';
  const amountField = input.notional !== null ? 'notional' : 'qty';
  if (!positive(input[amountField] ?? '')) e[amountField] = amountField === 'qty' ? 'Enter a quantity.' : 'Enter a dollar amount.';
  if (input.limitPrice !== null && !positive(input.limitPrice)) e.limitPrice = 'Enter a limit price.';
  if (input.stopPrice !== null && !positive(input.stopPrice)) e.stopPrice = 'Enter a stop price.';
  if (input.type === 'TRAILING_STOP') {
    const field = input.trailPrice !== null ? 'trailPrice' : 'trailPercent';
    if (!positive(input[field] ?? '')) e[field] = field === 'trailPrice' ? 'Enter the trail in dollars.' : 'Enter the trail in percent.';
  }
  for (const [field, label] of [['takeProfitLimitPrice', 'take-profit limit price'], ['stopLossStopPrice', 'stop-loss stop price'], ['stopLossLimitPrice', 'stop-loss limit price']]) {
    if (input[field] !== null && !positive(input[field])) e[field] = `Enter a ${label}.`;
  }
  const kind = input.orderClass;
  const tp = input.takeProfitLimitPrice !== null, sl = input.stopLossStopPrice !== null;
  if ((kind === 'BRACKET' || kind === 'OCO') && !tp) e.takeProfitLimitPrice ??= 'Enter a take-profit limit price.';
  if ((kind === 'BRACKET' || kind === 'OCO') && !sl) e.stopLossStopPrice ??= 'Enter a stop-loss stop price.';
  if (kind === 'OTO' && tp === sl) e.orderClass = 'An OTO order has one exit: a take-profit or a stop-loss (both make it a bracket).';
  if (input.stopLossLimitPrice !== null && !sl) e.stopLossStopPrice ??= 'A stop-loss limit price needs a stop price.';
  return e;
}

/** a × b of two decimal strings, exactly (BigInt on the digits, never a float). */
export function times(a, b) {
  const x = fmt.parseDecimal(a), y = fmt.parseDecimal(b);
  if (!x || !y) return null;
  const places = x.frac.length + y.frac.length;
  const digits = (BigInt(x.int + x.frac) * BigInt(y.int + y.frac)).toString().padStart(places + 1, '0');
  const int = digits.slice(0, digits.length - places);
  return `${x.neg !== y.neg ? '-' : ''}${int}${places ? `.${digits.slice(digits.length - places)}` : ''}`;
}

/** The price an order's cost is estimated at, and what it is: {price, basis}. */
function referencePrice(input, quote) {
  if (input.limitPrice) return { price: input.limitPrice, basis: 'limit price' };
  if (input.stopPrice) return { price: input.stopPrice, basis: 'stop price' };
  if (!quote) return null;
  const buy = input.side === 'BUY';
  const near = buy ? quote.askPrice : quote.bidPrice;
  const far = buy ? quote.bidPrice : quote.askPrice;
  if (fmt.sign(near) > 0) return { price: near, basis: buy ? 'ask' : 'bid' };
  return fmt.sign(far) > 0 ? { price: far, basis: buy ? 'bid' : 'ask' } : null;
}

/** {value, basis} of the estimated cost (buy) or proceeds (sell), or null when unknown. */
export function estimate(input, quote) {
  if (input.notional) return positive(input.notional) ? { value: input.notional, basis: 'amount' } : null;
  if (!positive(input.qty ?? '')) return null;
  const ref = input.orderClass === 'OCO' ? null : referencePrice(input, quote);
  return ref && positive(ref.price) ? { value: times(input.qty, ref.price), basis: ref.basis } : null;
}

/** "limit $185.00", "stop $170.00 limit $169.50", "trailing 5%", "at market" for a ticket input. */
export function priceWords(input) {
  if (input.orderClass === 'OCO') return 'exits only';
  const parts = [];
  if (input.stopPrice) parts.push(`stop ${fmt.price(input.stopPrice)}`);
  if (input.limitPrice) parts.push(`limit ${fmt.price(input.limitPrice)}`);
  if (input.trailPercent) parts.push(`trailing ${fmt.qty(input.trailPercent)}%`);
  if (input.trailPrice) parts.push(`trailing ${fmt.price(input.trailPrice)}`);
  return parts.join(' ') || 'at market';
}
