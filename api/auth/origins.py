"""Origin checks against CSRF and cross-site WebSocket hijacking (AUTH-04).

Cookie-authenticated requests are only honoured from the server's own origin
(derived from the Host header and the scheme, which uvicorn's proxy-header
support takes from X-Forwarded-Proto) or an origin listed in ALLOWED_ORIGINS.
Clients using a bearer token carry no ambient credentials and are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def normalise_origin(origin: str) -> str | None:
    """`scheme://host[:port]` as browsers send it, or None for "null" and junk."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def normalise_origins(origins: Iterable[str]) -> frozenset[str]:
    return frozenset(o for o in map(normalise_origin, origins) if o is not None)


def own_origin(scheme: str, host: str | None) -> str | None:
    if not host:
        return None
    return normalise_origin(f"{_HTTP_SCHEME.get(scheme, scheme)}://{host}")


def origin_allowed(origin: str, *, scheme: str, host: str | None, allowed: frozenset[str]) -> bool:
    normalised = normalise_origin(origin)
    if normalised is None:
        return False
    return normalised == own_origin(scheme, host) or normalised in allowed
