"""The chat's tools as data: name, description, argument schema and the bound service call.

STYLE.md rule 7 and DESIGN.md decision 4. `build_tools(actions)` builds the
registry for one turn over one `AccountActions` object, which the server bound
to the account the user selected. The same registry serves the litellm driver
(its OpenAI tool definitions) and the offline interpreter (`execute`).

Why the model cannot reach another account (TRADE-01):

* no tool has an account argument, and no bound function takes one: the
  binding is a closure over `actions`, fixed before the model says anything;
* arguments are validated against the tool's schema before the call, and
  anything the schema does not name (``account_id``, ``user``, ...) is dropped,
  logged and reported back to the model as ignored, never passed on.

Validation also normalises what models send loosely: symbols upper-cased,
enums lower-cased, numbers (JSON numbers or strings like "$1,000") turned into
positive `Decimal`s. A validation failure or an expected service failure
(`AppError`) becomes a tool result ``{"error": {...}}`` so the model (or the
interpreter) can explain it; it never reaches the service.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from api.chat.actions import AccountActions
from api.errors import AppError, ErrorCode

log = logging.getLogger(__name__)

Kind = Literal["symbol", "decimal", "enum", "boolean", "order_id"]

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,9}(/[A-Z]{2,5})?$")
ORDER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Far beyond any real order; refuses exponent tricks ("1e30") before they reach a service.
MAX_DECIMAL = Decimal("1000000000")
MAX_DECIMAL_PLACES = 9


class ToolArgumentError(Exception):
    """Arguments that do not fit the tool's schema; the message is shown to the model."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Param:
    """One argument of a tool; `schema` is its JSON Schema, `parse` its validator."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None

    @property
    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any]
        if self.kind == "decimal":
            schema = {"type": "number", "exclusiveMinimum": 0}
        elif self.kind == "boolean":
            schema = {"type": "boolean"}
        elif self.kind == "enum":
            schema = {"type": "string", "enum": list(self.choices)}
        else:
            schema = {"type": "string"}
        schema["description"] = self.description
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def parse(self, value: Any) -> Any:
        if self.kind == "symbol":
            return _symbol(self.name, value)
        if self.kind == "decimal":
            return _decimal(self.name, value)
        if self.kind == "boolean":
            return _boolean(self.name, value)
        if self.kind == "order_id":
            if not isinstance(value, str) or not ORDER_ID_RE.match(value.strip()):
                raise ToolArgumentError(f"{self.name} must be an order id", self.name)
            return value.strip()
        if not isinstance(value, str) or value.strip().lower() not in self.choices:
            raise ToolArgumentError(
                f"{self.name} must be one of: {', '.join(self.choices)}", self.name
            )
        return value.strip().lower()


BoundCall = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Check = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Tool:
    """A tool: what the model is told (name, description, schema) and what runs (`call`)."""

    name: str
    description: str
    params: tuple[Param, ...]
    call: BoundCall = field(repr=False)
    # Rules across arguments (e.g. a limit order needs a limit price); raises ToolArgumentError.
    check: Check | None = field(default=None, repr=False)

    @property
    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {p.name: p.schema for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }

    def openai(self) -> dict[str, Any]:
        """The tool in OpenAI's function-calling format, which litellm translates per provider."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.schema,
            },
        }

    def validate(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Known arguments parsed and defaulted, and the names of the ignored unknown ones."""
        known = {p.name: p for p in self.params}
        ignored = tuple(sorted(str(k) for k in raw if k not in known))
        args: dict[str, Any] = {}
        for param in self.params:
            value = raw.get(param.name)
            if value is None or value == "":
                if param.required:
                    raise ToolArgumentError(f"{param.name} is required", param.name)
                if param.default is not None:
                    args[param.name] = param.default
                continue
            args[param.name] = param.parse(value)
        if self.check is not None:
            self.check(args)
        return args, ignored


@dataclass(frozen=True)
class ToolCall:
    """One executed tool call of a turn, as shown to the user and stored with the message.

    `arguments` are the validated arguments actually passed to the service
    (decimals as strings); `ignored_arguments` names what the caller sent
    beyond the schema (e.g. ``account_id``), which was never passed on.
    """

    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    ignored_arguments: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return "error" not in self.result

    def for_model(self) -> str:
        """The tool result message content sent back to the model."""
        content = dict(self.result)
        if self.ignored_arguments:
            content["ignored_arguments"] = list(self.ignored_arguments)
            content["note"] = (
                "Arguments not in the tool's schema were ignored. The tools act only on the "
                "account this chat is bound to; no tool can select another account."
            )
        return json.dumps(content, ensure_ascii=False)


class ToolRegistry:
    """The tools of one turn, all bound to the same `AccountActions` object."""

    def __init__(self, tools: Sequence[Tool], bound_to: AccountActions) -> None:
        self._tools = {tool.name: tool for tool in tools}
        self.bound_to = bound_to

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def openai_tools(self) -> list[dict[str, Any]]:
        return [tool.openai() for tool in self._tools.values()]

    async def execute(self, name: str, raw_arguments: Mapping[str, Any] | str | None) -> ToolCall:
        """Validate and run one call; expected failures come back as an error result."""
        tool = self._tools.get(name)
        if tool is None:
            shown = name[:64]
            log.warning("chat tool call refused: unknown tool %r", shown)
            return ToolCall(
                shown,
                {},
                _error(
                    "UNKNOWN_TOOL",
                    f"There is no tool named {shown!r}. Tools: {', '.join(self._tools)}.",
                ),
            )
        try:
            raw = _arguments(raw_arguments)
        except ToolArgumentError as exc:
            return ToolCall(name, {}, _error(ErrorCode.BAD_USER_INPUT, exc.message))
        known = {p.name for p in tool.params}
        given = {k: _jsonable(v) for k, v in raw.items() if k in known}
        ignored = tuple(sorted(str(k) for k in raw if k not in known))
        if ignored:
            # Names only: a model trying to steer the account is worth an operator's look.
            log.warning("chat tool %s: ignored arguments %s", name, ", ".join(ignored))
        try:
            args, _ = tool.validate(raw)
        except ToolArgumentError as exc:
            result = _error(ErrorCode.BAD_USER_INPUT, exc.message, exc.field)
            return ToolCall(name, given, result, ignored)
        try:
            result = await tool.call(args)
        except AppError as exc:
            log.info("chat tool %s refused: %s", name, exc.code)
            result = _error(exc.code, exc.message, exc.extensions.get("field"))
        else:
            if not isinstance(result, Mapping):
                raise TypeError(f"chat tool {name} must return a dict, not {type(result).__name__}")
            log.info("chat tool %s done", name)
        return ToolCall(name, _jsonable(args), _jsonable(result), ignored)


def build_tools(actions: AccountActions) -> ToolRegistry:
    """The registry for one turn, every tool bound to `actions` (one account, TRADE-01)."""
    symbol = Param("symbol", "symbol", "Ticker symbol, e.g. AAPL", required=True)
    tools = [
        Tool(
            "account_summary",
            "Summary of the account this chat acts on: type (PAPER or LIVE), nickname, cash, "
            "equity, buying power and today's change. Money values are decimal strings in USD.",
            (),
            lambda _a: actions.summary(),
        ),
        Tool(
            "positions",
            "Open positions of this account: symbol, quantity, average entry price, current "
            "price, market value and unrealized profit/loss.",
            (),
            lambda _a: actions.positions(),
        ),
        Tool(
            "orders",
            "Orders of this account, newest first: open (default), closed, or all.",
            (
                Param(
                    "status",
                    "enum",
                    "Which orders to list",
                    choices=("open", "closed", "all"),
                    default="open",
                ),
            ),
            lambda a: actions.orders(a["status"]),
        ),
        Tool(
            "quote",
            "Latest quote (bid, ask, last trade) for a symbol.",
            (symbol,),
            lambda a: actions.quote(a["symbol"]),
        ),
        Tool(
            "propose_order",
            "Propose an order on this account. This does NOT send the order: it creates a "
            "proposal the user must confirm in the app (the result's proposal.status says "
            "what happened). Give exactly one of qty (shares) or notional (dollars; market "
            "orders only). limit orders need limit_price, stop orders stop_price, stop_limit "
            "both.",
            (
                symbol,
                Param("side", "enum", "buy or sell", required=True, choices=("buy", "sell")),
                Param(
                    "type",
                    "enum",
                    "Order type",
                    choices=("market", "limit", "stop", "stop_limit"),
                    default="market",
                ),
                Param("qty", "decimal", "Number of shares"),
                Param("notional", "decimal", "Dollar amount to trade (market orders only)"),
                Param("limit_price", "decimal", "Limit price in USD"),
                Param("stop_price", "decimal", "Stop price in USD"),
                Param(
                    "time_in_force",
                    "enum",
                    "How long the order stays open",
                    choices=("day", "gtc", "ioc", "fok", "opg", "cls"),
                    default="day",
                ),
            ),
            lambda a: actions.propose_order(**a),
            check=_check_order,
        ),
        Tool(
            "cancel_order",
            "Cancel one open order of this account by its id, or all open orders with "
            "all=true. Cancels at once: use only when the user clearly asked for it.",
            (
                Param("order_id", "order_id", "Id of the order to cancel"),
                Param("all", "boolean", "Cancel every open order of this account"),
            ),
            lambda a: actions.cancel_order(a.get("order_id"), bool(a.get("all", False))),
            check=_check_cancel,
        ),
        Tool(
            "close_position",
            "Propose closing this account's whole position in a symbol (a market order the "
            "user must confirm).",
            (symbol,),
            lambda a: actions.close_position(a["symbol"]),
        ),
    ]
    return ToolRegistry(tools, bound_to=actions)


def _check_order(args: dict[str, Any]) -> None:
    kind = args["type"]
    if ("qty" in args) == ("notional" in args):
        raise ToolArgumentError("give exactly one of qty or notional", "qty")
    if "notional" in args and kind != "market":
        raise ToolArgumentError("notional (dollar) orders must be market orders", "notional")
    if kind in {"limit", "stop_limit"} and "limit_price" not in args:
        raise ToolArgumentError(f"a {kind} order needs limit_price", "limit_price")
    if kind in {"stop", "stop_limit"} and "stop_price" not in args:
        raise ToolArgumentError(f"a {kind} order needs stop_price", "stop_price")
    if kind in {"market", "stop"} and "limit_price" in args:
        raise ToolArgumentError(f"a {kind} order takes no limit_price", "limit_price")
    if kind in {"market", "limit"} and "stop_price" in args:
        raise ToolArgumentError(f"a {kind} order takes no stop_price", "stop_price")


def _check_cancel(args: dict[str, Any]) -> None:
    if bool(args.get("all")) == ("order_id" in args):
        raise ToolArgumentError("give either order_id or all=true", "order_id")


def _arguments(raw: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            # parse_float keeps "250.10" exact instead of passing through a binary float.
            raw = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError:
            raise ToolArgumentError("arguments are not valid JSON") from None
    if not isinstance(raw, Mapping):
        raise ToolArgumentError("arguments must be a JSON object")
    return raw


def _symbol(name: str, value: Any) -> str:
    text = value.strip().upper().lstrip("$") if isinstance(value, str) else ""
    if not SYMBOL_RE.match(text):
        raise ToolArgumentError(f"{name} must be a ticker symbol such as AAPL", name)
    return text


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ToolArgumentError(f"{name} must be a number", name)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        value = value.strip().lstrip("$").replace(",", "").strip()
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ToolArgumentError(f"{name} must be a number", name) from None
    if not number.is_finite() or number <= 0:
        raise ToolArgumentError(f"{name} must be a positive number", name)
    if number > MAX_DECIMAL or -number.as_tuple().exponent > MAX_DECIMAL_PLACES:  # type: ignore[operator]
        raise ToolArgumentError(f"{name} is out of range", name)
    # "10.00" and "10" are the same order; keep the plain form for summaries and history.
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ToolArgumentError(f"{name} must be true or false", name)


def _error(code: str, message: str, field_name: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": str(code), "message": message}
    if field_name:
        error["field"] = field_name
    return {"error": error}


def _jsonable(value: Any) -> Any:
    """A copy with Decimals as strings; anything else not JSON-serialisable is a service bug."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"chat tool results must be JSON-serialisable, not {type(value).__name__}")
