// The owner's brakes on one account (RISK-01..04): its limits (an empty field: no
// limit), the broker's own settings, and the halt. Only the person can change these;
// the chat has no way to. Loosening anything on a LIVE account needs a recent
// sign-in: the server answers FORBIDDEN with reason FRESH_SIGN_IN_REQUIRED, and the
// screen asks for the password again, signs in and retries what was asked.

import { html } from '../html.js';
import { useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount, toast, store } from '../store.js';
import { upsertAccount } from '../session.js';
import { withPasskey } from '../passkeys.js';
import { AccountTag, ConfirmDialog, Dialog, ErrorText, Field, Spinner, useLoader } from './ui.js';
import { NoAccount } from './ui.js';

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;
const LIMIT_FIELDS = ['maxOrderNotional', 'maxDailyLoss', 'maxOrdersPerDay', 'allowedSymbols', 'deniedSymbols', 'allowShort'];
const BRAKE_CHOICES = {
  maxMarginMultiplier: [['1', '1× (no margin)'], ['2', '2×'], ['4', '4×']],
  tradeConfirmEmail: [['all', 'Every order'], ['none', 'None']],
  dtbpCheck: [['both', 'Entry and exit'], ['entry', 'Entry only'], ['exit', 'Exit only']],
  pdtCheck: [['both', 'Entry and exit'], ['entry', 'Entry only'], ['exit', 'Exit only']],
  maxOptionsTradingLevel: [['0', '0 (none)'], ['1', '1'], ['2', '2'], ['3', '3']],
};

const freshSignInNeeded = (e) => e?.code === 'FORBIDDEN' && e.extensions?.reason === 'FRESH_SIGN_IN_REQUIRED';

/**
 * Run `action`; when a live account asks for a fresh sign-in, show the dialog that
 * signs in again and runs it once more. Returns [run, dialog] (render `dialog`).
 */
function useFreshSignIn() {
  const [pending, setPending] = useState(null); // {retry, resolve, reject}
  // a person with a passkey approves with it instead (PASSKEY_REQUIRED, KEY-02)
  const run = (action) => withPasskey(action).catch((e) => {
    if (!freshSignInNeeded(e)) throw e;
    return new Promise((resolve, reject) => setPending({ retry: action, resolve, reject }));
  });
  const dialog = pending && html`<${FreshSignIn} onClose=${() => { pending.reject(Object.assign(new Error('Not signed in again'), { code: 'CANCELLED' })); setPending(null); }}
    onSignedIn=${async () => { const p = pending; setPending(null); try { p.resolve(await p.retry()); } catch (e) { p.reject(e); } }} />`;
  return [run, dialog];
}

function FreshSignIn({ onClose, onSignedIn }) {
  const me = useStore((s) => s.me);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      await request(ops.SIGN_IN, { email: me.email, password });
      setPassword('');
      await onSignedIn();
    } catch (ex) { setError(ex); setBusy(false); }
  };
  return html`<${Dialog} title="Sign in again" onClose=${onClose} testid="fresh-signin-dialog">
    <form class="form dialog-body" onSubmit=${submit} novalidate>
      <p data-testid="fresh-signin-reason">For your safety, loosening the brakes of a live account needs a sign-in within the last
        5 minutes. Enter your password and the change goes ahead.</p>
      <${Field} label=${`Password for ${me?.email || 'your account'}`} name="password">${({ id }) => html`
        <input id=${id} type="password" autocomplete="current-password" autofocus data-testid="fresh-signin-password"
          value=${password} onInput=${(e) => setPassword(e.target.value)} />`}<//>
      <${ErrorText} error=${error} />
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn btn-primary" data-testid="fresh-signin-submit" disabled=${busy || !password}>
          ${busy ? 'Signing in…' : 'Sign in and continue'}</button>
      </div>
    </form>
  <//>`;
}

