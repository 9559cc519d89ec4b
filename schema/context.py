"""The typed request context, built once per HTTP request or WebSocket connection.

Resolvers reach everything through `info.context` (typed as `Info`): the
shared services, the settings and who is signed in. On a WebSocket the
context lives as long as the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from api.accounts import Account
from api.auth import AuthService, Principal
from api.config import Settings
from api.errors import Unauthenticated
from api.services import Services
from api.trading.limits import Controls

SESSION_COOKIE = "alpaca_chat_session"


@dataclass(eq=False)
class Context:
    services: Services
    settings: Settings
    auth: AuthService
    request: Request | WebSocket
    # the HTTP response headers/cookies are set on; None on a WebSocket
    response: Response | None
    request_id: str
    client_address: str
    principal: Principal | None = None
    # the graphql-transport-ws connection_init payload (set by Strawberry)
    connection_params: dict[str, Any] | None = None

    @cached_property
    def controls(self) -> DataLoader[Account, Controls]:
        """Accounts' limits and halt: the accounts a resolver asks for in one step of the event
        loop are read in one tenant transaction per owner. Never cached: a WebSocket's context
        lives as long as the connection and a halt must show at the next event. Made when
        first used: most contexts (every subscriber's socket) never need one."""
        return DataLoader(self.services.risk.controls_of, cache=False)

    @property
    def user_id(self) -> UUID | None:
        return None if self.principal is None else self.principal.user_id

    def require_principal(self) -> Principal:
        """The signed-in principal, or UNAUTHENTICATED."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    @property
    def user_agent(self) -> str | None:
        return self.request.headers.get("user-agent")

    @property
    def origin(self) -> str:
        """The origin links are built from (invite URLs): PUBLIC_ORIGIN, else the address
        this server listens on. Never the Host header: a client could point the links of
        its answers (invites shared onwards) at a site of its choosing."""
        if self.settings.public_origin is not None:
            return self.settings.public_origin
        scheme = "https" if self.request.url.scheme in ("https", "wss") else "http"
        host, port = self.request.scope.get("server") or ("localhost", None)
        host = f"[{host}]" if ":" in host else host
        default = {"http": 80, "https": 443}[scheme]
        return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")

    def set_session_cookie(self, token: str, max_age: int) -> None:
        if self.response is None:
            return
        self.response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.request.url.scheme in ("https", "wss"),
        )

    def clear_session_cookie(self) -> None:
        if self.response is None:
            return
        self.response.delete_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.request.url.scheme in ("https", "wss"),
        )


Info = strawberry.Info[Context, None]
