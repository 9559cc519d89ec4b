// Manage broker accounts (add, rename, replace keys, remove, make active),
// invite a friend, install the app, sign out; the security log, and the admin's way in.

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, toast, store } from '../store.js';
import { setActive, upsertAccount, dropAccount, refreshAccounts, refreshAllSnapshots, refreshSnapshot, signOut } from '../session.js';
import * as fmt from '../format.js';
import { Dialog, ConfirmDialog, EnvBadge, Field, ErrorText, Segmented, fieldErrors } from './ui.js';
import { NotificationsSection } from './notifications.js';
import { SecurityLogSection } from './security.js';
import { PasskeysSection } from './passkeys.js';
import { HaltButton } from './limits.js';

export function AccountsPage({ params }) {
  const accounts = useStore((s) => s.accounts);
  const activeId = useStore((s) => s.activeId);
  const me = useStore((s) => s.me);
  const online = useStore((s) => s.online);
  const snapshots = useStore((s) => s.snapshots);
  const keysRefused = useStore((s) => s.keysRefused);
  // #/accounts?replace=<id> (the "keys stopped working" banner) opens that account's keys form.
  const [dialog, setDialog] = useState(() => {
    const account = accounts.find((a) => a.id === params?.get('replace'));
    return account ? { kind: 'keys', account } : null;
  }); // {kind, account}
  const close = () => setDialog(null);
  useEffect(() => { refreshAllSnapshots(); }, [accounts.length]);

  return html`<section class="page" aria-labelledby="accounts-title" data-testid="accounts-page">
    <div class="page-head">
      <h1 id="accounts-title">Accounts</h1>
      <button type="button" class="btn btn-primary" data-testid="add-account" disabled=${!online}
        onClick=${() => setDialog({ kind: 'add' })}>+ Add account</button>
    </div>
    ${accounts.length === 0 && html`<div class="empty" data-testid="empty-accounts">
      <p><strong>Connect your first Alpaca account.</strong></p>
      <p class="muted">Paste an API key id and secret from the Alpaca dashboard. Start with a paper account to try things safely.</p>
    </div>`}
    <${Totals} accounts=${accounts} snapshots=${snapshots} />
    <ul class="cards" data-testid="accounts-list">
      ${accounts.map((a) => html`<li key=${a.id} class=${`card account-card ${a.environment === 'LIVE' ? 'is-live' : ''}`}
          data-testid="account-card" data-account-id=${a.id}>
        <div class="card-head">
          <h2 class="card-title">${a.nickname}</h2>
          <${EnvBadge} env=${a.environment} />
          ${a.id === activeId && html`<span class="tag" data-testid="account-active-tag">Active</span>`}
        </div>
        <dl class="kv">
          <div><dt>Key</dt><dd class="mono">${a.keyHint}</dd></div>
          <div><dt>Added</dt><dd>${fmt.dateTime(a.createdAt)}</dd></div>
          ${keysRefused[a.id]
            ? html`<div><dt>Keys</dt><dd class="tone-neg strong" data-testid="account-keys-refused">Stopped working: Alpaca refused them. Replace them.</dd></div>`
            : html`<div><dt>Keys verified</dt><dd>${a.lastVerifiedAt ? fmt.dateTime(a.lastVerifiedAt) : '—'}</dd></div>`}
          <div><dt>Equity</dt><dd class="balance-line" data-testid="account-balance" data-value=${snapshots[a.id]?.snapshot.equity ?? ''}>
            ${snapshots[a.id] ? fmt.money(snapshots[a.id].snapshot.equity, { currency: snapshots[a.id].snapshot.currency }) : '—'}</dd></div>
        </dl>
        ${a.environment === 'PAPER' && html`<${AutoExecute} account=${a} disabled=${!online} />`}
        <div class="card-actions">
          ${a.id !== activeId && html`<button type="button" class="btn" data-testid="account-make-active" disabled=${!online}
            onClick=${() => setActive(a.id).catch((e) => toast(e.message, 'error'))}>Make active</button>`}
          <button type="button" class="btn" data-testid="account-rename" disabled=${!online} onClick=${() => setDialog({ kind: 'rename', account: a })}>Rename</button>
          <button type="button" class=${`btn ${keysRefused[a.id] ? 'btn-primary' : ''}`} data-testid="account-replace-keys" disabled=${!online} onClick=${() => setDialog({ kind: 'keys', account: a })}>Replace keys</button>
          <button type="button" class="btn btn-danger-ghost" data-testid="account-remove" disabled=${!online} onClick=${() => setDialog({ kind: 'remove', account: a })}>Remove</button>
        </div>
        <div class="card-actions">
          <a class="btn" href=${`#/limits?account=${a.id}`} data-testid="account-limits">Limits</a>
          <${HaltButton} account=${a} />
          ${a.halted && html`<span class="tag tag-halted" data-testid="account-halted-tag">Halted</span>`}
        </div>
      </li>`)}
    </ul>

    <${InviteSection} disabled=${!online} />
    <${AppSection} me=${me} />
    ${me?.isAdmin && html`<section class="card section" aria-labelledby="admin-link-title">
      <h2 id="admin-link-title" class="card-title">Admin</h2>
      <p class="muted">You run this server: see who has an account, disable someone, revoke invites.</p>
      <a class="btn" href="#/admin" data-testid="open-admin">Open admin</a>
    </section>`}
    <${PasskeysSection} disabled=${!online} />
    <${SecurityLogSection} />
    <${NotificationsSection} disabled=${!online} />

    ${dialog?.kind === 'add' && html`<${AccountForm} mode="add" onClose=${close} />`}
    ${dialog?.kind === 'keys' && html`<${AccountForm} mode="keys" account=${dialog.account} onClose=${close} />`}
    ${dialog?.kind === 'rename' && html`<${RenameDialog} account=${dialog.account} onClose=${close} />`}
    ${dialog?.kind === 'remove' && html`<${ConfirmDialog} title="Remove account?" confirmLabel="Remove account" cancelLabel="Keep account" onClose=${close}
        message=${html`This disconnects <strong>${dialog.account.nickname}</strong> (${dialog.account.environment}) and deletes its stored keys. Your Alpaca account itself, its positions and orders are not touched.`}
        onConfirm=${async () => {
          await request(ops.REMOVE_ACCOUNT, { id: dialog.account.id });
          dropAccount(dialog.account.id);
          // Removing the active account makes another one active on the server: ask which.
          refreshAccounts().catch(() => {});
          toast(`${dialog.account.nickname} removed.`);
        }} />`}
  </section>`;
}

