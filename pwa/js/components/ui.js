// Small shared pieces: environment badge, live values with a change flash,
// accessible dialogs/sheets, form fields, segmented controls, pull-to-refresh.

import { html } from '../html.js';
import { useEffect, useRef, useState, useCallback } from '../../vendor/hooks.module.js';
import { compare } from '../format.js';
import { describeError } from '../graphql.js';
import { useStore } from '../store.js';

export function EnvBadge({ env, testid = 'env-badge', size = '' }) {
  const live = env === 'LIVE';
  return html`<span class=${`badge ${live ? 'badge-live' : 'badge-paper'} ${size}`} data-testid=${testid} data-env=${env}
    title=${live ? 'Live account: real money' : 'Paper account: simulated money'}>${live ? 'LIVE' : 'PAPER'}</span>`;
}

/** An account's name with its environment badge, for anything that acts on it. */
export function AccountTag({ account, testid = 'account-tag' }) {
  if (!account) return html`<span class="account-tag muted" data-testid=${testid}>No account</span>`;
  return html`<span class="account-tag" data-testid=${testid} data-account-id=${account.id}>
    <span class="account-tag-name">${account.nickname}</span> <${EnvBadge} env=${account.environment} /></span>`;
}

/** A value that flashes briefly when it changes (up/down), unless motion is reduced (CSS). */
export function LiveValue({ value, text, testid, className = '', stale = false, label }) {
  const prev = useRef(value);
  const [flash, setFlash] = useState({ dir: null, n: 0 });
  useEffect(() => {
    const before = prev.current;
    prev.current = value;
    if (before == null || value == null || before === value) return undefined;
    const c = compare(value, before);
    if (c === 0) return undefined;
    setFlash((f) => ({ dir: c > 0 ? 'up' : 'down', n: f.n + 1 }));
    const t = setTimeout(() => setFlash((f) => ({ ...f, dir: null })), 1200);
    return () => clearTimeout(t);
  }, [value]);
  const cls = `live-value ${className} ${flash.dir ? `flash-${flash.dir} flash-${flash.n % 2}` : ''} ${stale ? 'is-stale' : ''}`;
  return html`<span class=${cls} data-testid=${testid} data-value=${value ?? ''} aria-label=${label ? `${label}: ${text}` : undefined}>${text}</span>`;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog on the native <dialog> element (the rest of the page becomes
 * inert). Tab is kept inside, Esc and a backdrop click close, focus returns to
 * where it was. variant: "modal" | "sheet" (bottom sheet on phones, dropdown on
 * wide screens when `anchor` is given).
 */
export function Dialog({ title, onClose, children, variant = 'modal', testid, anchor, className = '', describedBy }) {
  const ref = useRef(null);
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2, 8)}`).current;
  useEffect(() => {
    const dlg = ref.current;
    const returnTo = document.activeElement;
    if (!dlg.open) dlg.showModal();
    if (anchor?.current && matchMedia('(min-width: 48rem)').matches) {
      const r = anchor.current.getBoundingClientRect();
      dlg.classList.add('as-dropdown');
      dlg.style.top = `${Math.round(r.bottom + 6)}px`;
      dlg.style.left = `${Math.round(Math.max(8, Math.min(r.left, innerWidth - 360)))}px`;
    }
    const first = dlg.querySelector('[autofocus]') || dlg.querySelector('[aria-current="true"]') || dlg.querySelector(FOCUSABLE);
    first?.focus();
    const onCancel = (e) => { e.preventDefault(); onClose?.(); };
    const onKey = (e) => {
      if (e.key !== 'Tab') return;
      const items = [...dlg.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
      if (!items.length) return;
      const firstEl = items[0], lastEl = items[items.length - 1];
      if (e.shiftKey && document.activeElement === firstEl) { e.preventDefault(); lastEl.focus(); }
      else if (!e.shiftKey && document.activeElement === lastEl) { e.preventDefault(); firstEl.focus(); }
    };
    const onClick = (e) => { if (e.target === dlg) onClose?.(); };
    dlg.addEventListener('cancel', onCancel);
    dlg.addEventListener('keydown', onKey);
    dlg.addEventListener('click', onClick);
    return () => {
      dlg.removeEventListener('cancel', onCancel);
      dlg.removeEventListener('keydown', onKey);
      dlg.removeEventListener('click', onClick);
      if (dlg.open) dlg.close();
      if (returnTo && returnTo.isConnected && typeof returnTo.focus === 'function') returnTo.focus();
    };
  }, []);
  return html`<dialog ref=${ref} class=${`dialog dialog-${variant} ${className}`} data-testid=${testid}
      aria-labelledby=${titleId} aria-describedby=${describedBy}>
    <div class="dialog-inner">
      <div class="dialog-head">
        <h2 id=${titleId} class="dialog-title">${title}</h2>
        <button type="button" class="icon-btn" aria-label="Close" data-testid="dialog-close" onClick=${() => onClose?.()}>✕</button>
      </div>
      ${children}
    </div>
  </dialog>`;
}

/** Are you sure? `tone="danger"` for destructive actions. Resolves through onConfirm (may be async). */
export function ConfirmDialog({ title, message, confirmLabel = 'Confirm', cancelLabel = 'Cancel', tone = 'danger', onConfirm, onClose, children }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true); setError(null);
    try { await onConfirm(); onClose(); } catch (e) { setError(e); setBusy(false); }
  };
  return html`<${Dialog} title=${title} onClose=${onClose} testid="confirm-dialog">
    <div class="dialog-body">
      <p class="confirm-message">${message}</p>
      ${children}
      ${error && html`<${ErrorText} error=${error} />`}
    </div>
    <div class="dialog-actions">
      <button type="button" class="btn" data-testid="confirm-cancel" onClick=${onClose} autofocus>${cancelLabel}</button>
      <button type="button" class=${`btn btn-${tone}`} data-testid="confirm-ok" disabled=${busy} onClick=${go}>
        ${busy ? 'Working…' : confirmLabel}</button>
    </div>
  <//>`;
}

