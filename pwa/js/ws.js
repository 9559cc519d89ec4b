// A small graphql-transport-ws client (the protocol of graphql-ws / Strawberry).
//
// Why our own: ~200 lines cover what the app needs — lazy connect, cookie auth
// on the same origin, keep-alive pings to notice dead mobile sockets, reconnect
// with exponential backoff and full jitter, re-subscribing everything after a
// reconnect — and expose the connection state so the UI can say "stale".
//
// Protocol: client sends connection_init, server answers connection_ack; then
// subscribe{id,payload} -> next*{id,payload} -> complete|error; ping/pong both ways.

import { errorFromGraphQL } from './graphql.js';

const ACK_TIMEOUT = 10_000;
const PING_EVERY = 20_000;
const PONG_TIMEOUT = 10_000;
const BACKOFF_BASE = 500;
const BACKOFF_MAX = 30_000;
const LINGER = 3_000; // keep an idle socket this long before closing it

const utf8 = new TextDecoder();

// Close codes after which reconnecting cannot help until the user signs in again.
const AUTH_CLOSE = new Set([4401, 4403]);

export function defaultUrl(loc = location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/graphql`;
}

/** Connection states: idle (no subscriptions), connecting, open, reconnecting, unauthorized. */
export function createClient({ url = defaultUrl(), connectionParams = () => ({}), WebSocketImpl = WebSocket } = {}) {
  let ws = null;
  let state = 'idle';
  let attempt = 0;
  let retryTimer = 0, ackTimer = 0, pingTimer = 0, pongTimer = 0, lingerTimer = 0;
  let nextId = 1;
  let lastMessageAt = 0;
  const subs = new Map(); // id -> {payload, sink, active}
  const stateListeners = new Set();

  function setState(s) {
    if (s === state) return;
    state = s;
    for (const fn of stateListeners) fn(s);
  }

  function clearTimers() {
    clearTimeout(retryTimer); clearTimeout(ackTimer); clearInterval(pingTimer); clearTimeout(pongTimer);
    retryTimer = ackTimer = pingTimer = pongTimer = 0;
  }

  function send(msg) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg));
  }

  function connect() {
    clearTimers();
    if (ws) return;
    setState(attempt === 0 && state !== 'reconnecting' ? 'connecting' : 'reconnecting');
    let sock;
    try { sock = new WebSocketImpl(url, 'graphql-transport-ws'); } catch { scheduleReconnect(); return; }
    ws = sock;
    // The protocol sends JSON as text frames, but a server may send binary ones
    // (UTF-8 JSON): read both, so a binary frame is never an "invalid message".
    sock.binaryType = 'arraybuffer';
    let acked = false;
    sock.onopen = () => {
      sock.send(JSON.stringify({ type: 'connection_init', payload: connectionParams() || {} }));
      ackTimer = setTimeout(() => sock.close(4408, 'Connection acknowledgement timeout'), ACK_TIMEOUT);
    };
    sock.onmessage = (ev) => {
      lastMessageAt = Date.now();
      let msg;
      try { msg = JSON.parse(typeof ev.data === 'string' ? ev.data : utf8.decode(ev.data)); } catch { sock.close(4400, 'Invalid message'); return; }
      switch (msg.type) {
        case 'connection_ack':
          acked = true; attempt = 0;
          clearTimeout(ackTimer);
          startKeepAlive(sock);
          setState('open');
          for (const [id, sub] of subs) send({ id, type: 'subscribe', payload: sub.payload });
          break;
        case 'ping': send({ type: 'pong', payload: msg.payload }); break;
        case 'pong': clearTimeout(pongTimer); pongTimer = 0; break;
        case 'next': {
          const sub = subs.get(msg.id);
          if (!sub) break;
          const p = msg.payload || {};
          if (p.errors?.length && !p.data) sub.sink.error?.(errorFromGraphQL(p.errors));
          else sub.sink.next?.(p.data, p.errors);
          break;
        }
        case 'error': {
          const sub = subs.get(msg.id);
          subs.delete(msg.id);
          sub?.sink.error?.(errorFromGraphQL(Array.isArray(msg.payload) ? msg.payload : [msg.payload]));
          lingerIfIdle();
          break;
        }
        case 'complete': {
          const sub = subs.get(msg.id);
          subs.delete(msg.id);
          sub?.sink.complete?.();
          lingerIfIdle();
          break;
        }
        default: break;
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      clearTimers();
      if (AUTH_CLOSE.has(ev.code)) {
        setState('unauthorized');
        for (const sub of subs.values()) sub.sink.error?.(errorFromGraphQL([{ message: 'Unauthorized', extensions: { code: 'UNAUTHENTICATED' } }]));
        subs.clear();
        return;
      }
      if (!acked && ev.code === 4429) attempt++;
      if (subs.size === 0) { setState('idle'); attempt = 0; return; }
      scheduleReconnect();
    };
    sock.onerror = () => { /* onclose follows and handles it */ };
  }

  function startKeepAlive(sock) {
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (Date.now() - lastMessageAt < PING_EVERY / 2) return; // traffic proves liveness
      send({ type: 'ping' });
      clearTimeout(pongTimer);
      pongTimer = setTimeout(() => sock.close(4499, 'Pong timeout'), PONG_TIMEOUT);
    }, PING_EVERY);
  }

  function scheduleReconnect() {
    setState('reconnecting');
    clearTimeout(retryTimer);
    // Full jitter: uniform in [0, min(max, base * 2^attempt)], at least 250 ms.
    const cap = Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt);
    const delay = Math.max(250, Math.random() * cap);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  function lingerIfIdle() {
    if (subs.size || !ws) return;
    clearTimeout(lingerTimer);
    lingerTimer = setTimeout(() => {
      if (subs.size || !ws) return;
      const sock = ws; ws = null; clearTimers(); sock.close(1000, 'Normal Closure'); setState('idle');
    }, LINGER);
  }

  /** Reconnect immediately (e.g. the browser came back online or the tab became visible). */
  function retryNow() {
    if (subs.size === 0) return;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    attempt = 0;
    clearTimeout(retryTimer);
    connect();
  }

  return {
    /** Subscribe; `sink` has next(data, errors), error(ApiError), complete(). Returns unsubscribe. */
    subscribe(doc, variables, sink) {
      const id = String(nextId++);
      const payload = { query: doc.query, operationName: doc.operationName, variables: variables || {} };
      subs.set(id, { payload, sink });
      clearTimeout(lingerTimer);
      if (!ws) { if (state === 'unauthorized') setState('idle'); connect(); }
      else if (state === 'open') send({ id, type: 'subscribe', payload });
      return () => {
        if (!subs.delete(id)) return;
        if (state === 'open') send({ id, type: 'complete' });
        lingerIfIdle();
      };
    },
    get state() { return state; },
    onState(fn) { stateListeners.add(fn); return () => stateListeners.delete(fn); },
    retryNow,
    /** Drop the socket without reconnecting (sign-out). */
    dispose() {
      subs.clear(); clearTimers(); clearTimeout(lingerTimer);
      const sock = ws; ws = null;
      if (sock) sock.close(1000, 'Normal Closure');
      attempt = 0;
      setState('idle');
    },
  };
}
