// The signed-in person's security log on the accounts page (docs/requirements.md
// ADM-02): sign-ins (with the device and address), failed sign-ins, passkeys,
// broker keys, limits, halts and live confirmations, newest first.

import { html } from '../html.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import * as fmt from '../format.js';
import { ErrorText, Spinner, useLoader } from './ui.js';

const KIND = {
  SIGNED_IN: 'Signed in',
  SIGN_IN_FAILED: 'Failed sign-in',
  PASSKEY_ADDED: 'Passkey added',
  PASSKEY_REMOVED: 'Passkey removed',
  PASSKEY_CLONE_REFUSED: 'Copied passkey refused',
  PASSKEY_CLONE_REFUSED: 'Copied passkey refused',
  BROKER_KEYS_ADDED: 'Broker keys added',
  BROKER_KEYS_REPLACED: 'Broker keys replaced',
  BROKER_KEYS_REMOVED: 'Broker keys removed',
  LIMITS_CHANGED: 'Limits changed',
  ACCOUNT_HALTED: 'Account halted',
  ACCOUNT_RESUMED: 'Account resumed',
  LIVE_ORDER_CONFIRMED: 'Live order confirmed',
};
const WARN = new Set(['SIGN_IN_FAILED', 'PASSKEY_REMOVED', 'PASSKEY_CLONE_REFUSED', 'BROKER_KEYS_REMOVED']);

/** What an entry names, in words: the account, the device and the address. */
function describe(detail = {}) {
  const parts = [];
  if (detail.nickname) parts.push(`${detail.nickname}${detail.environment ? ` (${detail.environment})` : ''}`);
  if (detail.summary) parts.push(detail.summary);
  if (detail.keyHint) parts.push(`key ${detail.keyHint}`);
  if (detail.name) parts.push(detail.name);
  if (detail.device) parts.push(detail.device);
  if (detail.address) parts.push(`from ${detail.address}`);
  return parts.join(' · ');
}

export function SecurityLogSection() {
  const { data, error, loading, reload } = useLoader(
    () => request(ops.SECURITY_EVENTS, { limit: 30 }).then((d) => d.securityEvents), []);
  return html`<section class="card section" aria-labelledby="security-title" data-testid="security-log">
    <div class="card-head">
      <h2 id="security-title" class="card-title">Security log</h2>
      <button type="button" class="btn btn-small" onClick=${() => reload(true)}>Refresh</button>
    </div>
    <p class="muted">Sign-ins, keys, limits and live confirmations on your accounts. Something you do not recognise? Replace the account's keys at Alpaca and here.</p>
    ${loading && !data && html`<${Spinner} label="Loading the security log" />`}
    <${ErrorText} error=${error} />
    ${data && data.length === 0 && html`<p class="muted">Nothing yet.</p>`}
    ${data && data.length > 0 && html`<ul class="rows security-rows">
      ${data.map((e) => html`<li key=${e.id} class=${`security-row ${WARN.has(e.kind) ? 'is-warn' : ''}`} data-testid="security-event" data-kind=${e.kind}>
        <div><strong>${KIND[e.kind] || e.kind}</strong> <span class="muted small">${fmt.dateTime(e.at)}</span></div>
        <div class="muted small security-detail">${describe(e.detail || {})}</div>
      </li>`)}
    </ul>`}
  </section>`;
}
