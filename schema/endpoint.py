"""`/graphql` over HTTP and WebSocket: Strawberry's ASGI view with our guards.

Before anything runs (AUTH-04):
- POST bodies must be `application/json` (415 otherwise: no form posts, so no
  simple cross-site request can reach a mutation) and at most
  `limits.MAX_BODY_BYTES` (413); GET only serves GraphiQL, never an operation.
- A request carrying the session cookie from a foreign Origin is refused (403);
  so is a WebSocket handshake with the cookie from a foreign Origin, by our rule
  (scheme, host and port: api/auth/origins.py) before Strawberry's own (which
  compares host and port only, so http://host would pass for https://host).
- WebSockets are capped per client address (handshake refused, 403) and per
  user (close 4403), and a socket with no signed-in principal is closed (4401)
  after `Settings.websocket_sign_in_seconds` (schema/sockets.py).
- WebSockets speak graphql-transport-ws only; the legacy graphql-ws protocol
  has had authentication bypasses and is not offered.
Then the context is built once: one `app.session_of` call when a token is
present (bearer header first, then cookie), and Strawberry's own pipeline runs
the request with every extension (schema/__init__.py; the PWA's documents are
parsed and validated once, schema/trusted.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any, cast
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.unset import UNSET, UnsetType

from api.auth import Principal
from api.auth.origins import normalise_origins, origin_allowed
from api.auth.websockets import CLOSE_CODE_SESSION_ENDED
from api.errors import ErrorCode
from api.services import Services
from schema import AppSchema, limits
from schema.context import SESSION_COOKIE, Context
from schema.realtime.fanout import Delivery, Fanout, delivering
from schema.realtime.frames import SharedFrames
from schema.sockets import OpenSockets

log = logging.getLogger("alpaca_chat.graphql")

GRAPHIQL_CDN = "https://unpkg.com"
# GraphiQL's scripts come from the CDN; a browser without internet would show "Loading..."
# forever. This inline script, last in the body, runs after the page's blocking CDN scripts
# have run or failed: without GraphiQL it says why, and how to reach the API without it.
GRAPHIQL_UNREACHABLE = """<script>
(function () {
  if (window.GraphiQL) return;
  var box = document.getElementById("graphiql");
  box.setAttribute("role", "alert");
  box.style.cssText = "display:block;padding:2rem;max-width:40rem;font:16px/1.5 sans-serif";
  box.innerHTML = "<h1>GraphiQL could not load</h1><p>Its scripts come from unpkg.com, which "
    + "this browser cannot reach (no internet?). The API itself works: POST your query as JSON "
    + "to <code>/graphql</code>, for example with curl (the README's \u201cGraphiQL\u201d "
    + "section shows how to sign in and run <code>me</code>):</p><pre>curl -s "
    + location.origin + "/graphql -H 'content-type: application/json' "
    + "-H 'authorization: Bearer &lt;token&gt;' "
    + "-d '{\\"query\\": \\"{ me { id email } }\\"}'</pre>";
})();
</script>
"""


def _graphiql_page(html: str) -> str:
    """Strawberry's GraphiQL page with the unreachable-CDN notice before </body>."""
    return html.replace("</body>", GRAPHIQL_UNREACHABLE + "</body>", 1)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _cookie_token(headers: Mapping[str, str]) -> str | None:
    raw = headers.get("cookie")
    if not raw or SESSION_COOKIE not in raw:
        return None
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value or None
    return None


