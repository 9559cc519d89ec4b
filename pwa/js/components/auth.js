// Sign in, and sign up with an invite code (the first user of an install needs
// none; a link with ?invite=CODE opens sign-up with the code filled in).

import { html } from '../html.js';
import { useState } from '../../vendor/hooks.module.js';
import { signIn, signInWithPasskey, signUp } from '../session.js';
import { passkeysSupported } from '../passkeys.js';
import { Field, ErrorText, fieldErrors } from './ui.js';
import { OfflineNotice } from './header.js';

function inviteFromUrl() {
  const code = new URLSearchParams(location.search).get('invite');
  return code ? code.trim() : '';
}

export function AuthScreen() {
  const initialInvite = inviteFromUrl();
  const [mode, setMode] = useState(initialInvite ? 'signup' : 'signin');
  return html`<main class="auth" id="main">
    <div class="auth-card">
      <${OfflineNotice} />
      <div class="brand"><img src="./icons/icon-192.png" alt="" width="48" height="48" /><h1>alpaca-chat</h1></div>
      ${mode === 'signin'
        ? html`<${SignIn} onSwitch=${() => setMode('signup')} />`
        : html`<${SignUp} initialInvite=${initialInvite} onSwitch=${() => setMode('signin')} />`}
    </div>
  </main>`;
}

function SignIn({ onSwitch }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setErr({});
    try { await signIn(email.trim(), password); } catch (ex) { setErr(fieldErrors(ex, ['email', 'password'])); setBusy(false); }
  };
  // KEY-01: no email typed; the device offers its passkeys for this site
  const withPasskey = async () => {
    setBusy(true); setErr({});
    try { await signInWithPasskey(); } catch (ex) { setErr({ form: ex }); setBusy(false); }
  };
  return html`<form class="form" data-testid="signin-form" onSubmit=${submit} novalidate>
    <h2>Sign in</h2>
    ${passkeysSupported() && html`<button type="button" class="btn btn-primary btn-block" data-testid="signin-passkey"
      disabled=${busy} onClick=${withPasskey}>Sign in with a passkey</button>
    <p class="muted small">Or with your email and password:</p>`}
    <${Field} label="Email" name="email" error=${err.email}>${({ id, describedBy }) => html`
      <input id=${id} type="email" autocomplete="username" required inputmode="email" data-testid="signin-email"
        aria-describedby=${describedBy} value=${email} onInput=${(e) => setEmail(e.target.value)} />`}<//>
    <${Field} label="Password" name="password" error=${err.password}>${({ id, describedBy }) => html`
      <input id=${id} type="password" autocomplete="current-password" required data-testid="signin-password"
        aria-describedby=${describedBy} value=${password} onInput=${(e) => setPassword(e.target.value)} />`}<//>
    <${ErrorText} error=${err.form} testid="auth-error" />
    <button class="btn btn-primary btn-block" type="submit" disabled=${busy} data-testid="signin-submit">${busy ? 'Signing in…' : 'Sign in'}</button>
    <p class="switch-mode">New here? <button type="button" class="link-btn" data-testid="show-signup" onClick=${onSwitch}>Create an account</button></p>
  </form>`;
}

function SignUp({ initialInvite, onSwitch }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [invite, setInvite] = useState(initialInvite);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setErr({});
    try {
      await signUp(email.trim(), password, invite.trim());
      if (location.search) history.replaceState(null, '', location.pathname + location.hash);
    } catch (ex) { setErr(fieldErrors(ex, ['email', 'password', 'inviteCode'])); setBusy(false); }
  };
  return html`<form class="form" data-testid="signup-form" onSubmit=${submit} novalidate>
    <h2>Create your account</h2>
    <${Field} label="Email" name="email" error=${err.email}>${({ id, describedBy }) => html`
      <input id=${id} type="email" autocomplete="email" required inputmode="email" data-testid="signup-email"
        aria-describedby=${describedBy} value=${email} onInput=${(e) => setEmail(e.target.value)} />`}<//>
    <${Field} label="Password" name="password" error=${err.password} hint="Use a long, unique passphrase.">${({ id, describedBy }) => html`
      <input id=${id} type="password" autocomplete="new-password" required data-testid="signup-password"
        aria-describedby=${describedBy} value=${password} onInput=${(e) => setPassword(e.target.value)} />`}<//>
    <${Field} label="Invite code" name="inviteCode" error=${err.inviteCode} hint="From the friend who invited you. The very first user of a new install needs none.">${({ id, describedBy }) => html`
      <input id=${id} type="text" autocomplete="off" autocapitalize="none" spellcheck="false" data-testid="signup-invite"
        aria-describedby=${describedBy} value=${invite} onInput=${(e) => setInvite(e.target.value)} />`}<//>
    <${ErrorText} error=${err.form} testid="auth-error" />
    <button class="btn btn-primary btn-block" type="submit" disabled=${busy} data-testid="signup-submit">${busy ? 'Creating…' : 'Create account'}</button>
    <p class="switch-mode">Already have an account? <button type="button" class="link-btn" data-testid="show-signin" onClick=${onSwitch}>Sign in</button></p>
  </form>`;
}
