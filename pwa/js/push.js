// This device's Web Push subscription (PUSH-01, PUSH-03), shared by the
// Notifications section (turning them off) and the session (signing out): a
// signed-out phone must hear nothing more of the person.
//
// The server keys a subscription by its endpoint, not by the session that added
// it, so only this device can name the row to remove. Dropping the browser's
// subscription as well makes the push service itself refuse later pushes (404/410),
// on which the server deletes the row: nothing arrives even when the server could
// not be told (offline, or a session that had already ended).

import { request } from './graphql.js';
import * as ops from './operations.js';

/** The browser's push subscription for this app, or null (no service worker, none made). */
export async function deviceSubscription() {
  if (!('serviceWorker' in navigator)) return null;
  // getRegistration, not `ready`: `ready` never settles where no worker registers
  const registration = await navigator.serviceWorker.getRegistration();
  return registration?.pushManager ? registration.pushManager.getSubscription() : null;
}

/** The server forgets this device, then the browser drops the subscription; throws, keeping both, if the server was not told. */
export async function removeDeviceSubscription(subscription) {
  await request(ops.REMOVE_PUSH_SUBSCRIPTION, { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
}

/** No more pushes to this device: told to the server while `signedIn`, always dropped in the browser. */
export async function forgetThisDevice({ signedIn }) {
  const subscription = await deviceSubscription().catch(() => null);
  if (!subscription) return;
  if (signedIn) {
    try { await removeDeviceSubscription(subscription); return; } catch { /* not told: dropped below */ }
  }
  await subscription.unsubscribe().catch(() => {});
}
