/*
 * alpaca-chat PWA entry point: shell, routing, navigation, install, service worker.
 *
 * Stable data-testid hooks for browser tests (keep these names; add, never rename):
 *
 *  Shell / status
 *    app                    root of the signed-in shell (data-env = PAPER | LIVE | "")
 *    nav                    main navigation (bottom tab bar on phones, side bar on desktop)
 *    nav-portfolio, nav-orders, nav-chat, nav-accounts   navigation links (aria-current="page" when shown)
 *    install-button         "Install app" (only after beforeinstallprompt)
 *    offline-notice         shown while the browser is offline
 *    stale-indicator        figures are not live (offline, reconnecting, restored from the device); data-conn
 *    reconnect-now          retry the realtime connection immediately
 *    toast                  transient message (data-tone = info | ok | warn | error)
 *    boot                   splash while the session is checked
 *
 *  Header (every page)
 *    active-account         header; data-account-id, data-env
 *    account-switcher       button that opens the switcher
 *    account-nickname       active account's nickname
 *    env-badge              PAPER/LIVE badge (also inside options, cards, tickets, proposals); data-env
 *    live-banner            red "LIVE account — real money" banner (LIVE only)
 *    cash, equity, buying-power   live figures; data-value = the server's Decimal string
 *    day-change             equity change today ("Today"), signed; data-value
 *    keys-refused           the broker refuses the shown account's keys; keys-refused-replace opens the keys form
 *
 *  Account switcher (bottom sheet on phones, dropdown on desktop)
 *    account-sheet          the dialog; account-option-balance (data-value = equity), switcher-total
 *    account-option         one account; data-account-id, data-env, aria-current="true" when active
 *    manage-accounts        link to the accounts page
 *    dialog-close           close button of any dialog
 *
 *  Auth
 *    signin-form, signin-email, signin-password, signin-submit, show-signup
 *    signup-form, signup-email, signup-password, signup-invite, signup-submit, show-signin
 *    auth-error             form-level error (data-code = extensions.code)
 *    signin-passkey         "Sign in with a passkey" (no email; the password form stays)
 *
 *  Passkeys
 *    passkey-offer, passkey-offer-add, passkey-offer-later   right after sign-up
 *    passkeys, passkey-item (data-passkey-id), passkey-add, passkey-remove, passkey-error
 *    (accounts page; a proposal's Confirm runs the passkey ceremony on PASSKEY_REQUIRED)
 *
 *  Accounts page
 *    accounts-page, accounts-list, account-card (data-account-id), account-active-tag, empty-accounts
 *    account-balance (data-value = equity), accounts-total (per environment: span[data-total-env][data-value]),
 *    account-keys-refused   on the card of an account whose keys the broker refuses
 *    add-account            opens the add form
 *    account-form-dialog, account-form, account-nickname-input, account-env-paper, account-env-live,
 *    account-key-id, account-secret, account-secret-toggle, account-submit, live-warning
 *    field-error            error beside a field; data-field = extensions.field
 *    form-error             form-level error; data-code
 *    account-make-active, account-rename, account-replace-keys, account-remove
 *    rename-dialog, rename-input, rename-submit
 *    auto-execute-toggle    paper accounts: chat may place orders without asking
 *    account-limits         opens the account's Limits screen; account-halt (not when halted)
 *
 *  Limits screen (#/limits?account=<id>)
 *    limits-page (data-account-id), limits-form, limit-maxOrderNotional, limit-maxDailyLoss,
 *    limit-maxOrdersPerDay, limit-allowedSymbols, limit-deniedSymbols, limit-allowShort, limits-save,
 *    brakes-form, brake-<field> (noShorting, fractionalTrading, maxMarginMultiplier, dtbpCheck, pdtCheck,
 *    tradeConfirmEmail, maxOptionsTradingLevel), brake-suspendTrade (data-value), brakes-save,
 *    account-halt, account-resume, limits-halted
 *    fresh-signin-dialog, fresh-signin-reason, fresh-signin-password, fresh-signin-submit
 *    halted-banner          under the header while the shown account is halted; halted-resume
 *    confirm-dialog, confirm-ok, confirm-cancel   any confirmation (remove account, cancel order)
 *    create-invite, invite, invite-link, invite-code, invite-copy, invite-share
 *    me-email, sign-out
 *    security-log, security-event (data-kind)   the person's security log
 *    open-admin             the admin's way to the Admin page (admins only)
 *
 *  Proposal page (#/proposal?id=<id>, what a "Confirm?" notification opens; opening never confirms)
 *    proposal-page, proposal-card as in the chat, proposal-error (data-code NOT_FOUND: not the person's, or no such id)
 *
 *  Admin page (#/admin, admins only)
 *    admin-page, admin-users, admin-user (data-user-id, data-email, data-disabled), admin-user-disabled,
 *    admin-user-disable, admin-user-enable, admin-invites, admin-invite (data-invite-id, data-status),
 *    admin-invite-status, admin-invite-revoke, admin-invites-empty; create-invite as on the accounts page
 *
 *  Portfolio
 *    portfolio, portfolio-value, positions-list, position-row (data-symbol), position-pl (data-value),
 *    position-market-value, position-trade, positions-empty, refresh, open-ticket, trading-blocked,
 *    list-cached (list restored from the device), no-account (onboarding; no-account-add)
 *    positions-total-pl (data-value), positions-table (desktop; sort-<field> buttons, th aria-sort)
 *
 *  Orders
 *    orders, orders-filter-open, orders-filter-closed, orders-filter-all, orders-list,
 *    order-row (data-order-id, data-status), order-status, order-cancel, orders-empty, new-order
 *
 *  History and market views
 *    portfolio-chart, portfolio-chart-plot (data-points), portfolio-chart-plot-summary, portfolio-pl (data-value),
 *    portfolio-period-1d|1w|1m|1y, portfolio-chart-note, portfolio-chart-empty, open-activity
 *    activity, activity-list, activity-row (data-kind), activity-csv, activity-empty
 *    symbol-search, search-results, search-result (data-symbol), symbol-link (data-symbol)
 *    symbol-page (data-symbol), symbol-name, symbol-quote, symbol-ask, symbol-chart, symbol-chart-summary,
 *    symbol-period-*, symbol-buy, symbol-sell, symbol-position, symbol-open-orders, watch-toggle (aria-pressed)
 *    watchlist, watchlist-row (data-symbol), watchlist-empty
 *    market-clock (data-open), closed-market-notice
 *
 *  Order ticket
 *    order-ticket, ticket-account (contains account-tag + env-badge), ticket-symbol,
 *    ticket-side-buy, ticket-side-sell, ticket-amount-qty, ticket-amount-notional,
 *    ticket-qty, ticket-notional, ticket-type, ticket-limit, ticket-stop, ticket-tif,
 *    ticket-extended, ticket-submit (opens the review), ticket-result, ticket-new
 *    ticket-class, ticket-class-note, ticket-type-note, ticket-tif-note (why a choice is narrowed),
 *    ticket-trail-by-percent|price, ticket-trail, ticket-legs, ticket-take-profit, ticket-stop-loss,
 *    ticket-stop-loss-limit, ticket-quote, ticket-bid, ticket-ask, ticket-estimate (data-value)
 *    ticket-review, review-account, review-amount, review-type, review-tif, review-cost,
 *    review-take-profit, review-stop-loss, review-change (data-field), ticket-edit, ticket-place
 *    ticket-account-changed, ticket-account-keep, ticket-account-reset (active account changed)
 *    ticket-held (data-qty), ticket-close-25|50|100; order-ticket data-mode="replace" (#/trade?replace=id)
 *    order-modify, order-legs, order-leg (data-order-id, data-status, data-type), order-leg-status
 *    proposal-reason (a price to check), proposal-take-profit, proposal-stop-loss
 *
 *  Chat
 *    chat (data-account-id), chat-account, chat-messages, chat-message (data-role = USER | ASSISTANT),
 *    chat-pending, chat-input, chat-send, chat-error, tool-result (data-tool), tool-summary, tool-details
 *    chat-auto-execute      in the chat bar while paper auto-execute is on
 *    proposal-card (data-proposal-id, data-status, data-env), proposal-summary, proposal-cost,
 *    proposal-account, proposal-confirm, proposal-dismiss, proposal-status
 *    proposal-card data-kind (ORDER | CANCEL_ALL | CLOSE_ALL), proposal-headroom (the limits left)
 *    tool-refusal           a tool the limits refused, said in words (data-guard)
 *    ticket error: form-error (data-code = LIMIT_EXCEEDED | ACCOUNT_HALTED) with the refusal in words
 *
 *  account-tag            "nickname + badge" wherever an action names its account; data-account-id
 */

