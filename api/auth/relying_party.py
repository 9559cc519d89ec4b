"""Who passkeys are made for: the relying party, taken from PUBLIC_ORIGIN alone (KEY-01).

A passkey is bound to a domain (the relying-party id) and answers only pages of
that site. The id therefore comes from the origin people open, PUBLIC_ORIGIN,
never from the address the server listens on or a request's Host header (which
any client may set). Browsers refuse WebAuthn for an IP address, so with an IP
or no PUBLIC_ORIGIN at all passkeys are off and say why.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from api.errors import Forbidden

PASSKEYS_OFF = "PASSKEYS_OFF"
NAME = "alpaca-chat"


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host of PUBLIC_ORIGIN, e.g. chat.example
    origin: str  # PUBLIC_ORIGIN itself: what clientDataJSON must name
    name: str = NAME


@dataclass(frozen=True)
class PasskeysOff:
    """Why passkeys cannot work with this configuration, for the person and the log."""

    reason: str

    def error(self) -> Forbidden:
        return Forbidden(self.reason, reason=PASSKEYS_OFF)


def relying_party(public_origin: str | None) -> RelyingParty | PasskeysOff:
    if public_origin is None:
        return PasskeysOff(
            "Passkeys are off: the server's PUBLIC_ORIGIN is not set to the address people open"
        )
    host = urlsplit(public_origin).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return RelyingParty(id=host, origin=public_origin)
    return PasskeysOff(
        "Passkeys are off: PUBLIC_ORIGIN is an IP address, and passkeys need a domain name"
    )
