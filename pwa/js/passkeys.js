// Passkeys in the browser (docs/requirements.md KEY-01..03): navigator.credentials
// with the server's options in WebAuthn's standard JSON form, answers sent back as
// PublicKeyCredential.toJSON() writes them. Where the browser lacks the JSON helpers
// (older Safari), a small base64url conversion does the same.
//
// `withPasskey(run)` is how anything a passkey may approve is sent: `run(null)`
// first; when the server answers PASSKEY_REQUIRED, the device asks for Face ID /
// a fingerprint / the PIN over `extensions.options`, and `run(answer)` goes again.

import { ApiError, request } from './graphql.js';
import * as ops from './operations.js';

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

const B64URL = { '+': '-', '/': '_' };
function toBase64url(buffer) {
  let text = '';
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return btoa(text).replace(/[+/]/g, (c) => B64URL[c]).replace(/=+$/, '');
}
function fromBase64url(text) {
  const raw = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
}
const descriptors = (list = []) => list.map((d) => ({ ...d, id: fromBase64url(d.id) }));

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

function answerJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = r.getTransports?.() ?? [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return {
    id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? null, response, clientExtensionResults: {},
  };
}

/** The device's own refusal (cancelled, timed out, no passkey) as an ApiError the screens show. */
function ceremonyError(e) {
  if (e instanceof ApiError) return e;
  const message = e?.name === 'InvalidStateError'
    ? 'This device already has a passkey for your account.'
    : 'The passkey was not used (cancelled, timed out or not verified). Nothing was sent.';
  return new ApiError(message, { code: 'PASSKEY_CANCELLED' });
}

export async function createPasskey(options) {
  try {
    return answerJSON(await navigator.credentials.create({ publicKey: creationOptions(options) }));
  } catch (e) { throw ceremonyError(e); }
}

export async function getPasskey(options) {
  try {
    return answerJSON(await navigator.credentials.get({ publicKey: requestOptions(options) }));
  } catch (e) { throw ceremonyError(e); }
}

/** Run `run(null)`; on PASSKEY_REQUIRED sign the options with a passkey and run `run(answer)`. */
export async function withPasskey(run) {
  try {
    return await run(null);
  } catch (e) {
    if (e?.code !== 'PASSKEY_REQUIRED' || !e.extensions?.options) throw e;
    return run(await getPasskey(e.extensions.options));
  }
}

/** Register a passkey for the signed-in person; resolves with the stored Passkey. */
export async function addPasskey(name) {
  const begun = await withPasskey((passkey) => request(ops.BEGIN_PASSKEY_REGISTRATION, { passkey }));
  const credential = await createPasskey(begun.beginPasskeyRegistration);
  return (await request(ops.FINISH_PASSKEY_REGISTRATION, { credential, name })).finishPasskeyRegistration;
}

/** The passkey ceremony of signing in (no email): resolves once the session cookie is set. */
export async function passkeySignIn() {
  const options = (await request(ops.BEGIN_PASSKEY_SIGN_IN)).beginPasskeySignIn;
  const credential = await getPasskey(options);
  return (await request(ops.FINISH_PASSKEY_SIGN_IN, { credential })).finishPasskeySignIn;
}

/** A name for a new passkey, from the device it is made on. */
export function deviceName() {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  if (/Android/.test(ua)) return 'Android phone';
  if (/Mac OS X/.test(ua)) return 'Mac';
  if (/Windows/.test(ua)) return 'Windows PC';
  return 'This device';
}
