// Display formatting for money, quantities and percentages.
//
// Money arrives as Decimal strings ("1234.5", "-0.01", "1E+3", "0E-8"). We never
// turn them into floats: rounding and digit grouping are done on the digits, so
// what is shown is exactly the server's value rounded half away from zero.

const DEC_RE = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

/** Parse a decimal string into {neg, int, frac} (digit strings, int without
 * leading zeros, at least "0"). Returns null for anything that is not a decimal. */
export function parseDecimal(value) {
  if (value === null || value === undefined) return null;
  const s = typeof value === 'string' ? value : String(value);
  const m = DEC_RE.exec(s);
  if (!m || (!m[2] && !m[3])) return null;
  let digits = (m[2] || '') + (m[3] || '');
  let point = (m[2] || '').length + (m[4] ? parseInt(m[4], 10) : 0);
  if (point < 0) { digits = '0'.repeat(-point) + digits; point = 0; }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const int = digits.slice(0, point).replace(/^0+/, '') || '0';
  const frac = digits.slice(point);
  const zero = /^0*$/.test(int + frac);
  return { neg: m[1] === '-' && !zero, int, frac };
}

/** -1, 0 or 1 for a decimal string (0 for null/unparseable). */
export function sign(value) {
  const d = parseDecimal(value);
  if (!d) return 0;
  if (/^0*$/.test(d.int + d.frac)) return 0;
  return d.neg ? -1 : 1;
}

/** Round to `places` decimals, half away from zero; returns {neg, int, frac}. */
function round(d, places) {
  let frac = d.frac.padEnd(places + 1, '0');
  const roundUp = frac[places] >= '5';
  frac = frac.slice(0, places);
  let digits = d.int + frac;
  if (roundUp) {
    const arr = digits.split('');
    let i = arr.length - 1;
    while (i >= 0) {
      if (arr[i] === '9') { arr[i] = '0'; i--; }
      else { arr[i] = String(+arr[i] + 1); break; }
    }
    digits = (i < 0 ? '1' : '') + arr.join('');
  }
  const int = digits.slice(0, digits.length - places).replace(/^0+/, '') || '0';
  const f = digits.slice(digits.length - places);
  const zero = /^0*$/.test(int + f);
  return { neg: d.neg && !zero, int, frac: f };
}