export function LimitsPage({ params }) {
  const accounts = useStore((s) => s.accounts);
  const active = useStore(activeAccount);
  const id = params.get('account');
  const acc = (id && accounts.find((a) => a.id === id)) || active;
  if (!acc) return html`<${NoAccount} />`;
  return html`<section class="page" aria-labelledby="limits-title" data-testid="limits-page" data-account-id=${acc.id} key=${acc.id}>
    <div class="page-head"><h1 id="limits-title">Limits and brakes</h1></div>
    <p class="muted">For <${AccountTag} account=${acc} />. Only you can change these; the chat cannot.</p>
    <${HaltSection} account=${acc} />
    <${LimitsForm} account=${acc} />
    <${BrokerBrakes} account=${acc} />
  </section>`;
}

function HaltSection({ account }) {
  const [run, dialog] = useFreshSignIn();
  return html`<section class="card section" aria-labelledby="halt-title">
    <h2 id="halt-title" class="card-title">Trading</h2>
    ${account.halted
      ? html`<p class="halted-note" data-testid="limits-halted">Halted: new orders are refused until you resume. Positions can still be closed.</p>
        <${ResumeButton} account=${account} run=${run} />`
      : html`<p class="muted">A halt cancels every open order, suspends trading at the broker and refuses new orders.</p>
        <${HaltButton} account=${account} />`}
    ${dialog}
  </section>`;
}

/** Halt, after a confirmation naming the account. */
export function HaltButton({ account }) {
  const online = useStore((s) => s.online);
  const [open, setOpen] = useState(false);
  if (account.halted) return null;
  return html`<button type="button" class="btn btn-danger-ghost" data-testid="account-halt" disabled=${!online} onClick=${() => setOpen(true)}>Halt</button>
    ${open && html`<${ConfirmDialog} title="Halt trading?" confirmLabel="Halt trading" cancelLabel="Keep trading" onClose=${() => setOpen(false)}
      message=${`Cancel every open order and block new orders on ${account.nickname} (${account.environment})?`}
      onConfirm=${async () => {
        upsertAccount((await request(ops.HALT_ACCOUNT, { accountId: account.id })).haltAccount);
        bumpOrders();
        toast(`Trading halted on ${account.nickname}.`, 'warn');
      }} />`}`;
}

function ResumeButton({ account, run, className = 'btn btn-primary', testid = 'account-resume' }) {
  const online = useStore((s) => s.online);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const resume = async () => {
    setBusy(true); setError(null);
    try {
      const resumed = await run((passkey) => request(ops.RESUME_ACCOUNT, { accountId: account.id, passkey }));
      upsertAccount(resumed.resumeAccount);
      toast(`Trading resumed on ${account.nickname}.`, 'ok');
    } catch (e) { if (e.code !== 'CANCELLED') setError(e); }
    setBusy(false);
  };
  return html`<button type="button" class=${className} data-testid=${testid} disabled=${busy || !online} onClick=${resume}>
      ${busy ? 'Resuming…' : 'Resume'}</button>
    <${ErrorText} error=${error} />`;
}

/** "Trading halted on <account> — Resume", under the header while the shown account is halted. */
export function HaltedBanner() {
  const acc = useStore(activeAccount);
  const [run, dialog] = useFreshSignIn();
  if (!acc?.halted) return null;
  return html`<div class="halted-banner" role="alert" data-testid="halted-banner">
    <span>Trading halted on <strong>${acc.nickname}</strong> —</span>
    <${ResumeButton} account=${acc} run=${run} className="btn btn-small" testid="halted-resume" />
    ${dialog}
  </div>`;
}

const text = (v) => (v === null || v === undefined ? '' : String(v));
const symbols = (list) => (list ? list.join(', ') : '');
const symbolList = (raw) => raw.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);

