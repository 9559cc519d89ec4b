// Session and live account state: boot, sign in/out, account switching, and the
// two subscriptions (accountUpdates for the shown account, activeAccountChanged
// for the user's other devices).

import { ApiError, request, onApiError, onApiOk } from './graphql.js';
import { createClient } from './ws.js';
import * as ops from './operations.js';
import { passkeySignIn, passkeysSupported } from './passkeys.js';
import { forgetThisDevice } from './push.js';
import { store, toast, saveLastKnown, loadLastKnown, clearLastKnown, activeAccount } from './store.js';

export const ws = createClient();
ws.onState((conn) => store.set({ conn }));

// A revoked session (sign-out elsewhere, expiry) sends us back to sign-in.
onApiError((err) => {
  if (err.code === 'UNAUTHENTICATED' && store.get().phase === 'ready') endSession('Your session has ended. Please sign in again.');
  if (err.code === 'NETWORK') store.set({ online: false });
  if (err.keysRefused && err.accountId) markKeysRefused(err.accountId, true);
});

/** Remember whether (since when) the broker refuses an account's keys: the header, the
 * lists and the account card show it until a read with the keys works again. */
function markKeysRefused(id, refused) {
  if (!!store.get().keysRefused[id] === refused) return;
  store.set((s) => {
    const keysRefused = { ...s.keysRefused };
    if (refused) keysRefused[id] = Date.now(); else delete keysRefused[id];
    return { keysRefused };
  });
}

onApiOk(() => { if (!store.get().online) store.set({ online: true }); });

addEventListener('online', () => { store.set({ online: true }); ws.retryNow(); if (store.get().fromCache || store.get().phase === 'boot') boot(); });
addEventListener('offline', () => store.set({ online: false }));
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') ws.retryNow(); });

let bootSeq = 0;
let bootRetry = 0, bootRetryTimer = 0;

// The 'online' event is not reliable (and a server can be down while the
// network is up), so a failed boot is retried with backoff until it succeeds.
function scheduleBootRetry() {
  clearTimeout(bootRetryTimer);
  const delay = Math.min(30_000, 2_000 * 2 ** bootRetry) * (0.5 + Math.random() / 2);
  bootRetry++;
  bootRetryTimer = setTimeout(() => boot(), delay);
}

/** Load who we are and the accounts. Shows the device's last known state first. */
export async function boot() {
  const seq = ++bootSeq;
  const cached = loadLastKnown();
  if (store.get().phase === 'boot' && cached?.me) {
    store.set({
      phase: 'ready', me: cached.me, accounts: cached.accounts || [], activeId: cached.activeId,
      snapshots: cached.snapshots || {}, fromCache: true,
    });
  }
  try {
    // Both at once; `me` alone decides whether we are signed in, so a failing
    // accounts query can never look like a sign-out.
    const accountsReq = request(ops.ACCOUNTS);
    accountsReq.catch(() => {});
    const { me } = await request(ops.ME);
    if (seq !== bootSeq) return;
    if (!me) { endSession(null); return; }
    const data = { me, accounts: (await accountsReq).accounts };
    if (seq !== bootSeq) return;
    bootRetry = 0; clearTimeout(bootRetryTimer);
    applyAccounts(data.accounts, { me: data.me, phase: 'ready', fromCache: false, online: true, bootError: null });
    startRealtime();
  } catch (err) {
    if (seq !== bootSeq) return;
    if (err.code === 'UNAUTHENTICATED') { endSession(null); return; }
    // Offline or server down: keep the cached view (marked stale), or ask to sign in.
    const transient = err.code === 'NETWORK' || err.code === 'BROKER_UNAVAILABLE' || err.code?.startsWith('HTTP_5');
    if (store.get().phase === 'boot') {
      if (cached?.me) store.set({ phase: 'ready' });
      else if (transient) store.set({ phase: 'signedOut' });
      else store.set({ phase: 'error', bootError: err });
    }
    if (transient || err.code === 'INTERNAL_SERVER_ERROR') scheduleBootRetry();
  }
}

function applyAccounts(accounts, extra = {}) {
  const active = accounts.find((a) => a.isActive) ?? null;
  store.set({ ...extra, accounts, activeId: active ? active.id : null });
  saveLastKnown();
  watchAccount();
}

export async function refreshAccounts() {
  const data = await request(ops.ACCOUNTS);
  applyAccounts(data.accounts, { fromCache: false });
}

