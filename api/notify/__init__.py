"""Push notifications: devices, preferences and the dispatcher (PUSH-01..03).

`NotifyService` is what the schema calls; `PushDispatcher` turns account events
into Web Push notifications; `WebPushSender` is the only code that talks to a
push service.
"""

from api.notify.dispatcher import PushDispatcher
from api.notify.messages import Kind
from api.notify.service import NotifyService
from api.notify.store import Device, Preferences
from api.notify.webpush import WebPushSender

__all__ = ["Device", "Kind", "NotifyService", "Preferences", "PushDispatcher", "WebPushSender"]
