// Chat bound to the selected account. History is loaded per account; a reply
// always lands in the conversation of the account it was sent for, even if the
// user switched meanwhile. Proposals render as cards with Confirm / Dismiss.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, createStore } from '../store.js';
import * as fmt from '../format.js';
import { refusalText } from '../refusals.js';
import { ErrorText, AccountTag } from './ui.js';
import { NoAccount } from './ui.js';
import { ProposalCard } from './proposal.js';
import { OrderRow } from './orders.js';
import { LinkedText } from './market.js';

// accountId -> { messages, loaded, pending, error }
const chats = createStore({});
const EMPTY_CHAT = { messages: [], loaded: false, pending: 0, error: null };
function patchChat(id, fn) {
  // Fields `fn` leaves out keep their value (a reply must not mark the history unloaded).
  chats.set((all) => {
    const current = { ...EMPTY_CHAT, ...all[id] };
    return { [id]: { ...current, ...fn(current) } };
  });
}

/** Forget every conversation held in memory (sign-out). */
export function resetChats() { chats.reset({}); }

function useChat(id) {
  const [c, setC] = useState(() => chats.get()[id]);
  useEffect(() => {
    setC(chats.get()[id]);
    return chats.subscribe((all) => setC(all[id]));
  }, [id]);
  return c || { messages: [], loaded: false, pending: 0, error: null };
}

async function loadHistory(id) {
  try {
    const msgs = (await request(ops.CHAT_HISTORY, { accountId: id, limit: 100 })).chatHistory;
    patchChat(id, (c) => ({ messages: mergeMessages(msgs, c.messages), loaded: true, error: null }));
  } catch (error) {
    patchChat(id, () => ({ error, loaded: true }));
  }
}

function mergeMessages(a, b) {
  const seen = new Set(a.map((m) => m.id));
  return [...a, ...b.filter((m) => !seen.has(m.id))];
}

async function send(id, text) {
  const localId = `local-${Date.now()}`;
  const local = { id: localId, local: true, role: 'USER', text, createdAt: new Date().toISOString(), toolCalls: [], proposals: [], orders: [] };
  patchChat(id, (c) => ({ messages: [...c.messages, local], pending: c.pending + 1, error: null }));
  try {
    const turn = (await request(ops.SEND_CHAT_MESSAGE, { text, accountId: id })).sendChatMessage;
    patchChat(id, (c) => ({ messages: [...c.messages.filter((m) => m.id !== localId), turn.userMessage, turn.reply], pending: c.pending - 1 }));
  } catch (error) {
    patchChat(id, (c) => ({
      messages: c.messages.map((m) => (m.id === localId ? { ...m, failed: true } : m)), pending: c.pending - 1, error,
    }));
  }
}

