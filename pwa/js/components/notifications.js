// "Notifications" on the account page: turn Web Push on for this device (PUSH-01).
//
// Shown only where it can work: a browser with service workers and PushManager;
// on iPhone and iPad only inside the installed app (Home Screen), which is the
// only place iOS offers push, so there it says how to install instead. The
// permission is asked from the tap itself, as iOS requires. The subscription's
// endpoint and keys go to the server (addPushSubscription); the server refuses
// endpoints that are not a browser's own push service.
import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { request, describeError } from '../graphql.js';
import * as ops from '../operations.js';
import { toast } from '../store.js';
import { removeDeviceSubscription } from '../push.js';

const KINDS = [
  ['FILLS', 'Fills and partial fills'],
  ['REJECTIONS', 'Rejected orders'],
  ['CANCELLATIONS', 'Canceled orders'],
  ['EXPIRIES', 'Expired orders'],
  ['PROPOSALS', 'Live orders waiting for your confirmation'],
  ['GUARD_REFUSALS', 'Orders refused by your limits'],
  ['HALTS', 'Trading halted'],
  ['BROKER_KEYS', 'Broker keys that stopped working'],
];

function isIos() {
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

function isStandalone() {
  return navigator.standalone === true || matchMedia('(display-mode: standalone)').matches;
}

function pushSupport() {
  if (isIos() && !isStandalone()) return 'install-first';
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  return 'supported';
}

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function currentSubscription() {
  const reg = await navigator.serviceWorker.ready;
  return reg.pushManager.getSubscription();
}

export function NotificationsSection({ disabled }) {
  const support = pushSupport();
  const [serverKey, setServerKey] = useState(undefined); // undefined: not known yet
  const [on, setOn] = useState(false);
  const [settings, setSettings] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    (async () => {
      const [{ vapidPublicKey }, { notificationSettings }] = await Promise.all([
        request(ops.VAPID_PUBLIC_KEY), request(ops.NOTIFICATION_SETTINGS)]);
      if (!live) return;
      setServerKey(vapidPublicKey);
      setSettings(notificationSettings);
      if (vapidPublicKey && support === 'supported' && Notification.permission === 'granted') {
        const sub = await currentSubscription();
        if (live) setOn(Boolean(sub));
      }
    })().catch(() => { if (live) setServerKey(null); });
    return () => { live = false; };
  }, []);

  const turnOn = async () => {
    // Asked first, straight from the tap: iOS allows the prompt only in a user gesture.
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') { toast('Notifications are blocked: allow them in this browser\u2019s settings', 'error'); return; }
    setBusy(true);
    try {
      const reg = await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.getSubscription()
        || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(serverKey) });
      const { endpoint, keys } = sub.toJSON();
      await request(ops.ADD_PUSH_SUBSCRIPTION, { input: { endpoint, p256dh: keys.p256dh, auth: keys.auth } });
      setOn(true);
      toast('Notifications are on for this device');
    } catch (e) { toast(describeError(e), 'error'); } finally { setBusy(false); }
  };

  const turnOff = async () => {
    setBusy(true);
    try {
      const sub = await currentSubscription();
      if (sub) await removeDeviceSubscription(sub);
      setOn(false);
    } catch (e) { toast(describeError(e), 'error'); } finally { setBusy(false); }
  };

  const save = async (input) => {
    try {
      const { setNotificationSettings } = await request(ops.SET_NOTIFICATION_SETTINGS, { input });
      setSettings(setNotificationSettings);
    } catch (e) { toast(describeError(e), 'error'); }
  };
  const toggleKind = (kind, wanted) => {
    const kinds = KINDS.map(([k]) => k).filter((k) => (k === kind ? wanted : settings.kinds.includes(k)));
    save({ kinds });
  };

  let body;
  if (serverKey === null) {
    body = html`<p class="muted" data-testid="push-off">Notifications are off on this server: its operator has not set them up (VAPID_SUBJECT).</p>`;
  } else if (support === 'install-first') {
    body = html`<p class="muted" data-testid="push-install-first">On iPhone and iPad, notifications work in the installed app only: tap Share, then \u201cAdd to Home Screen\u201d, open alpaca-chat from the Home Screen and turn them on there.</p>`;
  } else if (support === 'unsupported') {
    body = html`<p class="muted" data-testid="push-unsupported">This browser cannot show notifications.</p>`;
  } else if (serverKey !== undefined) {
    body = html`<div class="card-actions">
      ${on
        ? html`<span class="tag" data-testid="push-on">On for this device</span>
          <button type="button" class="btn" data-testid="push-disable" disabled=${busy || disabled} onClick=${turnOff}>Turn off</button>`
        : html`<button type="button" class="btn btn-primary" data-testid="push-enable" disabled=${busy || disabled} onClick=${turnOn}>Turn on notifications</button>`}
    </div>`;
  }

  return html`<section class="card section" aria-labelledby="notifications-title" data-testid="notifications">
    <h2 id="notifications-title" class="card-title">Notifications</h2>
    <p class="muted">Fills, rejections and live orders waiting for you, on this device even when the app is closed.</p>
    ${body}
    ${settings && serverKey && html`<fieldset class="push-kinds" data-testid="push-settings" disabled=${disabled}>
      <legend>Tell me about</legend>
      ${KINDS.map(([kind, label]) => html`<label key=${kind} class="check-row">
        <input type="checkbox" data-testid=${`push-kind-${kind}`} checked=${settings.kinds.includes(kind)}
          onChange=${(e) => toggleKind(kind, e.currentTarget.checked)} /> ${label}</label>`)}
      <label class="check-row"><input type="checkbox" data-testid="push-hide-amounts" checked=${settings.hideAmounts}
        onChange=${(e) => save({ hideAmounts: e.currentTarget.checked })} /> Hide amounts on the lock screen</label>
    </fieldset>`}
  </section>`;
}