import { html } from './html.js';
import { render } from '../vendor/preact.module.js';
import { useEffect, useRef, useState } from '../vendor/hooks.module.js';
import { store, useStore, activeAccount } from './store.js';
import { boot, signOut } from './session.js';
import { ErrorText } from './components/ui.js';
import { AuthScreen } from './components/auth.js';
import { AccountHeader, LiveBanner, StaleIndicator, OfflineNotice, KeysRefusedBanner } from './components/header.js';
import { PortfolioPage } from './components/portfolio.js';
import { OrdersPage } from './components/orders.js';
import { ChatPage, resetChats } from './components/chat.js';
import { AccountsPage, InstallButton } from './components/accounts.js';
import { TicketPage } from './components/ticket.js';
import { ActivityPage } from './components/history.js';
import { SymbolPage } from './components/market.js';
import { LimitsPage, HaltedBanner } from './components/limits.js';
import { AdminPage } from './components/admin.js';
import { PasskeyOffer } from './components/passkeys.js';
import { ProposalPage } from './components/proposal-page.js';

// ── install prompt: capture early, offer a button ──────────────────────────
addEventListener('beforeinstallprompt', (e) => { e.preventDefault(); store.set({ installPrompt: e }); });
addEventListener('appinstalled', () => store.set({ installPrompt: null }));

