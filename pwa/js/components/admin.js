// The admin's page (#/admin, only for the install's admin): everyone with an account
// (disable, enable), every invite (revoke a pending one), and making a new invite.
// The directory shows emails, dates and counts only: never keys, never what an
// account holds (docs/requirements.md ADM-01).

import { html } from '../html.js';
import { useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, toast } from '../store.js';
import * as fmt from '../format.js';
import { ConfirmDialog, ErrorText, Spinner, useLoader } from './ui.js';
import { InviteSection } from './accounts.js';

const INVITE_STATUS = { PENDING: 'Pending', USED: 'Used', EXPIRED: 'Expired', REVOKED: 'Revoked' };

export function AdminPage() {
  const me = useStore((s) => s.me);
  const online = useStore((s) => s.online);
  const [dialog, setDialog] = useState(null); // {kind: 'disable' | 'revoke', item}
  const { data, error, loading, reload } = useLoader(() => request(ops.DIRECTORY), []);
  if (!me?.isAdmin) {
    return html`<section class="page" data-testid="admin-page"><h1>Admin</h1>
      <p class="muted">Only this server's admin (its first user) can see this page.</p></section>`;
  }
  const setDisabled = async (user, disabled) => {
    await request(ops.SET_USER_DISABLED, { id: user.id, disabled });
    toast(disabled ? `${user.email} is disabled and signed out everywhere.` : `${user.email} can sign in again.`, 'ok');
    reload(true);
  };
  const close = () => setDialog(null);
  return html`<section class="page" aria-labelledby="admin-title" data-testid="admin-page">
    <div class="page-head"><h1 id="admin-title">Admin</h1></div>
    <p class="muted">You are this server's admin. You see who has an account and the invites; never anyone's keys, orders or chat.</p>
    ${loading && !data && html`<${Spinner} label="Loading the directory" />`}
    <${ErrorText} error=${error} />
    ${data && html`
      <section class="card section" aria-labelledby="users-title">
        <h2 id="users-title" class="card-title">People</h2>
        <ul class="rows" data-testid="admin-users">
          ${data.users.map((u) => html`<li key=${u.id} class="admin-row" data-testid="admin-user" data-user-id=${u.id}
              data-email=${u.email} data-disabled=${String(u.disabled)}>
            <div class="admin-row-head">
              <strong class="mono">${u.email}</strong>
              ${u.isAdmin && html`<span class="tag">Admin</span>`}
              ${u.disabled && html`<span class="tag tag-halted" data-testid="admin-user-disabled">Disabled</span>`}
            </div>
            <dl class="kv">
              <div><dt>Joined</dt><dd>${fmt.dateTime(u.createdAt)}</dd></div>
              <div><dt>Last seen</dt><dd>${u.lastSeenAt ? fmt.dateTime(u.lastSeenAt) : '—'}</dd></div>
              <div><dt>Accounts</dt><dd>${u.accountCount}</dd></div>
            </dl>
            ${u.id !== me.id && html`<div class="card-actions">
              ${u.disabled
                ? html`<button type="button" class="btn" data-testid="admin-user-enable" disabled=${!online}
                    onClick=${() => setDisabled(u, false).catch((e) => toast(e.message, 'error'))}>Enable</button>`
                : html`<button type="button" class="btn btn-danger-ghost" data-testid="admin-user-disable" disabled=${!online}
                    onClick=${() => setDialog({ kind: 'disable', item: u })}>Disable</button>`}
            </div>`}
          </li>`)}
        </ul>
      </section>
      <section class="card section" aria-labelledby="invites-title">
        <h2 id="invites-title" class="card-title">Invites</h2>
        ${data.invites.length === 0 && html`<p class="muted" data-testid="admin-invites-empty">No invites yet.</p>`}
        <ul class="rows" data-testid="admin-invites">
          ${data.invites.map((i) => html`<li key=${i.id} class="admin-row" data-testid="admin-invite" data-invite-id=${i.id} data-status=${i.status}>
            <div class="admin-row-head">
              <span class="tag" data-testid="admin-invite-status">${INVITE_STATUS[i.status] || i.status}</span>
              <span>by ${i.createdByEmail || 'the operator'}</span>
            </div>
            <dl class="kv">
              <div><dt>Made</dt><dd>${fmt.dateTime(i.createdAt)}</dd></div>
              <div><dt>${i.status === 'USED' ? 'Used' : 'Expires'}</dt><dd>${fmt.dateTime(i.status === 'USED' ? i.usedAt : i.expiresAt)}</dd></div>
              ${i.usedByEmail && html`<div><dt>Used by</dt><dd class="mono">${i.usedByEmail}</dd></div>`}
            </dl>
            ${i.status === 'PENDING' && html`<div class="card-actions">
              <button type="button" class="btn btn-danger-ghost" data-testid="admin-invite-revoke" disabled=${!online}
                onClick=${() => setDialog({ kind: 'revoke', item: i })}>Revoke</button>
            </div>`}
          </li>`)}
        </ul>
      </section>`}
    <${InviteSection} disabled=${!online} onCreated=${() => reload(true)} />

    ${dialog?.kind === 'disable' && html`<${ConfirmDialog} title="Disable this person?" confirmLabel="Disable" cancelLabel="Keep" onClose=${close}
        message=${html`<strong>${dialog.item.email}</strong> is signed out on every device at once and cannot sign in until you enable them again. Their accounts and orders are not touched.`}
        onConfirm=${() => setDisabled(dialog.item, true)} />`}
    ${dialog?.kind === 'revoke' && html`<${ConfirmDialog} title="Revoke this invite?" confirmLabel="Revoke invite" cancelLabel="Keep" onClose=${close}
        message="Nobody can sign up with it any more."
        onConfirm=${async () => { await request(ops.REVOKE_INVITE, { id: dialog.item.id }); toast('Invite revoked.', 'ok'); reload(true); }} />`}
  </section>`;
}
