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

  // Load (or refresh, to pick up other devices' messages) the conversation of this account.
  useEffect(() => { if (id) loadHistory(id); }, [id]);
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
  const onKey = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && matchMedia('(pointer: fine)').matches) submit(e);
  };

  return html`<section class="chat" aria-label=${`Chat about ${acc.nickname}`} data-testid="chat" data-account-id=${id}>
    <div class="chat-bar">
      <span class="muted small">Chat acts on</span> <${AccountTag} account=${acc} testid="chat-account" />
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

// ── tool results: tables for lists, key/value for objects ──────────────────
const LABELS = { symbol: 'Symbol', qty: 'Qty', side: 'Side', market_value: 'Value', marketValue: 'Value',
  unrealized_pl: 'P/L', unrealizedPl: 'P/L', avg_entry_price: 'Avg', avgEntryPrice: 'Avg', current_price: 'Price',
  currentPrice: 'Price', status: 'Status', type: 'Type', limit_price: 'Limit', limitPrice: 'Limit' };
const PREFERRED = ['symbol', 'side', 'qty', 'type', 'status', 'avg_entry_price', 'avgEntryPrice', 'current_price', 'currentPrice',
  'market_value', 'marketValue', 'unrealized_pl', 'unrealizedPl', 'limit_price', 'limitPrice'];
const SIGNED = new Set(['unrealized_pl', 'unrealizedPl', 'unrealized_plpc', 'unrealizedPlpc', 'change_today', 'changeToday', 'day_change', 'dayChange']);

function parseMaybe(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

function cell(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  if (SIGNED.has(key)) return html`<span class=${`tone-${fmt.tone(v)}`}>${/plpc|change_today|changeToday/.test(key) ? fmt.fractionPercent(v) : fmt.money(v, { signed: true })}</span>`;
  return String(v);
}

function ToolResult({ call }) {
  const result = parseMaybe(call.result);
  const name = call.name.replace(/_/g, ' ');
  const refusal = refusalText(result?.error);
  if (refusal) {
    // The owner's limits said no: one plain sentence, not the raw result.
    return html`<p class="refusal" role="note" data-testid="tool-refusal" data-tool=${call.name} data-guard=${result.error.guard || result.error.code}>${refusal}</p>`;
  }
  let body;
  const rows = Array.isArray(result) ? result : Array.isArray(result?.positions) ? result.positions : Array.isArray(result?.orders) ? result.orders : null;
  if (rows && rows.length && typeof rows[0] === 'object') {
    const keys = Object.keys(rows[0]);
    const cols = [...PREFERRED.filter((k) => keys.includes(k)), ...keys.filter((k) => !PREFERRED.includes(k))].slice(0, 6);
    body = html`<div class="table-wrap"><table class="tool-table">
      <thead><tr>${cols.map((c) => html`<th scope="col">${LABELS[c] || c.replace(/_/g, ' ')}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>${cols.map((c) => html`<td>${cell(c, r[c])}</td>`)}</tr>`)}</tbody>
    </table></div>`;
  } else if (rows) {
    body = html`<p class="muted small">None.</p>`;
  } else if (result && typeof result === 'object') {
    body = html`<dl class="kv">${Object.entries(result).slice(0, 12).map(([k, v]) => html`<div><dt>${k.replace(/_/g, ' ')}</dt><dd>${cell(k, v)}</dd></div>`)}</dl>`;
  } else {
    body = html`<p class="small">${result === undefined || result === null ? '…' : String(result)}</p>`;
  }
  return html`<details class="tool" data-testid="tool-result" data-tool=${call.name} open=${!!rows}>
    <summary>${name}</summary>
    ${body}
  </details>`;
}
