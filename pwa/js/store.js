// One small observable store for the app's shared state, and a hook to read it.
// Screens keep their own local state (forms, lists); only what several parts of
// the UI must agree on lives here: who is signed in, the accounts, which one is
// active, its latest snapshot, and whether what we show is live.

import { useEffect, useState } from '../vendor/hooks.module.js';

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      const next = typeof patch === 'function' ? patch(state) : patch;
      state = { ...state, ...next };
      for (const fn of listeners) fn(state);
    },
    /** Replace the whole state (e.g. forget everything on sign-out). */
    reset(next) { state = next; for (const fn of listeners) fn(state); },
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  };
}

export const store = createStore({
  phase: 'boot',          // boot | signedOut | ready | error (bootError)
  bootError: null,
  me: null,
  accounts: [],
  activeId: null,
  snapshots: {},          // accountId -> { snapshot, at }  (at = ms when received)
  conn: 'idle',           // realtime connection: idle | connecting | open | reconnecting | unauthorized
  serverStale: false,     // the server said its data is not live (ResyncEvent "unavailable")
  keysRefused: {},        // accountId -> true: the broker refused the account's stored keys
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  fromCache: false,       // accounts/snapshot shown were restored from the device, not yet confirmed
  rev: { orders: 0, positions: 0 }, // bumped when the server says these changed
  toast: null,            // { text, tone, id }
  installPrompt: null,    // the deferred beforeinstallprompt event
});

/** Re-render when `select(state)` changes (shallow identity). */
export function useStore(select = (s) => s) {
  const [value, setValue] = useState(() => select(store.get()));
  useEffect(() => {
    let current = select(store.get());
    setValue(() => current);
    return store.subscribe((s) => {
      const next = select(s);
      if (next !== current) { current = next; setValue(() => next); }
    });
  }, []);
  return value;
}

export function activeAccount(s = store.get()) {
  return s.accounts.find((a) => a.id === s.activeId) ?? null;
}

let toastSeq = 0;
export function toast(text, tone = 'info') {
  const id = ++toastSeq;
  store.set({ toast: { text, tone, id } });
  setTimeout(() => { if (store.get().toast?.id === id) store.set({ toast: null }); }, tone === 'error' ? 7000 : 4000);
}

// ── the last known state, kept on the device for offline viewing ───────────
// Only what the header and lists need; cleared on sign-out. Never secrets
// (the server never sends any) and never the session token (cookie only).
const CACHE_KEY = 'alpaca-chat:last-known:v1';

export function saveLastKnown(extra = {}) {
  try {
    const s = store.get();
    if (s.phase !== 'ready' || !s.me) return;
    const prev = loadLastKnown() ?? {};
    const data = {
      ...prev, ...extra,
      savedAt: Date.now(), me: s.me, accounts: s.accounts, activeId: s.activeId, snapshots: s.snapshots,
    };
    localStorage.setItem(CACHE_KEY, JSON.stringify(data));
  } catch { /* storage full or disabled: offline view is a nicety */ }
}

export function loadLastKnown() {
  try { return JSON.parse(localStorage.getItem(CACHE_KEY) || 'null'); } catch { return null; }
}

export function saveLastKnownList(kind, accountId, items) {
  const prev = loadLastKnown();
  if (!prev) return;
  const lists = { ...(prev[kind] || {}), [accountId]: { items, at: Date.now() } };
  saveLastKnown({ [kind]: lists });
}

export function clearLastKnown() {
  try { localStorage.removeItem(CACHE_KEY); } catch { /* ignore */ }
}
