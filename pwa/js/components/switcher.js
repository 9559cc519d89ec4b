// Account switcher: a bottom sheet on phones, a dropdown on wide screens.
// Every option is at least 44×44 CSS px (ACCT-06) and shows nickname + badge.
// The switch is not optimistic: real money depends on which account is active,
// so the header changes only once the server has agreed.

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { useStore } from '../store.js';
import { setActive, refreshAllSnapshots } from '../session.js';
import * as fmt from '../format.js';
import { Dialog, EnvBadge, ErrorText } from './ui.js';
import { Totals } from './accounts.js';

export function AccountSwitcher({ onClose, anchor }) {
  const accounts = useStore((s) => s.accounts);
  const activeId = useStore((s) => s.activeId);
  const online = useStore((s) => s.online);
  const snapshots = useStore((s) => s.snapshots);
  const keysRefused = useStore((s) => s.keysRefused);
  const [pending, setPending] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { if (online) refreshAllSnapshots(); }, []);

  const choose = async (id) => {
    if (id === activeId) { onClose(); return; }
    setPending(id); setError(null);
    try { await setActive(id); onClose(); } catch (e) { setError(e); setPending(null); }
  };

  return html`<${Dialog} title="Switch account" variant="sheet" anchor=${anchor} onClose=${onClose} testid="account-sheet">
    <ul class="account-options" role="list">
      ${accounts.map((a) => html`<li key=${a.id}>
        <button type="button" class=${`account-option ${a.id === activeId ? 'is-active' : ''}`} data-testid="account-option"
            data-account-id=${a.id} data-env=${a.environment} aria-current=${a.id === activeId ? 'true' : undefined}
            disabled=${!!pending || !online} onClick=${() => choose(a.id)}>
          <span class="check" aria-hidden="true">${a.id === activeId ? '✓' : ''}</span>
          <span class="option-name">${a.nickname}
            <span class="option-balance" data-testid="account-option-balance" data-value=${snapshots[a.id]?.snapshot.equity ?? ''}>${keysRefused[a.id] ? 'Keys stopped working'
              : snapshots[a.id] ? fmt.money(snapshots[a.id].snapshot.equity, { currency: snapshots[a.id].snapshot.currency }) : ''}</span></span>
          <span class="option-hint">${a.keyHint}</span>
          <${EnvBadge} env=${a.environment} />
          ${pending === a.id && html`<span class="spinner" aria-label="Switching"></span>`}
        </button>
      </li>`)}
    </ul>
    <${Totals} accounts=${accounts} snapshots=${snapshots} testid="switcher-total" />
    ${accounts.length === 0 && html`<p class="muted pad">No accounts connected yet.</p>`}
    ${!online && html`<p class="muted pad">Switching needs a connection.</p>`}
    <${ErrorText} error=${error} />
    <div class="sheet-footer">
      <a class="btn btn-block" href="#/accounts" data-testid="manage-accounts" onClick=${() => onClose()}>Manage accounts</a>
    </div>
  <//>`;
}
