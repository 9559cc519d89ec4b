// Queries and mutations over HTTP: POST /graphql, same origin, session cookie.
//
// Every failure becomes an ApiError with a `code`: the server's
// extensions.code (UNAUTHENTICATED, BAD_USER_INPUT, CONFIRMATION_REQUIRED, …)
// or NETWORK / HTTP_<status> / BAD_RESPONSE for transport problems, so screens
// can decide what to show without parsing messages.

import { refusalText } from './refusals.js';

export const ENDPOINT = '/graphql';

export class ApiError extends Error {
  constructor(message, { code = 'UNKNOWN', field = null, extensions = {}, errors = [], data = null, status = 0 } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;          // extensions.field for BAD_USER_INPUT
    this.extensions = extensions;
    this.errors = errors;        // all GraphQL errors
    this.data = data;            // partial data, if any
    this.status = status;
  }
  get proposal() { return this.extensions.proposal ?? null; }       // CONFIRMATION_REQUIRED
  get retryAfter() { return this.extensions.retryAfter ?? null; }   // RATE_LIMITED
  get requestId() { return this.extensions.requestId ?? null; }     // INTERNAL_SERVER_ERROR
  get isNetwork() { return this.code === 'NETWORK'; }
  /** The broker no longer accepts the account's stored keys (revoked at Alpaca). */
  get keysRefused() { return this.code === 'BROKER_REJECTED' && this.extensions.reason === 'KEYS_REFUSED'; }
}

/** Build an ApiError from a GraphQL `errors` array. */
export function errorFromGraphQL(errors, data = null, status = 0) {
  const first = errors?.[0] ?? {};
  const ext = first.extensions ?? {};
  return new ApiError(first.message || 'Request failed', {
    code: ext.code || 'UNKNOWN', field: ext.field ?? null, extensions: ext, errors, data, status,
  });
}

const listeners = new Set();
/** Called with every ApiError (e.g. the app signs out on UNAUTHENTICATED). */
export function onApiError(fn) { listeners.add(fn); return () => listeners.delete(fn); }
const okListeners = new Set();
/** Called after every successful response (the app uses it to clear "offline"). */
export function onApiOk(fn) { okListeners.add(fn); return () => okListeners.delete(fn); }

function report(err) { for (const fn of listeners) { try { fn(err); } catch { /* a listener must not break a request */ } } }

/**
 * Run one operation. Resolves with `data`; rejects with ApiError.
 * `doc` is {query, operationName} from operations.js.
 */
export async function request(doc, variables = {}, { signal } = {}) {
  let res;
  try {
    res = await fetch(ENDPOINT, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: doc.query, operationName: doc.operationName, variables }),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    const err = new ApiError('You appear to be offline. Check your connection.', { code: 'NETWORK' });
    report(err);
    throw err;
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const err = errorFromGraphQL(body.errors, body.data ?? null, res.status);
    // Which account a failure was about (account-scoped operations name it), so the app
    // can mark that account unhealthy when its keys are refused.
    err.accountId = variables.accountId ?? variables.id ?? null;
    report(err);
    throw err;
  }
  if (!res.ok || !body || !body.data) {
    const err = new ApiError(res.ok ? 'Unexpected response from the server.' : `Server error (${res.status}).`,
      { code: res.ok ? 'BAD_RESPONSE' : `HTTP_${res.status}`, status: res.status });
    report(err);
    throw err;
  }
  for (const fn of okListeners) { try { fn(); } catch { /* ignore */ } }
  return body.data;
}

/** A sentence for a person, from any error. */
export function describeError(err) {
  if (!err) return '';
  switch (err.code) {
    case 'NETWORK': return 'You appear to be offline. Check your connection and try again.';
    case 'UNAUTHENTICATED': return 'Your session has ended. Please sign in again.';
    case 'NOT_FOUND': return 'Not found. It may have been removed.';
    case 'RATE_LIMITED': return err.retryAfter ? `Too many attempts. Try again in ${err.retryAfter} s.` : 'Too many attempts. Try again shortly.';
    case 'BROKER_UNAVAILABLE': return 'The broker is not reachable right now. Try again in a moment.';
    case 'LLM_UNAVAILABLE': return 'The chat assistant is unavailable right now.';
    case 'LIMIT_EXCEEDED': case 'ACCOUNT_HALTED': return refusalText({ ...err.extensions, code: err.code, message: err.message });
    case 'FORBIDDEN': return err.extensions.reason === 'FRESH_SIGN_IN_REQUIRED'
      ? 'For your safety, this change on a live account needs a recent sign-in. Sign in again to go ahead.'
      : err.message || 'Not allowed.';
    case 'INTERNAL_SERVER_ERROR': return `Something went wrong on the server${err.requestId ? ` (reference ${err.requestId})` : ''}.`;
    default: return err.message || 'Something went wrong.';
  }
}