/** Equity summed per environment: paper and live are never added together. */
export function Totals({ accounts, snapshots, testid = 'accounts-total' }) {
  const groups = ['PAPER', 'LIVE'].map((env) => {
    const mine = accounts.filter((a) => a.environment === env);
    const known = mine.filter((a) => snapshots[a.id]);
    return { env, count: mine.length, total: fmt.sum(known.map((a) => snapshots[a.id].snapshot.equity)), complete: known.length === mine.length };
  }).filter((g) => g.count > 1 || (g.count === 1 && accounts.length > 1));
  if (!groups.length) return null;
  return html`<p class="totals" data-testid=${testid}>${groups.map((g) => html`<span data-total-env=${g.env} data-value=${g.total}>
    <${EnvBadge} env=${g.env} /> ${g.count} account${g.count === 1 ? '' : 's'}: <strong>${fmt.money(g.total)}</strong>${g.complete ? '' : ' (so far)'}</span>`)}</p>`;
}

function AutoExecute({ account, disabled }) {
  const [busy, setBusy] = useState(false);
  const toggle = async (e) => {
    const enabled = e.target.checked;
    setBusy(true);
    try { upsertAccount((await request(ops.SET_CHAT_AUTO_EXECUTE, { id: account.id, enabled })).setChatAutoExecute); }
    catch (ex) { toast(ex.message, 'error'); e.target.checked = !enabled; }
    setBusy(false);
  };
  return html`<label class="check-row">
    <input type="checkbox" role="switch" class="switch" data-testid="auto-execute-toggle" checked=${account.chatAutoExecute} disabled=${disabled || busy} onChange=${toggle} />
    <span>Chat may place orders on this paper account without asking</span>
  </label>`;
}