/** A refused sign-in ("Wrong email or password") is UNAUTHENTICATED on the wire, but no
 * session ended: it becomes SIGN_IN_REFUSED, whose words are the server's own. */
async function refusedInWords(attempt) {
  try { return await attempt(); } catch (err) {
    if (err.code !== 'UNAUTHENTICATED') throw err;
    throw new ApiError(err.message, { code: 'SIGN_IN_REFUSED', extensions: err.extensions, errors: err.errors });
  }
}

export async function signIn(email, password) {
  await refusedInWords(() => request(ops.SIGN_IN, { email, password }));
  await afterAuth();
}

export async function signUp(email, password, inviteCode) {
  await request(ops.SIGN_UP, { email, password, inviteCode: inviteCode || null });
  await afterAuth();
  // a new person is offered a passkey at once, while the sign-in is fresh (KEY-01)
  if (passkeysSupported()) store.set({ offerPasskey: true });
}

/** Sign in with a passkey: no email, the device offers its passkeys for this site. */
export async function signInWithPasskey() {
  await refusedInWords(passkeySignIn);
  await afterAuth();
}

async function afterAuth() {
  store.set({ phase: 'boot', accounts: [], activeId: null, snapshots: {}, fromCache: false });
  await boot();
}

export async function signOut() {
  // Before the session ends, while it may still remove this device's subscription (PUSH-03).
  await forgetThisDevice({ signedIn: true });
  try { await request(ops.SIGN_OUT); } finally { endSession('Signed out.'); }
}

function endSession(message) {
  clearTimeout(bootRetryTimer);
  // A session that ended elsewhere (or expired) cannot tell the server: the browser drops it.
  forgetThisDevice({ signedIn: false });
  stopRealtime();
  clearLastKnown();
  store.set({ phase: 'signedOut', me: null, accounts: [], activeId: null, snapshots: {}, keysRefused: {}, fromCache: false });
  if (message) toast(message);
}

// The switches this tab asked for and has not yet heard back on activeAccountChanged: the
// event may arrive before the mutation's answer, and it is this device's own change, not
// "another device" (ACCT-03).
const ownSwitches = [];

function forgetOwnSwitch(id) {
  const i = ownSwitches.indexOf(id);
  if (i >= 0) ownSwitches.splice(i, 1);
}

/** Make `id` the active account (server-side, so every device agrees). */
export async function setActive(id) {
  ownSwitches.push(id);
  let acc;
  try { acc = await request(ops.SET_ACTIVE_ACCOUNT, { id }).then((d) => d.setActiveAccount); }
  catch (err) { forgetOwnSwitch(id); throw err; }
  // By now the event has come or will find this id active already: do not let a stale
  // marker hide a later switch made elsewhere.
  setTimeout(() => forgetOwnSwitch(id), 15_000);
  const accounts = store.get().accounts.map((a) => ({ ...a, isActive: a.id === acc.id, ...(a.id === acc.id ? acc : {}) }));
  applyAccounts(accounts);
}

/** Replace one account in the list (after rename, new keys, …). */
export function upsertAccount(acc) {
  const list = store.get().accounts;
  const exists = list.some((a) => a.id === acc.id);
  let accounts = exists ? list.map((a) => (a.id === acc.id ? { ...a, ...acc } : a)) : [...list, acc];
  if (acc.isActive) accounts = accounts.map((a) => ({ ...a, isActive: a.id === acc.id }));
  applyAccounts(accounts);
}

export function dropAccount(id) {
  const accounts = store.get().accounts.filter((a) => a.id !== id);
  const snapshots = { ...store.get().snapshots }; delete snapshots[id];
  store.set({ snapshots });
  applyAccounts(accounts);
}

/** Fetch a fresh snapshot of the shown account (refresh button, pull-to-refresh). */
export async function refreshSnapshot(id = store.get().activeId) {
  if (!id) return;
  const data = await request(ops.ACCOUNT_SNAPSHOT, { id });
  markKeysRefused(id, false);
  putSnapshot(id, data.account.snapshot);
}

/** Fresh balances of every account (the switcher and the accounts list show them all). */
export function refreshAllSnapshots() {
  return Promise.allSettled(store.get().accounts.map((a) => refreshSnapshot(a.id)));
}

/** A pushed snapshot says the keys work again only if it was read after the refusal: a new
 * subscription's first one is shared and may be an interval old (bug 8). */