function LimitsForm({ account }) {
  const [run, dialog] = useFreshSignIn();
  const [form, setForm] = useState(null);
  const [err, setErr] = useState({});
  const [busy, setBusy] = useState(false);
  const loaded = useLoader(async () => {
    const limits = (await request(ops.ACCOUNT_LIMITS, { id: account.id })).account.limits;
    setForm({
      maxOrderNotional: text(limits.maxOrderNotional), maxDailyLoss: text(limits.maxDailyLoss),
      maxOrdersPerDay: text(limits.maxOrdersPerDay), allowedSymbols: symbols(limits.allowedSymbols),
      deniedSymbols: symbols(limits.deniedSymbols), allowShort: text(limits.allowShort),
    });
    return limits;
  }, [account.id]);
  if (!form) {
    return html`<section class="card section"><h2 class="card-title">Limits</h2>
      ${loaded.error ? html`<${ErrorText} error=${loaded.error} />` : html`<${Spinner} label="Loading limits" />`}</section>`;
  }
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });

  const submit = async (e) => {
    e.preventDefault();
    const bad = {};
    for (const name of ['maxOrderNotional', 'maxDailyLoss']) {
      if (form[name].trim() && !DECIMAL.test(form[name].trim())) bad[name] = 'Enter an amount in dollars, or leave it empty for no limit.';
    }
    if (form.maxOrdersPerDay.trim() && !INTEGER.test(form.maxOrdersPerDay.trim())) bad.maxOrdersPerDay = 'Enter a whole number, or leave it empty for no limit.';
    setErr(bad);
    if (Object.keys(bad).length) return;
    const input = {
      maxOrderNotional: form.maxOrderNotional.trim() || null,
      maxDailyLoss: form.maxDailyLoss.trim() || null,
      maxOrdersPerDay: form.maxOrdersPerDay.trim() ? Number(form.maxOrdersPerDay.trim()) : null,
      allowedSymbols: form.allowedSymbols.trim() ? symbolList(form.allowedSymbols) : null,
      deniedSymbols: symbolList(form.deniedSymbols),
      allowShort: form.allowShort === '' ? null : form.allowShort === 'true',
    };
    setBusy(true);
    try {
      const saved = (await run((passkey) => request(ops.SET_ACCOUNT_LIMITS, { accountId: account.id, input, passkey }))).setAccountLimits;
      const { limits, ...fields } = saved;
      upsertAccount(fields);
      setForm({ ...form, allowedSymbols: symbols(limits.allowedSymbols), deniedSymbols: symbols(limits.deniedSymbols) });
      toast(`Limits of ${account.nickname} saved.`, 'ok');
    } catch (ex) {
      if (ex.code !== 'CANCELLED') setErr(ex.field && LIMIT_FIELDS.includes(ex.field) ? { [ex.field]: ex.message } : { form: ex });
    }
    setBusy(false);
  };

  const money = (name, label, hint) => html`<${Field} label=${label} name=${name} error=${err[name]} hint=${hint}>${({ id, describedBy }) => html`
    <input id=${id} type="text" inputmode="decimal" autocomplete="off" data-testid=${`limit-${name}`} aria-describedby=${describedBy}
      placeholder="No limit" value=${form[name]} onInput=${set(name)} />`}<//>`;
  return html`<section class="card section" aria-labelledby="limits-form-title">
    <h2 id="limits-form-title" class="card-title">Limits</h2>
    <p class="muted small">Every order is checked against these before it leaves the server, whichever way it comes (ticket, chat, confirmation). Empty: no limit.</p>
    <form class="form" data-testid="limits-form" onSubmit=${submit} novalidate>
      ${money('maxOrderNotional', 'Max order size (USD)', 'The most one order may be worth.')}
      ${money('maxDailyLoss', 'Max daily loss (USD)', 'Once the account is down this much today, only orders that reduce positions go.')}
      <${Field} label="Max orders per day" name="maxOrdersPerDay" error=${err.maxOrdersPerDay}>${({ id, describedBy }) => html`
        <input id=${id} type="text" inputmode="numeric" autocomplete="off" data-testid="limit-maxOrdersPerDay" aria-describedby=${describedBy}
          placeholder="No limit" value=${form.maxOrdersPerDay} onInput=${set('maxOrdersPerDay')} />`}<//>
      <${Field} label="Only these symbols" name="allowedSymbols" error=${err.allowedSymbols} hint="Separated by commas; empty: any symbol.">${({ id, describedBy }) => html`
        <input id=${id} type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" class="mono upper" data-testid="limit-allowedSymbols"
          aria-describedby=${describedBy} placeholder="Any symbol" value=${form.allowedSymbols} onInput=${set('allowedSymbols')} />`}<//>
      <${Field} label="Never these symbols" name="deniedSymbols" error=${err.deniedSymbols} hint="Separated by commas.">${({ id, describedBy }) => html`
        <input id=${id} type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" class="mono upper" data-testid="limit-deniedSymbols"
          aria-describedby=${describedBy} placeholder="None" value=${form.deniedSymbols} onInput=${set('deniedSymbols')} />`}<//>
      <${Field} label="Short selling" name="allowShort" error=${err.allowShort}>${({ id }) => html`
        <select id=${id} data-testid="limit-allowShort" value=${form.allowShort} onChange=${set('allowShort')}>
          <option value="">No limit</option><option value="true">Allowed</option><option value="false">Not allowed</option>
        </select>`}<//>
      <${ErrorText} error=${err.form} />
      <button type="submit" class="btn btn-primary btn-block" data-testid="limits-save" disabled=${busy}>${busy ? 'Saving…' : 'Save limits'}</button>
    </form>
    ${dialog}
  </section>`;
}