// ── service worker ─────────────────────────────────────────────────────────
if ('serviceWorker' in navigator && (location.protocol === 'https:' || location.hostname === 'localhost' || location.hostname === '127.0.0.1')) {
  addEventListener('load', () => { navigator.serviceWorker.register('./sw.js', { scope: './' }).catch(() => {}); });
}

// ── on-screen keyboard: size the shell to the visual viewport ──────────────
// 100dvh does not shrink for the keyboard everywhere (iOS Safari, Chrome's
// default resizes-visual); the visual viewport does. The chat composer sits at
// the bottom of the shell, so it stays just above the keyboard.
function trackViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  const root = document.documentElement;
  const update = () => {
    if (Math.abs(vv.scale - 1) > 0.01) return; // pinch zoom: leave the layout alone
    root.style.setProperty('--app-h', `${Math.round(vv.height)}px`);
    root.style.setProperty('--vv-top', `${Math.round(vv.offsetTop)}px`);
    root.classList.toggle('kb-open', vv.height < window.innerHeight * 0.8 && matchMedia('(pointer: coarse)').matches);
  };
  vv.addEventListener('resize', update);
  vv.addEventListener('scroll', update);
  update();
}
trackViewport();

// ── routing (hash, so the static shell needs no server routes) ─────────────
const ROUTES = ['portfolio', 'orders', 'chat', 'accounts', 'trade', 'symbol', 'activity', 'limits', 'admin', 'proposal'];
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { name: ROUTES.includes(path) ? path : 'portfolio', params: new URLSearchParams(query) };
}
function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV = [
  { name: 'portfolio', label: 'Portfolio', icon: '◔' },
  { name: 'orders', label: 'Orders', icon: '☰' },
  { name: 'chat', label: 'Chat', icon: '✉' },
  { name: 'accounts', label: 'Accounts', icon: '⚙' },
];

// The tab of the page shown; pages reached from a tab belong to it. The order ticket is
// reached from several (Portfolio, Orders, a symbol) and is none of them: no tab is lit.
const TAB_OF = { symbol: 'portfolio', activity: 'portfolio', limits: 'accounts', admin: 'accounts', proposal: 'orders', trade: null };

