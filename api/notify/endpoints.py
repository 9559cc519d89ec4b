"""Which push endpoints the server will ever send to: no server-side request forgery (PUSH-02).

A subscription's endpoint comes from the browser, so from the client: taken as
given, it would let anyone make this server POST to any address it can reach
(an internal admin port, a cloud metadata service). Only the public push
services of the browsers the PWA supports are accepted, each by its exact host
or an exact host suffix, over https on port 443, with no user name or password
in the URL. The same check runs again before every send, and the HTTP client
never follows a redirect (api/notify/webpush.py), so nothing stored earlier or
answered later can point a request elsewhere.

`allow_loopback` (test-only: PUSH_ALLOW_LOOPBACK with ALPACA_CHAT_TESTING, see
api/config.py) also admits `http(s)://127.0.0.1:<port>`, the tests' stand-in
push service.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from api.errors import BadUserInput

MAX_ENDPOINT_LENGTH = 1024
PUSH_HOSTS = frozenset(
    {
        "fcm.googleapis.com",  # Chrome, Edge on Android, Samsung Internet
        "updates.push.services.mozilla.com",  # Firefox
        "push.services.mozilla.com",
        "web.push.apple.com",  # Safari, installed web apps on iOS
    }
)
PUSH_HOST_SUFFIXES = (".push.apple.com", ".notify.windows.com")  # Edge on Windows: WNS
LOOPBACK_HOST = "127.0.0.1"


class EndpointRefused(BadUserInput):
    def __init__(self) -> None:
        super().__init__(
            "Notifications can only go through a browser's own push service", field="endpoint"
        )


def _known_push_service(parts: SplitResult) -> bool:
    host = parts.hostname or ""
    return parts.scheme == "https" and (
        host in PUSH_HOSTS or any(host.endswith(suffix) for suffix in PUSH_HOST_SUFFIXES)
    )


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise EndpointRefused() from None


def check_endpoint(endpoint: str, *, allow_loopback: bool = False) -> str:
    """`endpoint` unchanged if it names a known push service; EndpointRefused otherwise."""
    printable = endpoint.isascii() and endpoint.isprintable() and " " not in endpoint
    if not printable or len(endpoint) > MAX_ENDPOINT_LENGTH or "\\" in endpoint:
        raise EndpointRefused()
    parts = urlsplit(endpoint)
    # `netloc` as written: the hostname must be exactly it, lower case, no user, no port
    # but 443; a trailing dot, "%2e", an IP or brackets never equal an allowed host.
    host = parts.hostname or ""
    port = _port(parts)
    if "@" in parts.netloc or parts.fragment:
        raise EndpointRefused()
    loopback = host == LOOPBACK_HOST and parts.netloc in (LOOPBACK_HOST, f"{LOOPBACK_HOST}:{port}")
    if allow_loopback and loopback and parts.scheme in ("http", "https"):
        return endpoint
    if port not in (None, 443) or parts.netloc not in (host, f"{host}:443"):
        raise EndpointRefused()
    if not _known_push_service(parts):
        raise EndpointRefused()
    return endpoint