export function ErrorText({ error, testid = 'form-error' }) {
  const bannerSaysIt = useStore((s) => !!error?.keysRefused && error.accountId === s.activeId && !!s.keysRefused[s.activeId]);
  // Refused keys of the shown account are said once, by the banner under the header.
  if (!error || bannerSaysIt) return null;
  return html`<p class="error-text" role="alert" data-testid=${testid} data-code=${error.code || ''}>${describeError(error)}</p>`;
}

let fieldSeq = 0;
/** Label + control + hint + error (the error is linked with aria-describedby). */
export function Field({ label, error, hint, children, name, className = '' }) {
  const id = useRef(`f${++fieldSeq}`).current;
  const errId = `${id}-err`, hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  const fn = [].concat(children).find((c) => typeof c === 'function');
  const control = fn ? fn({ id, describedBy, invalid: !!error }) : children;
  return html`<div class=${`field ${error ? 'has-error' : ''} ${className}`}>
    <label for=${id} class="field-label">${label}</label>
    ${control}
    ${hint && html`<p id=${hintId} class="field-hint">${hint}</p>`}
    ${error && html`<p id=${errId} class="field-error" role="alert" data-testid="field-error" data-field=${name}>${error}</p>`}
  </div>`;
}

/** A segmented control (radio group) with 44px targets. */
export function Segmented({ legend, name, value, options, onChange, testidPrefix, className = '' }) {
  return html`<fieldset class=${`segmented ${className}`}>
    <legend class="field-label">${legend}</legend>
    <div class="segmented-row">
      ${options.map((o) => html`<label class=${`segment ${value === o.value ? 'is-on' : ''} ${o.tone ? `segment-${o.tone}` : ''}`}
          data-testid=${testidPrefix ? `${testidPrefix}-${o.value.toLowerCase()}` : undefined}>
        <input type="radio" name=${name} value=${o.value} checked=${value === o.value} onChange=${() => onChange(o.value)} />
        <span>${o.label}</span>
      </label>`)}
    </div>
  </fieldset>`;
}

/** Map an ApiError to {field: message} using extensions.field, the rest to `form`. */
export function fieldErrors(err, fields) {
  if (!err) return {};
  if (err.field && fields.includes(err.field)) return { [err.field]: err.message };
  return { form: err };
}

export function Spinner({ label = 'Loading' }) {
  return html`<span class="spinner" role="status" aria-label=${label}></span>`;
}

/** Pull down at the top of a scroll container to refresh (touch only; cheap). */
export function usePullToRefresh(ref, onRefresh) {
  const [pull, setPull] = useState(0);
  const cb = useRef(onRefresh); cb.current = onRefresh;
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    let startY = null, dist = 0;
    const start = (e) => { startY = el.scrollTop <= 0 && e.touches.length === 1 ? e.touches[0].clientY : null; dist = 0; };
    const move = (e) => {
      if (startY === null) return;
      dist = Math.max(0, Math.min(120, (e.touches[0].clientY - startY) * 0.5));
      setPull(dist);
    };
    const end = () => {
      if (startY !== null && dist >= 60) cb.current();
      startY = null; dist = 0; setPull(0);
    };
    el.addEventListener('touchstart', start, { passive: true });
    el.addEventListener('touchmove', move, { passive: true });
    el.addEventListener('touchend', end, { passive: true });
    el.addEventListener('touchcancel', end, { passive: true });
    return () => {
      el.removeEventListener('touchstart', start); el.removeEventListener('touchmove', move);
      el.removeEventListener('touchend', end); el.removeEventListener('touchcancel', end);
    };
  }, [ref.current]);
  return pull;
}

/** Run an async loader with loading/error state; reruns when deps change. */
export function useLoader(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(async (soft = false) => {
    const n = ++seq.current;
    setState((s) => ({ data: soft ? s.data : null, error: soft ? s.error : null, loading: true }));
    try {
      const data = await load();
      if (n === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (n === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

/** The empty state of every account page while the person has no account (or none is
 * active): what to do first, inside the page's margins. */
export function NoAccount() {
  const count = useStore((s) => s.accounts.length);
  if (count > 0) {
    return html`<section class="page"><div class="empty" data-testid="no-account">
      <p><strong>Choose the account to work on.</strong></p>
      <p class="muted">Pick one with the account button at the top, or make one active on the Accounts page.</p>
      <a class="btn btn-primary" href="#/accounts">Go to accounts</a>
    </div></section>`;
  }
  return html`<section class="page"><div class="empty onboarding" data-testid="no-account">
    <h1>Connect your first Alpaca account</h1>
    <p>alpaca-chat shows and trades your own Alpaca brokerage accounts. Start with a <strong>paper</strong> account:
      it trades simulated money with real market prices, so nothing you try can cost you anything.</p>
    <ol class="steps">
      <li>Sign in at <a href="https://app.alpaca.markets" target="_blank" rel="noopener noreferrer">app.alpaca.markets</a>
        (an account is free) and switch to <em>Paper Trading</em>.</li>
      <li>Under <em>API Keys</em>, generate a key and copy the key id and the secret.</li>
      <li>Add them here as a paper account. Live keys (real money) can come later.</li>
    </ol>
    <p class="muted small">Running the built-in sandbox (<code>alpaca-chat serve --sandbox</code>)? It prints demo keys in the server's console when it starts: use those.</p>
    <a class="btn btn-primary" href="#/accounts" data-testid="no-account-add">Add a paper account</a>
  </div></section>`;
}