function Nav({ current }) {
  const active = current in TAB_OF ? TAB_OF[current] : current;
  return html`<nav class="nav" aria-label="Main" data-testid="nav">
    <div class="nav-brand"><img src="./icons/icon-192.png" alt="" width="28" height="28" /><span>alpaca-chat</span></div>
    <ul>
      ${NAV.map((n) => html`<li><a href=${`#/${n.name}`} class="nav-link" data-testid=${`nav-${n.name}`}
        aria-current=${active === n.name ? 'page' : undefined}><span class="nav-icon" aria-hidden="true">${n.icon}</span><span class="nav-label">${n.label}</span></a></li>`)}
    </ul>
    <div class="nav-extra"><${InstallButton} className="btn btn-small" /></div>
  </nav>`;
}

function Toast() {
  const t = useStore((s) => s.toast);
  return html`<div class="toast-region" role="status" aria-live="polite">
    ${t && html`<div class=${`toast toast-${t.tone}`} data-testid="toast" data-tone=${t.tone} key=${t.id}>${t.text}</div>`}
  </div>`;
}

function Shell() {
  const route = useRoute();
  const acc = useStore(activeAccount);
  const mainRef = useRef(null);
  const firstRoute = useRef(true);
  useEffect(() => {
    // New page (not the first one): start at the top and move focus to its
    // heading, so screen readers announce where the user landed.
    if (firstRoute.current) { firstRoute.current = false; return; }
    if (mainRef.current) mainRef.current.scrollTop = 0;
    const h = mainRef.current?.querySelector('h1');
    if (h && !h.closest('dialog')) { h.setAttribute('tabindex', '-1'); h.focus({ preventScroll: true }); }
  }, [route.name]);
  const page = route.name;
  return html`<div class=${`shell route-${page}`} data-testid="app" data-env=${acc?.environment || ''}>
    <a class="skip-link" href="#main">Skip to content</a>
    <div class="top">
      <${LiveBanner} />
      <${AccountHeader} />
      <${KeysRefusedBanner} />
      <${HaltedBanner} />
      <${OfflineNotice} />
      <${StaleIndicator} />
    </div>
    <main id="main" ref=${mainRef} class=${page === 'chat' ? 'main main-fill' : 'main'} tabindex="-1">
      <${PasskeyOffer} />
      ${page === 'portfolio' && html`<${PortfolioPage} scrollRef=${mainRef} />`}
      ${page === 'orders' && html`<${OrdersPage} scrollRef=${mainRef} />`}
      ${page === 'chat' && html`<${ChatPage} />`}
      ${page === 'accounts' && html`<${AccountsPage} params=${route.params} key=${location.hash} />`}
      ${page === 'trade' && html`<${TicketPage} params=${route.params} key=${location.hash} />`}
      ${page === 'symbol' && html`<${SymbolPage} params=${route.params} key=${location.hash} />`}
      ${page === 'activity' && html`<${ActivityPage} />`}
      ${page === 'limits' && html`<${LimitsPage} params=${route.params} key=${location.hash} />`}
      ${page === 'admin' && html`<${AdminPage} />`}
      ${page === 'proposal' && html`<${ProposalPage} params=${route.params} key=${location.hash} />`}
    </main>
    <${Nav} current=${page} />
    <${Toast} />
  </div>`;
}

function BootError() {
  const err = useStore((s) => s.bootError);
  const [busy, setBusy] = useState(false);
  return html`<main class="auth" id="main"><div class="auth-card" data-testid="boot-error">
    <h1>Could not load your accounts</h1>
    <${ErrorText} error=${err} />
    <div class="card-actions">
      <button type="button" class="btn btn-primary" disabled=${busy} onClick=${async () => { setBusy(true); store.set({ phase: 'boot' }); await boot(); setBusy(false); }}>Try again</button>
      <button type="button" class="btn" data-testid="sign-out" onClick=${() => signOut().catch(() => {})}>Sign out</button>
    </div>
  </div></main>`;
}

function App() {
  const phase = useStore((s) => s.phase);
  useEffect(() => { if (phase === 'signedOut') resetChats(); }, [phase]);
  if (phase === 'boot') return html`<div class="boot" data-testid="boot" aria-busy="true"><img src="./icons/icon-192.png" alt="" width="64" height="64" /><span class="sr-only">Loading alpaca-chat…</span></div>`;
  if (phase === 'signedOut') return html`<${AuthScreen} /><${Toast} />`;
  if (phase === 'error') return html`<${BootError} />`;
  return html`<${Shell} />`;
}

render(html`<${App} />`, document.getElementById('app'));
boot();
