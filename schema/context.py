"""The typed request context, built once per HTTP request or WebSocket connection.

Resolvers reach everything through `info.context` (typed as `Info`): the
shared services, the settings, who is signed in, and per-request DataLoaders.
Loaders are created on first use and live as long as the context, so their
caches never cross users or requests. On a WebSocket the context lives as
long as the connection: subscriptions must not rely on loader caches across
events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from api.auth import AuthService, Principal
from api.config import Settings
from api.errors import Unauthenticated
from api.services import Services

SESSION_COOKIE = "alpaca_chat_session"

LoaderT = TypeVar("LoaderT", bound=DataLoader[Any, Any])


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
    # how the principal was found: "cookie", "bearer" or None
    credential_source: str | None = None
    # the graphql-transport-ws connection_init payload (set by Strawberry)
    connection_params: dict[str, Any] | None = None
    _loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def user_id(self) -> UUID | None:
        return None if self.principal is None else self.principal.user_id

    def require_principal(self) -> Principal:
        """The signed-in principal, or UNAUTHENTICATED."""
        if self.principal is None:
            raise Unauthenticated()
        return self.principal

    def loader(self, factory: Callable[[Context], LoaderT]) -> LoaderT:
        """The request's loader made by `factory(context)`, created on first use."""
        existing = self._loaders.get(factory)
        if existing is None:
            existing = self._loaders[factory] = factory(self)
        return existing  # type: ignore[return-value]

    @property
    def user_agent(self) -> str | None:
        return self.request.headers.get("user-agent")

    @property
    def origin(self) -> str:
        """This server's origin as the client sees it (for links such as invite URLs)."""
        url = self.request.url
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        return f"{scheme}://{url.netloc}"

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