class _TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends text frames (orjson gives bytes), a shared event's data encoded once for all
    its sockets (schema/realtime/frames.py), and treats a socket we closed as gone, so a
    subscription racing a sign-out ends quietly instead of logging a RuntimeError."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected
        frames = cast("GraphQLEndpoint", self.view).frames
        # graphql-transport-ws speaks text frames; browsers' clients reject binary ones
        try:
            await self.ws.send_text(frames.encode(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, telling each operation's resolvers which
    operation and socket they serve, so accountUpdates can join its group
    (schema/realtime/fanout.py)."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        fanout = cast("GraphQLEndpoint", self.view).fanout
        with delivering(Delivery(fanout, self, message["id"])):
            await super().handle_subscribe(message)


def _graphiql_csp(html: str) -> str:
    """GraphiQL's own page: its CDN, and its inline scripts pinned by hash."""
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline
    )
    return (
        f"default-src 'self'; script-src 'self' {GRAPHIQL_CDN} {hashes}; "
        f"style-src 'self' 'unsafe-inline' {GRAPHIQL_CDN}; img-src 'self' data: {GRAPHIQL_CDN}; "
        f"font-src 'self' data: {GRAPHIQL_CDN}; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )


class GraphQLEndpoint(GraphQL[Context, None]):
    websocket_adapter_class = _TextWebSocketAdapter
    graphql_transport_ws_handler_class = _TransportWSHandler
    schema: AppSchema

    def __init__(self, schema: AppSchema, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=limits.CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=limits.MAX_SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=settings.allowed_origins,
        )
        self.services = services
        self.auth = services.auth
        self._allowed_origins = normalise_origins(settings.allowed_origins)
        self.frames = SharedFrames()
        self.fanout = Fanout(schema, services.feeds, services.bus)
        self._sockets_by_address: OpenSockets[str] = OpenSockets(settings.websockets_per_address)
        self._sockets_by_user: OpenSockets[UUID] = OpenSockets(settings.websockets_per_user)
        self._sign_in_seconds = settings.websocket_sign_in_seconds
        self._graphiql_headers: dict[str, str] = {}
        self._graphiql_page = ""
        if settings.graphiql:
            self._graphiql_page = _graphiql_page(self.graphql_ide_html)
            self._graphiql_headers = {"content-security-policy": _graphiql_csp(self._graphiql_page)}

    # --- JSON -------------------------------------------------------------
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    # --- HTTP guards --------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal, body = await self._guard_http(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if body is not None:
                if isinstance(refused := _graphql_request(body), str):
                    await _bad_request(refused)(scope, receive, send)
                    return
                receive = _replay(body, receive)
        elif scope["type"] == "websocket":
            # Strawberry's own __call__ does the same (`run`) with no handshake rules; done
            # here, not in a `run` override: the frames of this call live as long as the
            # socket, and idle subscribers are budgeted in KiB (docs/architecture.md)
            websocket = WebSocket(scope, receive=receive, send=send)
            books = self._admit(websocket)
            if books is None:
                await self.reject_websocket(websocket)
                return
            try:
                await self.run(websocket)
            finally:
                books.release()
            return
        await super().__call__(scope, receive, send)

    async def _guard_http(
        self, scope: Scope, receive: Receive
    ) -> tuple[Response | None, bytes | None]:
        """A refusal, or None and the POST body (None for a GET)."""
        request = Request(scope)
        method = scope["method"]
        if method not in ("GET", "POST"):
            return PlainTextResponse(
                "Use POST", status_code=405, headers={"allow": "GET, POST"}
            ), None
        if method == "GET":
            return None, None  # GraphiQL only: operations over GET are refused by the view
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            return PlainTextResponse("Send application/json", status_code=415), None
        if _cookie_token(request.headers) is not None and not self._origin_ok(
            request.headers.get("origin"), scope
        ):
            return PlainTextResponse("Cross-origin request refused", status_code=403), None
        declared = request.headers.get("content-length")
        if declared is not None and (
            not declared.isdigit() or int(declared) > limits.MAX_BODY_BYTES
        ):
            return PlainTextResponse("Request body too large", status_code=413), None
        body = await _read_body(receive, limits.MAX_BODY_BYTES)
        if body is None:
            return PlainTextResponse("Request body too large", status_code=413), None
        return None, body

    def _origin_ok(self, origin: str | None, scope: Scope) -> bool:
        if origin is None:
            return True  # not a browser, or a same-origin navigation: nothing ambient to abuse
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        return origin_allowed(
            origin, scheme=scope["scheme"], host=host, allowed=self._allowed_origins
        )

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        """Called for cross-origin handshakes: allowed origins, or a handshake without our
        cookie (its client must authenticate with a bearer token in connection_init)."""
        return self._origin_ok(origin, request.scope) or _cookie_token(request.headers) is None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._graphiql_page, headers=self._graphiql_headers)

    # --- context ----------------------------------------------------------
    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        request_id = secrets.token_hex(8)
        principal = await self._authenticate(request)
        http_response = response if isinstance(response, Response) else None
        if http_response is not None:
            http_response.headers["x-request-id"] = request_id
            http_response.headers["cache-control"] = "no-store"
        context = Context(
            services=self.services,
            settings=self.services.settings,
            auth=self.auth,
            request=request,
            response=http_response,
            request_id=request_id,
            client_address=request.client.host if request.client else "unknown",
            principal=principal,
        )
        return context

    async def _authenticate(self, request: Request | WebSocket) -> Principal | None:
        if not isinstance(request, WebSocket) and (
            token := _bearer(request.headers.get("authorization"))
        ):
            return await self.auth.authenticate(token)
        if token := _cookie_token(request.headers):
            return await self.auth.authenticate(token)
        return None

    # --- WebSocket ----------------------------------------------------------
    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """connection_init: a bearer token in the payload replaces the cookie; a bad one
        is refused (close 4403)."""
        params = context.connection_params or {}
        authorization = params.get("authorization")
        if authorization is not None:
            token = _bearer(authorization) if isinstance(authorization, str) else None
            principal = await self.auth.authenticate(token) if token else None
            if principal is None:
                raise ConnectionRejectionError
            context.principal = principal
        websocket = context.request
        assert isinstance(websocket, WebSocket)
        principal = context.principal
        if principal is None:
            self._close_unless_signed_in(websocket)
            return cast(UnsetType, UNSET)
        if not self._sockets_by_user.admit(principal.user_id):
            log.warning("WebSocket refused: user at %d sockets", self._sockets_by_user.limit)
            raise ConnectionRejectionError
        context.connection_params = None  # read: the token it may carry is not kept
        _books_of(self, websocket).signed_in(principal)
        return cast(UnsetType, UNSET)  # Strawberry declares UNSET as Any

    def _close_unless_signed_in(self, websocket: WebSocket) -> None:
        """No subscription answers without a principal (they all need one), so a socket
        without one only holds resources: it may stay for a few queries, then goes."""

        async def close_later() -> None:
            await asyncio.sleep(self._sign_in_seconds)
            if websocket.application_state != WebSocketState.DISCONNECTED:
                await websocket.close(code=CLOSE_CODE_SESSION_ENDED, reason="Not signed in")

        timer = asyncio.create_task(close_later(), name="websocket-sign-in-timeout")
        _books_of(self, websocket).timer = timer

    def _admit(self, websocket: WebSocket) -> _SocketBooks | None:
        """The handshake's books, or None when it is refused: the session cookie from a
        foreign Origin, or its address at its cap."""
        if _cookie_token(websocket.headers) is not None and not self._origin_ok(
            websocket.headers.get("origin"), websocket.scope
        ):
            return None
        address = websocket.client.host if websocket.client else "unknown"
        if not self._sockets_by_address.admit(address):
            log.warning("WebSocket refused: address at %d sockets", self._sockets_by_address.limit)
            return None
        books = websocket.state.socket_books = _SocketBooks(self, websocket, address)
        return books


# a POST body that passed `_graphql_request`: "query" a string, the others of their type
GraphQLRequest = dict[str, Any]

_OPTIONAL_MEMBERS = (("variables", dict), ("operationName", str), ("extensions", dict))


def _graphql_request(body: bytes) -> GraphQLRequest | str:
    """The decoded POST body, or why it is no GraphQL request (each class of bad body:
    not JSON, not an object, a batch, a missing query, members of the wrong type)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "The request body is not valid JSON"
    if isinstance(data, list):
        return "Send one operation per request: batches are not accepted"
    if not isinstance(data, dict):
        return 'The request body must be a JSON object such as {"query": "{ me { id } }"}'
    query = data.get("query")
    if not isinstance(query, str) or not query.strip():
        return "The request needs a query: a GraphQL document as a string"
    for name, kind in _OPTIONAL_MEMBERS:
        if not isinstance(data.get(name), kind | None):
            return f"{name} must be {'a string' if kind is str else 'an object'} or null"
    return data


def _bad_request(message: str) -> Response:
    """400 with a GraphQL-style error, as for any other refused request."""
    body = {"errors": [{"message": message, "extensions": {"code": ErrorCode.BAD_REQUEST.value}}]}
    return Response(
        orjson.dumps(body),
        status_code=400,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


class _SocketBooks:
    """What one open WebSocket holds in the endpoint's books, given back when it closes:
    its place under its address and its user, and its entry among the live sessions."""

    __slots__ = ("_address", "_endpoint", "_principal", "_websocket", "timer")

    def __init__(
        self, endpoint: GraphQLEndpoint, websocket: WebSocket, address: str | None
    ) -> None:
        self._endpoint = endpoint
        self._websocket = websocket
        self._address = address
        self._principal: Principal | None = None
        self.timer: asyncio.Task[None] | None = None  # closes it unless someone signs in

    def signed_in(self, principal: Principal) -> None:
        """Counted for the user, and closed when the session ends (sign-out, expiry)."""
        self._principal = principal
        self._endpoint.auth.live_sessions.add(
            principal.session_id, principal.token_hash, self.close_for_session
        )

    async def close_for_session(self) -> None:
        if self._websocket.application_state != WebSocketState.DISCONNECTED:
            await self._websocket.close(code=CLOSE_CODE_SESSION_ENDED, reason="Session ended")

    def release(self) -> None:
        endpoint = self._endpoint
        if self._address is not None:
            endpoint._sockets_by_address.release(self._address)
        if self._principal is not None:
            endpoint._sockets_by_user.release(self._principal.user_id)
            endpoint.auth.live_sessions.discard(self._principal.session_id, self.close_for_session)
        if self.timer is not None:
            self.timer.cancel()


def _books_of(endpoint: GraphQLEndpoint, websocket: WebSocket) -> _SocketBooks:
    """The socket's books, opened by `GraphQLEndpoint._admit` (here for a context built
    without it, by tests in-process: counted under no address, never released)."""
    books: _SocketBooks | None = getattr(websocket.state, "socket_books", None)
    if books is None:
        books = websocket.state.socket_books = _SocketBooks(endpoint, websocket, None)
    return books


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds `limit` (chunked uploads included)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