function pushedSnapshot(id, snapshot) {
  const refusedAt = store.get().keysRefused[id];
  if (refusedAt && Date.parse(snapshot.asOf) > refusedAt) markKeysRefused(id, false);
}

function putSnapshot(id, snapshot) {
  // A read and a push may cross: never replace a newer snapshot with an older one.
  const held = store.get().snapshots[id]?.snapshot;
  if (held && Date.parse(held.asOf) > Date.parse(snapshot.asOf)) return;
  store.set((s) => ({ snapshots: { ...s.snapshots, [id]: { snapshot, at: Date.now() } } }));
  saveLastKnown();
}

function bump(kind) {
  store.set((s) => ({ rev: { ...s.rev, [kind]: s.rev[kind] + 1 } }));
}

// ── realtime ───────────────────────────────────────────────────────────────
let unsubAccount = null;
let watchedId = null;
let unsubActive = null;
let wasOpen = false;

ws.onState((state) => {
  // After a reconnect the first event is a fresh snapshot; lists may have missed
  // events while we were away, so refetch them too.
  if (state === 'open' && wasOpen) { bump('orders'); bump('positions'); }
  if (state === 'open') { wasOpen = true; if (!store.get().online) store.set({ online: true }); }
  if (state === 'unauthorized' && store.get().phase === 'ready') boot();
});

function startRealtime() {
  if (!unsubActive) {
    unsubActive = ws.subscribe(ops.ACTIVE_ACCOUNT_CHANGED, {}, {
      next(data) {
        const acc = data?.activeAccountChanged ?? null;
        const own = ownSwitches.indexOf(acc?.id);
        if (own >= 0) ownSwitches.splice(own, 1);
        const s = store.get();
        if ((acc?.id ?? null) === s.activeId) return;
        if (acc && !s.accounts.some((a) => a.id === acc.id)) { refreshAccounts().catch(() => {}); }
        const accounts = s.accounts.map((a) => ({ ...a, isActive: !!acc && a.id === acc.id, ...(acc && a.id === acc.id ? acc : {}) }));
        applyAccounts(accounts);
        if (own >= 0) return;
        toast(acc ? `Active account is now ${acc.nickname} (${acc.environment}), changed on another device.` : 'No account is active now.', 'warn');
      },
      error() { unsubActive = null; },
      complete() { unsubActive = null; },
    });
  }
  watchAccount();
}

function watchAccount() {
  const s = store.get();
  if (s.phase !== 'ready' || s.fromCache) return;
  const id = s.activeId;
  if (id === watchedId && unsubAccount) return;
  unsubAccount?.();
  unsubAccount = null;
  watchedId = id;
  if (!id) return;
  // One read now, so the figures show at once even when the subscription is
  // slow to start or refused; from then on they are pushed (DISP-02).
  refreshSnapshot(id).catch(() => {});
  unsubAccount = ws.subscribe(ops.ACCOUNT_UPDATES, { accountId: id }, {
    next(data) {
      const ev = data?.accountUpdates;
      if (!ev || ev.accountId !== id) return;
      switch (ev.__typename) {
        case 'SnapshotEvent': store.set({ serverStale: false }); pushedSnapshot(id, ev.snapshot); putSnapshot(id, ev.snapshot); break;
        case 'OrderEvent': bump('orders'); if (/fill/.test(ev.event)) bump('positions'); break;
        case 'PositionsChangedEvent': bump('positions'); break;
        case 'ResyncEvent':
          // "unavailable": the server lost its database, nothing is live until the next resync
          store.set({ serverStale: ev.reason === 'unavailable' });
          // "keys_refused": the broker stopped accepting the keys; said now, not at the next read
          if (ev.reason === 'keys_refused') markKeysRefused(id, true);
          else if (ev.reason !== 'unavailable') { bump('orders'); bump('positions'); refreshSnapshot().catch(() => {}); }
          break;
        default: break;
      }
    },
    error(err) {
      if (watchedId === id) { unsubAccount = null; watchedId = null; }
      if (err.code === 'NOT_FOUND') refreshAccounts().catch(() => {});
    },
    complete() {
      // The server ended it (e.g. the account was removed, ACCT-05).
      if (watchedId === id) { unsubAccount = null; watchedId = null; refreshAccounts().catch(() => {}); }
    },
  });
}

function stopRealtime() {
  unsubAccount?.(); unsubAccount = null; watchedId = null;
  unsubActive?.(); unsubActive = null;
  wasOpen = false;
  ws.dispose();
}

export { activeAccount };