/** Add an account, or replace the keys of one (mode "keys"). Keys are verified by the server first. */
function AccountForm({ mode, account, onClose }) {
  const adding = mode === 'add';
  const [nickname, setNickname] = useState('');
  const [environment, setEnvironment] = useState('PAPER');
  const [apiKeyId, setKeyId] = useState('');
  const [secretKey, setSecret] = useState('');
  const [showSecret, setShowSecret] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const env = adding ? environment : account.environment;

  const submit = async (e) => {
    e.preventDefault();
    const missing = {};
    if (adding && !nickname.trim()) missing.nickname = 'Give the account a name.';
    if (!apiKeyId.trim()) missing.apiKeyId = 'Enter the API key id.';
    if (!secretKey.trim()) missing.secretKey = 'Enter the secret key.';
    if (Object.keys(missing).length) { setErr(missing); return; }
    setBusy(true); setErr({});
    try {
      if (adding) {
        const acc = (await request(ops.ADD_ACCOUNT, { input: { nickname: nickname.trim(), environment, apiKeyId: apiKeyId.trim(), secretKey: secretKey.trim() } })).addAccount;
        upsertAccount(acc);
        toast(`${acc.nickname} connected.`, 'ok');
      } else {
        const acc = (await request(ops.UPDATE_CREDENTIALS, { id: account.id, apiKeyId: apiKeyId.trim(), secretKey: secretKey.trim() })).updateAccountCredentials;
        upsertAccount(acc);
        refreshSnapshot(acc.id).catch(() => {}); // the account is healthy again once a read works
        toast(`Keys of ${acc.nickname} replaced.`, 'ok');
      }
      setSecret('');
      onClose();
    } catch (ex) {
      setErr(fieldErrors(ex, ['nickname', 'environment', 'apiKeyId', 'secretKey']));
      setBusy(false);
    }
  };

  return html`<${Dialog} title=${adding ? 'Add an Alpaca account' : `Replace keys of ${account.nickname}`} onClose=${onClose} testid="account-form-dialog">
    <form class="form dialog-body" data-testid="account-form" onSubmit=${submit} novalidate autocomplete="off">
      ${adding ? html`
        <${Field} label="Nickname" name="nickname" error=${err.nickname} hint="Shown everywhere this account is used, e.g. “Main” or “Play money”.">${({ id, describedBy }) => html`
          <input id=${id} type="text" maxlength="40" required autofocus data-testid="account-nickname-input"
            aria-describedby=${describedBy} value=${nickname} onInput=${(e) => setNickname(e.target.value)} />`}<//>
        <${Segmented} legend="Environment" name="environment" value=${environment} onChange=${setEnvironment} testidPrefix="account-env"
          options=${[{ value: 'PAPER', label: 'Paper (simulated)', tone: 'paper' }, { value: 'LIVE', label: 'Live (real money)', tone: 'live' }]} />
        ${err.environment && html`<p class="field-error" role="alert" data-testid="field-error" data-field="environment">${err.environment}</p>`}`
      : html`<p class="muted">Account: <strong>${account.nickname}</strong> <${EnvBadge} env=${account.environment} /> · current key ${account.keyHint}</p>`}
      ${env === 'LIVE' && html`<div class="warning" role="alert" data-testid="live-warning">
        <strong>Live account: real money.</strong> Orders placed here — by you or through the chat — trade real funds.
        Live orders always ask for your confirmation. Use keys from Alpaca's <em>live</em> dashboard.</div>`}
      <${Field} label="API key id" name="apiKeyId" error=${err.apiKeyId}>${({ id, describedBy }) => html`
        <input id=${id} type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required class="mono"
          autofocus=${!adding} data-testid="account-key-id" aria-describedby=${describedBy} value=${apiKeyId} onInput=${(e) => setKeyId(e.target.value)} />`}<//>
      <${Field} label="Secret key" name="secretKey" error=${err.secretKey} hint="Sent once to verify with Alpaca, then stored encrypted. It is never shown again.">${({ id, describedBy }) => html`
        <div class="input-with-btn">
          <input id=${id} type=${showSecret ? 'text' : 'password'} autocomplete="new-password" autocapitalize="none" spellcheck="false" required class="mono"
            data-testid="account-secret" aria-describedby=${describedBy} value=${secretKey} onInput=${(e) => setSecret(e.target.value)} />
          <button type="button" class="btn btn-inline" data-testid="account-secret-toggle" aria-pressed=${showSecret} aria-controls=${id}
            onClick=${() => setShowSecret(!showSecret)}>${showSecret ? 'Hide' : 'Show'}</button>
        </div>`}<//>
      <${ErrorText} error=${err.form} />
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class=${`btn ${env === 'LIVE' ? 'btn-danger' : 'btn-primary'}`} disabled=${busy} data-testid="account-submit">
          ${busy ? 'Verifying with Alpaca…' : adding ? `Add ${env === 'LIVE' ? 'LIVE' : 'paper'} account` : 'Replace keys'}</button>
      </div>
    </form>
  <//>`;
}