export function ChatPage() {
  const acc = useStore(activeAccount);
  const online = useStore((s) => s.online);
  const id = acc?.id;
  const chat = useChat(id);
  const [text, setText] = useState('');
  const list = useRef(null);
  const input = useRef(null);

  // Load (or refresh, to pick up other devices' messages) the conversation of this account;
  // again when the connection goes or returns: offline it says so (instead of "Loading…"),
  // and back online the history that failed is loaded and the offline error cleared.
  useEffect(() => { if (id) loadHistory(id); }, [id, online]);
  // Keep the newest message in view (new messages, the pending bubble, the keyboard opening).
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [chat.messages.length, chat.pending, id]);
  useEffect(() => {
    const vv = window.visualViewport;
    if (!vv) return undefined;
    const onResize = () => { const el = list.current; if (el && document.activeElement === input.current) el.scrollTop = el.scrollHeight; };
    vv.addEventListener('resize', onResize);
    return () => vv.removeEventListener('resize', onResize);
  }, []);

  if (!acc) return html`<${NoAccount} />`;

  const submit = (e) => {
    e.preventDefault();
    const t = text.trim();
    if (!t || !online) return;
    setText('');
    send(id, t);
    input.current?.focus();
  };
  // Enter sends, as the keyboard's "Send" key promises (enterkeyhint), on phones too;
  // Shift+Enter is a new line, and Enter that ends an IME composition only commits it.
  const onKey = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
  };

  return html`<section class="chat" aria-label=${`Chat about ${acc.nickname}`} data-testid="chat" data-account-id=${id}>
    <div class="chat-bar">
      <span class="muted small">Chat acts on</span> <${AccountTag} account=${acc} testid="chat-account" />
      ${acc.environment === 'PAPER' && acc.chatAutoExecute && html`<a class="tag tag-auto" href="#/accounts" data-testid="chat-auto-execute"
        title="The chat places orders on this paper account without asking; change it on the Accounts page">Auto-execute on</a>`}
    </div>
    <ol class="messages" ref=${list} data-testid="chat-messages" aria-live="polite" aria-relevant="additions" tabindex="0" aria-label="Messages">
      ${chat.loaded && chat.messages.length === 0 && html`<li class="chat-empty muted">
        <p>Ask about <strong>${acc.nickname}</strong>: “balance”, “positions”, “orders”, “quote AAPL”, “buy 1 AAPL”, “cancel …”.</p>
        <p class="small">Orders the chat suggests appear as cards; nothing is placed ${acc.environment === 'LIVE' ? 'on a live account ' : ''}without your confirmation${acc.chatAutoExecute && acc.environment === 'PAPER' ? ' (auto-execute is on for this paper account)' : ''}.</p>
      </li>`}
      ${!chat.loaded && html`<li class="muted" aria-busy="true">Loading conversation…</li>`}
      ${chat.messages.map((m) => html`<${Message} key=${m.id} m=${m} />`)}
      ${chat.pending > 0 && html`<li class="msg msg-assistant" data-testid="chat-pending" aria-label="Assistant is working">
        <span class="typing" aria-hidden="true"><i></i><i></i><i></i></span><span class="sr-only">Working…</span></li>`}
    </ol>
    <${ErrorText} error=${chat.error} testid="chat-error" />
    <form class="composer" onSubmit=${submit}>
      <label for="chat-input" class="sr-only">Message to the chat about ${acc.nickname}</label>
      <textarea id="chat-input" ref=${input} rows="1" data-testid="chat-input" placeholder=${online ? `Message (${acc.nickname}, ${acc.environment})` : 'Offline'}
        enterkeyhint="send" autocomplete="off" value=${text} onInput=${(e) => setText(e.target.value)} onKeyDown=${onKey} disabled=${!online}></textarea>
      <button type="submit" class="btn btn-primary send-btn" data-testid="chat-send" disabled=${!text.trim() || !online} aria-label="Send">
        <span aria-hidden="true">➤</span></button>
    </form>
  </section>`;
}

// Tools whose result is an order proposal: the proposal card already shows it.
const PROPOSING = new Set(['propose_order', 'close_position', 'close_all_positions', 'cancel_order']);

/** The symbols a message's tools and proposals were about: the words worth linking. */
function symbolsOf(m) {
  const found = new Set((m.proposals || []).map((p) => p.symbol).filter(Boolean));
  for (const t of m.toolCalls || []) {
    const args = parseMaybe(t.arguments);
    if (args?.symbol) found.add(String(args.symbol));
    for (const item of parseMaybe(t.result)?.positions || parseMaybe(t.result)?.matches || []) {
      if (item?.symbol) found.add(String(item.symbol));
    }
  }
  return found;
}

