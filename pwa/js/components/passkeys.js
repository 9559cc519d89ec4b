// Passkeys on the accounts page, and the offer right after sign-up (docs/requirements.md
// KEY-01, KEY-03): list, add, remove. Adding or removing one on an old session asks
// for an existing passkey (or, without one, a fresh sign-in), as the server demands.

import { html } from '../html.js';
import { useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { store, toast, useStore } from '../store.js';
import * as fmt from '../format.js';
import { addPasskey, deviceName, passkeysSupported, withPasskey } from '../passkeys.js';
import { ErrorText, Spinner, useLoader } from './ui.js';

export function PasskeysSection({ disabled }) {
  const { data, error, loading, reload } = useLoader(() => request(ops.PASSKEYS).then((d) => d.passkeys), []);
  const [busy, setBusy] = useState(null);
  const [actionError, setActionError] = useState(null);
  const act = async (what, action) => {
    setBusy(what); setActionError(null);
    try { await action(); await reload(true); } catch (e) { setActionError(e); } finally { setBusy(null); }
  };
  const add = () => act('add', async () => { await addPasskey(deviceName()); toast('Passkey added.', 'ok'); });
  const remove = (passkey) => act(passkey.id, async () => {
    await withPasskey((answer) => request(ops.REMOVE_PASSKEY, { id: passkey.id, passkey: answer }));
    toast(`Passkey "${passkey.name}" removed.`, 'ok');
  });
  return html`<section class="card section" aria-labelledby="passkeys-title" data-testid="passkeys">
    <h2 id="passkeys-title" class="card-title">Passkeys</h2>
    <p class="muted">Sign in with Face ID, a fingerprint or your device PIN instead of your password, and confirm live orders with it. Your password keeps working.</p>
    ${!passkeysSupported() && html`<p class="muted" data-testid="passkeys-unsupported">This browser cannot use passkeys.</p>`}
    ${loading && !data && html`<${Spinner} label="Loading passkeys" />`}
    <${ErrorText} error=${error || actionError} testid="passkey-error" />
    ${data && data.length > 0 && html`<ul class="rows">
      ${data.map((p) => html`<li key=${p.id} class="row" data-testid="passkey-item" data-passkey-id=${p.id}>
        <div><strong>${p.name}</strong>
          <div class="muted small">Added ${fmt.dateTime(p.createdAt)}${p.lastUsedAt ? ` · used ${fmt.dateTime(p.lastUsedAt)}` : ''}</div></div>
        <button type="button" class="btn btn-small" data-testid="passkey-remove" disabled=${disabled || !!busy}
          onClick=${() => remove(p)}>${busy === p.id ? 'Removing…' : 'Remove'}</button>
      </li>`)}
    </ul>`}
    ${passkeysSupported() && html`<button type="button" class="btn" data-testid="passkey-add" disabled=${disabled || !!busy}
      onClick=${add}>${busy === 'add' ? 'Waiting for your device…' : 'Add a passkey'}</button>`}
  </section>`;
}

/** Right after sign-up: one tap to add a passkey, or later from the accounts page. */
export function PasskeyOffer() {
  const offer = useStore((s) => s.offerPasskey);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (!offer) return null;
  const close = () => store.set({ offerPasskey: false });
  const add = async () => {
    setBusy(true); setError(null);
    try { await addPasskey(deviceName()); toast('Passkey added: next time, sign in with it.', 'ok'); close(); } catch (e) { setError(e); setBusy(false); }
  };
  return html`<section class="card section" aria-labelledby="passkey-offer-title" data-testid="passkey-offer">
    <h2 id="passkey-offer-title" class="card-title">Add a passkey</h2>
    <p class="muted">Sign in with Face ID or a fingerprint next time, and confirm live orders with it.</p>
    <${ErrorText} error=${error} testid="passkey-error" />
    <div class="proposal-actions">
      <button type="button" class="btn" data-testid="passkey-offer-later" onClick=${close}>Not now</button>
      <button type="button" class="btn btn-primary" data-testid="passkey-offer-add" disabled=${busy} onClick=${add}>${busy ? 'Waiting for your device…' : 'Add a passkey'}</button>
    </div>
  </section>`;
}