function group(int) {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const MINUS = '\u2212'; // a real minus sign, not a hyphen

const SYMBOLS = { USD: '$', EUR: '€', GBP: '£', JPY: '¥', CAD: 'CA$', AUD: 'A$' };

/** "$1,234.57", "−$12.00"; with {signed:true} also "+$3.10". */
export function money(value, { currency = 'USD', signed = false, places = 2 } = {}) {
  const d = parseDecimal(value);
  if (!d) return '—';
  const r = round(d, places);
  const sym = SYMBOLS[currency] ?? `${currency} `;
  const body = `${sym}${group(r.int)}${places ? '.' + r.frac : ''}`;
  if (r.neg) return MINUS + body;
  if (signed && !/^0*$/.test(r.int + r.frac)) return '+' + body;
  return body;
}

/** Price: to the cent from a dollar up (the tick of US stocks, so an average
 * entry price of 150.123456 reads $150.12); below a dollar up to 4 decimals
 * when the value carries them (sub-penny ticks). */
export function price(value, opts = {}) {
  const d = parseDecimal(value);
  if (!d) return '—';
  const sig = d.frac.replace(/0+$/, '').length;
  const subDollar = d.int === '0';
  return money(value, { ...opts, places: subDollar ? Math.min(Math.max(2, sig), 4) : 2 });
}

/** Quantity: exact digits, grouped, trailing zeros dropped ("10", "0.5", "1,200"). */
export function qty(value) {
  const d = parseDecimal(value);
  if (!d) return '—';
  const frac = d.frac.replace(/0+$/, '').slice(0, 9);
  return (d.neg ? MINUS : '') + group(d.int) + (frac ? '.' + frac : '');
}

/** Percent from a value already in percent units ("1.234" -> "+1.23%"). */
export function percent(value, { signed = true, places = 2 } = {}) {
  const d = parseDecimal(value);
  if (!d) return '—';
  const r = round(d, places);
  const zero = /^0*$/.test(r.int + r.frac);
  const body = `${group(r.int)}.${r.frac}%`;
  if (r.neg) return MINUS + body;
  return signed && !zero ? '+' + body : body;
}

/** Percent from a fraction ("0.0123" -> "+1.23%"): the decimal point is moved
 * two places on the digits, no multiplication. Alpaca's *_plpc and
 * change_today fields are fractions. */
export function fractionPercent(value, opts) {
  const d = parseDecimal(value);
  if (!d) return '—';
  const digits = d.int + d.frac.padEnd(2, '0');
  const int = digits.slice(0, d.int.length + 2);
  const frac = digits.slice(d.int.length + 2);
  return percent(`${d.neg ? '-' : ''}${int}.${frac || '0'}`, opts);
}

// The planned schema names it dayChangePercent; we read it as percent units
// ("1.25" = 1.25 %). If the server sends a fraction, flip this one constant.
export const DAY_CHANGE_IS_FRACTION = false;
export function dayChangePercent(value) {
  return DAY_CHANGE_IS_FRACTION ? fractionPercent(value) : percent(value);
}

/** "pos" | "neg" | "flat": the CSS tone of a signed value (always paired with a
 * sign in the text, so colour is never the only cue). */
export function tone(value) {
  const s = sign(value);
  return s > 0 ? 'pos' : s < 0 ? 'neg' : 'flat';
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : timeFmt.format(d);
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTimeFmt.format(d);
}

/** "just now", "5 s ago", "3 min ago", "2 h ago" */
export function ago(ms, now = Date.now()) {
  if (!ms) return '';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Human names for enums. */
export const SIDE = { BUY: 'Buy', SELL: 'Sell' };
export const TYPE = { MARKET: 'Market', LIMIT: 'Limit', STOP: 'Stop', STOP_LIMIT: 'Stop limit', TRAILING_STOP: 'Trailing stop' };
export const TIF = { DAY: 'Day', GTC: 'Good till canceled', IOC: 'Immediate or cancel', FOK: 'Fill or kill', OPG: 'At the open', CLS: 'At the close' };

export function statusLabel(status) {
  return (status || '').replace(/_/g, ' ').toLowerCase();
}

/** Order statuses as a person says them: Alpaca's names (lower case) in, words out.
 * "new", "accepted" and friends are all an order still waiting to fill: "Working". */
export const ORDER_STATUS = {
  new: 'Working', accepted: 'Working', pending_new: 'Working', accepted_for_bidding: 'Working',
  calculated: 'Working', held: 'Waiting', suspended: 'Suspended', partially_filled: 'Partly filled',
  filled: 'Filled', done_for_day: 'Done for today', canceled: 'Canceled', expired: 'Expired',
  replaced: 'Replaced', pending_cancel: 'Canceling', pending_replace: 'Changing', stopped: 'Stopped',
  rejected: 'Rejected',
};

/** "Working", "Filled", "Canceled" …; an unknown status is shown as sent, in words. */
export function orderStatus(status) {
  const key = (status || '').toLowerCase();
  const words = ORDER_STATUS[key] || statusLabel(status);
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Sum decimal strings exactly (no floats): "0.1" + "0.2" = "0.3". Null/unparseable are skipped. */
export function sum(values) {
  const parts = values.map(parseDecimal).filter(Boolean);
  const places = Math.max(0, ...parts.map((d) => d.frac.length));
  let total = 0n;
  for (const d of parts) {
    const n = BigInt(d.int + d.frac.padEnd(places, '0'));
    total += d.neg ? -n : n;
  }
  const neg = total < 0n;
  const digits = (neg ? -total : total).toString().padStart(places + 1, '0');
  const int = digits.slice(0, digits.length - places), frac = digits.slice(digits.length - places);
  return `${neg ? '-' : ''}${int}${places ? '.' + frac : ''}`;
}

/** Order statuses that can still be canceled (Alpaca's open states). */
const OPEN_STATUSES = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'accepted_for_bidding', 'held', 'pending_replace', 'calculated', 'suspended']);
export function isOpenStatus(status) {
  return OPEN_STATUSES.has((status || '').toLowerCase());
}

/** Compare two decimal strings exactly: -1, 0, 1 (null sorts first). */
export function compare(a, b) {
  const x = parseDecimal(a), y = parseDecimal(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const dir = x.neg ? -1 : 1;
  if (x.int.length !== y.int.length) return (x.int.length > y.int.length ? 1 : -1) * dir;
  const n = Math.max(x.frac.length, y.frac.length);
  const xs = x.int + x.frac.padEnd(n, '0'), ys = y.int + y.frac.padEnd(n, '0');
  return xs === ys ? 0 : (xs > ys ? 1 : -1) * dir;
}