function Message({ m }) {
  const mine = m.role === 'USER';
  const calls = (m.toolCalls || []).filter((t) => !(m.proposals?.length && PROPOSING.has(t.name) && parseMaybe(t.result)?.proposal));
  return html`<li class=${`msg ${mine ? 'msg-user' : 'msg-assistant'} ${m.failed ? 'is-failed' : ''}`} data-testid="chat-message" data-role=${m.role}>
    ${m.text && html`<div class="msg-text"><${LinkedText} text=${m.text} symbols=${symbolsOf(m)} /></div>`}
    ${calls.map((t, i) => html`<${ToolResult} key=${i} call=${t} />`)}
    ${m.orders?.length > 0 && html`<ul class="rows">${m.orders.map((o) => html`<${OrderRow} key=${o.id} o=${o} compact=${true} />`)}</ul>`}
    ${m.proposals?.map((p) => html`<${ProposalCard} key=${p.id} proposal=${p} />`)}
    <div class="msg-meta">${m.failed ? 'Not sent' : fmt.time(m.createdAt)}</div>
  </li>`;
}

function parseMaybe(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

// ── tool results: a readable summary first, the raw values behind "Details" ──
const TITLES = {
  account_summary: 'Account summary', positions: 'Positions', orders: 'Orders', quote: 'Quote',
  propose_order: 'Order proposal', cancel_order: 'Cancel orders', close_position: 'Close position',
  close_all_positions: 'Close all positions', find_symbol: 'Symbol search',
};
const LABELS = {
  symbol: 'Symbol', qty: 'Qty', side: 'Side', type: 'Type', status: 'Status', avg_entry_price: 'Avg price',
  current_price: 'Price', market_value: 'Value', unrealized_pl: 'P/L', unrealized_plpc: 'P/L %',
  limit_price: 'Limit', stop_price: 'Stop', filled_qty: 'Filled', notional: 'Amount', time_in_force: 'Time in force',
  submitted_at: 'Submitted', cash: 'Cash', equity: 'Equity', buying_power: 'Buying power',
  portfolio_value: 'Portfolio value', day_change: 'Today', day_change_percent: 'Today %', bid: 'Bid', ask: 'Ask',
  as_of: 'As of', nickname: 'Account', currency: 'Currency', estimated_cost: 'Estimated cost', expires_at: 'Expires',
};
// The columns a person reads first, in this order; the rest are in Details.
const COLUMNS = {
  positions: ['symbol', 'qty', 'avg_entry_price', 'current_price', 'market_value', 'unrealized_pl'],
  orders: ['symbol', 'side', 'qty', 'type', 'limit_price', 'status'],
};
const MONEY = new Set(['cash', 'equity', 'buying_power', 'portfolio_value', 'market_value', 'cost_basis', 'notional', 'estimated_cost']);
const PRICES = new Set(['avg_entry_price', 'current_price', 'limit_price', 'stop_price', 'bid', 'ask', 'filled_avg_price', 'trail_price']);
const QTYS = new Set(['qty', 'filled_qty']);
const TIMES = new Set(['as_of', 'submitted_at', 'expires_at', 'created_at', 'filled_at']);

function Signed({ value, text }) {
  return html`<span class=${`tone-${fmt.tone(value)}`}>${text}</span>`;
}

/** One value as the screens show it: money, prices, quantities, signed P/L, human words. */
function cell(key, v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return Array.isArray(v) ? v.join(', ') : '…';
  if (key === 'unrealized_pl' || key === 'day_change') return html`<${Signed} value=${v} text=${fmt.money(v, { signed: true })} />`;
  if (key === 'unrealized_plpc' || key === 'change_today') return html`<${Signed} value=${v} text=${fmt.fractionPercent(v)} />`;
  if (key === 'day_change_percent') return html`<${Signed} value=${v} text=${fmt.percent(v)} />`;
  if (MONEY.has(key)) return fmt.money(v);
  if (PRICES.has(key)) return fmt.price(v);
  if (QTYS.has(key)) return fmt.qty(v);
  if (TIMES.has(key)) return fmt.dateTime(v);
  if (key === 'status') return fmt.orderStatus(v);
  if (key === 'side') return fmt.SIDE[String(v).toUpperCase()] || v;
  if (key === 'type') return fmt.TYPE[String(v).toUpperCase()] || String(v).replace(/_/g, ' ');
  if (key === 'time_in_force') return String(v).toUpperCase();
  return String(v);
}

function Table({ rows, tool }) {
  const keys = Object.keys(rows[0]);
  const cols = (COLUMNS[tool] || keys).filter((k) => keys.includes(k)).slice(0, 6);
  const title = TITLES[tool] || tool;
  // A table wider than the bubble scrolls sideways: focusable, so a keyboard can scroll it too.
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${`${title} table`}>
    <table class="tool-table">
      <thead><tr>${cols.map((c) => html`<th scope="col">${LABELS[c] || c.replace(/_/g, ' ')}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>${cols.map((c) => html`<td>${cell(c, r[c])}</td>`)}</tr>`)}</tbody>
    </table></div>`;
}

function Facts({ result, keys }) {
  const shown = keys.filter((k) => result[k] !== undefined && result[k] !== null);
  return html`<dl class="tool-facts">${shown.map((k) => html`<div><dt>${LABELS[k] || k.replace(/_/g, ' ')}</dt><dd>${cell(k, result[k])}</dd></div>`)}</dl>`;
}

/** The readable part of a tool's result. */
function Summary({ tool, result }) {
  if (result?.error) return html`<p class="error-text">${result.error.message || 'That did not work.'}</p>`;
  const rows = Array.isArray(result?.positions) ? result.positions : Array.isArray(result?.orders) ? result.orders : null;
  if (rows) return rows.length && typeof rows[0] === 'object' ? html`<${Table} rows=${rows} tool=${result.positions ? 'positions' : 'orders'} />`
    : html`<p class="small">${result.positions ? 'No open positions.' : 'No orders.'}</p>`;
  if (tool === 'account_summary') return html`<${Facts} result=${result} keys=${['cash', 'equity', 'buying_power', 'day_change', 'day_change_percent']} />`;
  if (tool === 'quote') return html`<p class="small"><strong>${result.symbol}</strong> bid ${fmt.price(result.bid)} · ask ${fmt.price(result.ask)}</p>`;
  if (result?.proposal) return html`<p class="small">${result.proposal.summary} · ${fmt.statusLabel(result.proposal.status)}</p>`;
  if (result?.order) return html`<p class="small">${fmt.SIDE[String(result.order.side).toUpperCase()] || ''} ${fmt.qty(result.order.qty)} ${result.order.symbol}: <strong>${fmt.orderStatus(result.order.status)}</strong></p>`;
  if (Array.isArray(result?.canceled)) {
    const n = result.canceled.length;
    return html`<p class="small">${n === 0 ? 'No open orders to cancel.' : `Cancel requested for ${n} order${n === 1 ? '' : 's'}.`}</p>`;
  }
  if (Array.isArray(result?.matches)) return html`<p class="small">${result.matches.length ? result.matches.map((m) => `${m.symbol} (${m.name})`).join(' · ') : 'No match.'}</p>`;
  if (result && typeof result === 'object') return html`<${Facts} result=${result} keys=${Object.keys(result).slice(0, 8)} />`;
  return html`<p class="small">${result === undefined || result === null ? '…' : String(result)}</p>`;
}

function ToolResult({ call }) {
  const result = parseMaybe(call.result);
  const refusal = refusalText(result?.error);
  if (refusal) {
    // The owner's limits said no: one plain sentence, not the raw result.
    return html`<p class="refusal" role="note" data-testid="tool-refusal" data-tool=${call.name} data-guard=${result.error.guard || result.error.code}>${refusal}</p>`;
  }
  const title = TITLES[call.name] || call.name.replace(/_/g, ' ');
  return html`<div class="tool" data-testid="tool-result" data-tool=${call.name}>
    <p class="tool-title">${title}</p>
    <div data-testid="tool-summary"><${Summary} tool=${call.name} result=${result} /></div>
    <details class="tool-details" data-testid="tool-details">
      <summary>Details</summary>
      <pre class="tool-raw">${typeof result === 'string' ? result : JSON.stringify(result, null, 2)}</pre>
    </details>
  </div>`;
}