function RenameDialog({ account, onClose }) {
  const [nickname, setNickname] = useState(account.nickname);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    if (!nickname.trim()) { setErr({ nickname: 'Give the account a name.' }); return; }
    setBusy(true); setErr({});
    try {
      upsertAccount((await request(ops.RENAME_ACCOUNT, { id: account.id, nickname: nickname.trim() })).renameAccount);
      onClose();
    } catch (ex) { setErr(fieldErrors(ex, ['nickname'])); setBusy(false); }
  };
  return html`<${Dialog} title="Rename account" onClose=${onClose} testid="rename-dialog">
    <form class="form dialog-body" onSubmit=${submit} novalidate>
      <${Field} label="Nickname" name="nickname" error=${err.nickname}>${({ id, describedBy }) => html`
        <input id=${id} type="text" maxlength="40" autofocus data-testid="rename-input" aria-describedby=${describedBy}
          value=${nickname} onInput=${(e) => setNickname(e.target.value)} />`}<//>
      <${ErrorText} error=${err.form} />
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="rename-submit">Save</button>
      </div>
    </form>
  <//>`;
}

export function InviteSection({ disabled, onCreated }) {
  const [invite, setInvite] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const link = invite ? (invite.url || `${location.origin}/?invite=${encodeURIComponent(invite.code)}`) : '';
  const create = async () => {
    setBusy(true); setError(null);
    try { setInvite((await request(ops.CREATE_INVITE)).createInvite); onCreated?.(); } catch (e) { setError(e); }
    setBusy(false);
  };
  const copy = async () => {
    try { await navigator.clipboard.writeText(link); toast('Invite link copied.', 'ok'); }
    catch { toast('Could not copy; select the link and copy it.', 'error'); }
  };
  const share = async () => {
    try { await navigator.share({ title: 'Join me on alpaca-chat', text: 'Here is your invite to alpaca-chat:', url: link }); }
    catch (e) { if (e?.name !== 'AbortError') toast('Sharing failed.', 'error'); }
  };
  return html`<section class="card section" aria-labelledby="invite-title">
    <h2 id="invite-title" class="card-title">Invite a friend</h2>
    <p class="muted">Sign-up is by invitation. Each invite works once.</p>
    ${invite ? html`<div class="invite" data-testid="invite">
        <label class="field-label" for="invite-link">Invite link</label>
        <input id="invite-link" type="text" class="mono" readonly value=${link} data-testid="invite-link" onFocus=${(e) => e.target.select()} />
        <p class="muted small">Code <span class="mono" data-testid="invite-code">${invite.code}</span> · expires ${fmt.dateTime(invite.expiresAt)}</p>
        <div class="card-actions">
          <button type="button" class="btn" data-testid="invite-copy" onClick=${copy}>Copy link</button>
          ${typeof navigator.share === 'function' && html`<button type="button" class="btn" data-testid="invite-share" onClick=${share}>Share…</button>`}
          <button type="button" class="btn" onClick=${create} disabled=${busy || disabled}>New invite</button>
        </div>
      </div>`
    : html`<button type="button" class="btn btn-primary" data-testid="create-invite" disabled=${busy || disabled} onClick=${create}>${busy ? 'Creating…' : 'Create invite'}</button>`}
    <${ErrorText} error=${error} />
  </section>`;
}

function AppSection({ me }) {
  const installPrompt = useStore((s) => s.installPrompt);
  const [busy, setBusy] = useState(false);
  return html`<section class="card section" aria-labelledby="app-title">
    <h2 id="app-title" class="card-title">This device</h2>
    <p class="muted">Signed in as <strong data-testid="me-email">${me?.email}</strong></p>
    <div class="card-actions">
      ${installPrompt && html`<${InstallButton} />`}
      <button type="button" class="btn" data-testid="sign-out" disabled=${busy}
        onClick=${async () => { setBusy(true); try { await signOut(); } catch { /* signed out locally anyway */ } }}>Sign out</button>
    </div>
  </section>`;
}

export function InstallButton({ className = 'btn' }) {
  const installPrompt = useStore((s) => s.installPrompt);
  if (!installPrompt) return null;
  const install = async () => {
    installPrompt.prompt();
    try { await installPrompt.userChoice; } finally { store.set({ installPrompt: null }); }
  };
  return html`<button type="button" class=${className} data-testid="install-button" onClick=${install}>Install app</button>`;
}
