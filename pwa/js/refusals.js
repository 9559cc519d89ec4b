// A refusal by the account's own limits, said in one sentence: which limit, what it
// allows, what this order would have been. The server sends the guard, the limit
// and the value (LIMIT_EXCEEDED's extensions, and the same keys in a chat tool's
// error result); the words for each guard live here, for the ticket and the chat.

import * as fmt from './format.js';

const WHOLE = /^\d+(\.0+)?$/;
const amount = (v) => fmt.money(v, { places: WHOLE.test(String(v)) ? 0 : 2 });

const GUARDS = {
  max_order_notional: (l, v) => `Refused by your max order size: ${amount(l)} limit, this order ${amount(v)}`,
  max_daily_loss: (l, v) => `Refused by your max daily loss: ${amount(l)} limit, down ${amount(v)} today`,
  max_orders_per_day: (l, v) => `Refused by your max orders per day: ${l} a day, this would be order ${v}`,
  symbol_denied: (l, v) => `Refused by your denied symbols: ${v} is on the list`,
  symbol_not_allowed: (l, v) => `Refused by your allowed symbols: ${v} is not one of ${l}`,
  short_not_allowed: (l, v) => `Refused by your no-shorting limit: this would sell ${v} short`,
};

/**
 * The sentence for a refusal `{code, guard, limit, value, message}`, or null when it is
 * not one (any other error). ACCOUNT_HALTED says how to trade again.
 */
export function refusalText(e) {
  if (!e) return null;
  if (e.code === 'ACCOUNT_HALTED') return 'Refused: trading is halted on this account. Resume it to place orders; closing positions still works.';
  if (e.code !== 'LIMIT_EXCEEDED') return null;
  const words = GUARDS[e.guard];
  const known = words && e.limit != null && e.value != null && e.value !== 'unknown';
  return known ? `${words(e.limit, e.value)}.` : (e.message || 'Refused by your limits.');
}