function BrokerBrakes({ account }) {
  const [run, dialog] = useFreshSignIn();
  const [current, setCurrent] = useState(null);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const loaded = useLoader(async () => {
    const found = (await request(ops.BROKER_BRAKES, { id: account.id })).account.brokerConfiguration;
    setCurrent(found); setForm(found);
    return found;
  }, [account.id, account.halted]);
  if (!form) {
    return html`<section class="card section"><h2 class="card-title">Broker settings</h2>
      ${loaded.error ? html`<${ErrorText} error=${loaded.error} />` : html`<${Spinner} label="Loading broker settings" />`}</section>`;
  }
  const submit = async (e) => {
    e.preventDefault();
    const input = {};
    for (const [k, v] of Object.entries(form)) if (k !== 'suspendTrade' && v !== current[k]) input[k] = v;
    if (!Object.keys(input).length) { toast('Nothing changed.'); return; }
    setBusy(true); setError(null);
    try {
      const saved = (await run((passkey) => request(ops.SET_BROKER_CONFIGURATION, { accountId: account.id, input, passkey }))).setBrokerConfiguration;
      setCurrent(saved); setForm(saved);
      toast(`Broker settings of ${account.nickname} saved.`, 'ok');
    } catch (ex) { if (ex.code !== 'CANCELLED') setError(ex); }
    setBusy(false);
  };
  const check = (name, label) => html`<label class="check-row"><input type="checkbox" data-testid=${`brake-${name}`} checked=${form[name]}
    onChange=${(e) => setForm({ ...form, [name]: e.target.checked })} /><span>${label}</span></label>`;
  const choice = (name, label) => html`<${Field} label=${label} name=${name}>${({ id }) => html`
    <select id=${id} data-testid=${`brake-${name}`} value=${text(form[name])}
      onChange=${(e) => setForm({ ...form, [name]: name === 'maxOptionsTradingLevel' ? Number(e.target.value) : e.target.value })}>
      ${BRAKE_CHOICES[name].map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select>`}<//>`;
  return html`<section class="card section" aria-labelledby="brakes-title">
    <h2 id="brakes-title" class="card-title">Broker settings</h2>
    <p class="muted small">Alpaca's own brakes on this account, which hold even for orders placed elsewhere.</p>
    <p data-testid="brake-suspendTrade" data-value=${String(form.suspendTrade)}>Trading suspended at the broker: <strong>${form.suspendTrade ? 'yes (halted)' : 'no'}</strong></p>
    <form class="form" data-testid="brakes-form" onSubmit=${submit} novalidate>
      ${check('noShorting', 'No short selling')}
      ${check('fractionalTrading', 'Fractional shares')}
      ${choice('maxMarginMultiplier', 'Margin')}
      ${choice('dtbpCheck', 'Day-trading buying power check')}
      ${choice('pdtCheck', 'Pattern day trader check')}
      ${choice('tradeConfirmEmail', 'Trade confirmation emails')}
      ${form.maxOptionsTradingLevel !== null && form.maxOptionsTradingLevel !== undefined && choice('maxOptionsTradingLevel', 'Options trading level')}
      <${ErrorText} error=${error} />
      <button type="submit" class="btn btn-block" data-testid="brakes-save" disabled=${busy}>${busy ? 'Saving…' : 'Save broker settings'}</button>
    </form>
    ${dialog}
  </section>`;
}

function bumpOrders() {
  store.set((s) => ({ rev: { ...s.rev, orders: s.rev.orders + 1 } }));
}
