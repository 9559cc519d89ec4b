"""The chat's tools as data: name, description, argument schema and the bound service call.

`build_tools(actions)` builds the registry for one turn over one `AccountActions`
object, which the server bound to the account the user selected. The same
registry serves the litellm driver (its OpenAI tool definitions) and the
offline interpreter (`execute`). See docs/architecture.md#tools-as-data and
docs/architecture.md#decision-4-the-model-never-holds-the-steering-wheel.

Why the model cannot reach another account (TRADE-01):

* no tool has an account argument, and no bound function takes one: the
  binding is a closure over `actions`, fixed before the model says anything;
* arguments are validated against the tool's schema before the call, and
  anything the schema does not name (``account_id``, ``user``, ...) is dropped,
  logged and reported back to the model as ignored, never passed on.

Validation also normalises what models send loosely: symbols upper-cased,
enums lower-cased, numbers (JSON numbers or strings like "$1,000") turned into
positive `Decimal`s. Symbols, numbers and whole orders are checked by the order
vocabulary (api/trading/orders.py: `parse_symbol`, `parse_decimal`,
`validate_intent`), the same code `placeOrder` runs, and the order tool's enums
and descriptions are made from it, so the chat accepts exactly the orders the
ticket accepts (ORD-05). A validation failure or an expected service failure
(`AppError`) becomes a tool result ``{"error": {...}}`` so the model (or the
interpreter) can explain it; it never reaches the service.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from api.chat.contract import AccountActions
from api.errors import AppError, BadUserInput, ErrorCode
from api.trading.orders import (
    CRYPTO_TIMES_IN_FORCE,
    CRYPTO_TYPES,
    INPUT_FIELDS,
    MAX_AMOUNT,
    PLACEABLE_TYPES,
    REQUIRED_PRICES,
    OrderClass,
    OrderIntent,
    Replacement,
    Side,
    TimeInForce,
    parse_decimal,
    parse_symbol,
    validate_intent,
    validate_replacement,
)

log = logging.getLogger(__name__)

Kind = Literal["symbol", "decimal", "enum", "boolean", "order_id"]

ORDER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# A refusal's field, from the GraphQL input name the validator gives to this tool's argument.
_ARGUMENT_OF_FIELD = {graphql: argument for argument, graphql in INPUT_FIELDS.items()}


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
            schema = {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_AMOUNT)}
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
Check = Callable[[dict[str, Any]], object]


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
            # A refusal by the owner's limits says which guard and limit (RISK-01), so the
            # model can explain it; it has no tool to change them (RISK-03).
            for key in ("guard", "limit", "value"):
                if key in exc.extensions:
                    result["error"][key] = exc.extensions[key]
        else:
            if not isinstance(result, Mapping):
                raise TypeError(f"chat tool {name} must return a dict, not {type(result).__name__}")
            log.info("chat tool %s done", name)
        return ToolCall(name, _jsonable(args), _jsonable(result), ignored)


def build_tools(actions: AccountActions) -> ToolRegistry:
    """The registry for one turn, every tool bound to `actions` (one account, TRADE-01)."""
    symbol = Param(
        "symbol", "symbol", "Ticker symbol (AAPL, BRK.B) or crypto pair (BTC/USD)", required=True
    )
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
            _PROPOSE_ORDER,
            (
                symbol,
                Param("side", "enum", "buy or sell", required=True, choices=_values(tuple(Side))),
                Param(
                    "type",
                    "enum",
                    "Order type",
                    choices=_values(PLACEABLE_TYPES),
                    default=PLACEABLE_TYPES[0].value,
                ),
                Param("qty", "decimal", "Number of shares (or coins, for crypto)"),
                Param("notional", "decimal", "Dollar amount to trade (market orders only)"),
                Param("limit_price", "decimal", "Limit price in USD"),
                Param("stop_price", "decimal", "Stop price in USD"),
                Param("trail_price", "decimal", "trailing_stop: trail by this many USD"),
                Param("trail_percent", "decimal", "trailing_stop: trail by this percent (5 = 5%)"),
                Param(
                    "order_class",
                    "enum",
                    "simple (default); bracket (entry + take-profit leg + stop-loss leg); "
                    "oto (entry + one of the legs); oco (both legs only, for a position held)",
                    choices=_values(tuple(OrderClass)),
                ),
                Param("take_profit_limit_price", "decimal", "Take-profit leg: its limit price"),
                Param("stop_loss_stop_price", "decimal", "Stop-loss leg: its stop price"),
                Param(
                    "stop_loss_limit_price",
                    "decimal",
                    "Stop-loss leg: a limit price, making it a stop-limit order",
                ),
                Param(
                    "time_in_force",
                    "enum",
                    "How long the order stays open",
                    choices=_values(tuple(TimeInForce)),
                    default=TimeInForce.DAY.value,
                ),
            ),
            lambda a: actions.propose_order(_order_intent(a)),
            check=_order_intent,
        ),
        Tool(
            "replace_order",
            "Propose changing one open order of this account (find its id with the orders "
            "tool): its quantity (whole shares), limit price, stop price, trail or time in "
            "force; what is not given stays. Like propose_order this does NOT send anything: "
            "the user confirms the proposal (the result's proposal.status says what happened).",
            (
                Param("order_id", "order_id", "Id of the open order to change", required=True),
                Param("qty", "decimal", "New number of shares (whole shares)"),
                Param("limit_price", "decimal", "New limit price in USD"),
                Param("stop_price", "decimal", "New stop price in USD"),
                Param("trail_price", "decimal", "trailing_stop: new trail in USD"),
                Param("trail_percent", "decimal", "trailing_stop: new trail percent"),
                Param(
                    "time_in_force",
                    "enum",
                    "New time in force",
                    choices=_values(tuple(TimeInForce)),
                ),
            ),
            lambda a: actions.replace_order(a["order_id"], _replacement(a)),
            check=_replacement,
        ),
        Tool(
            "cancel_order",
            "Cancel one open order of this account by its id (at once: use only when the user "
            "clearly asked for it), or, with all=true, propose cancelling every open order "
            "(the user must confirm; the result's proposal.status says what happened).",
            (
                Param("order_id", "order_id", "Id of the order to cancel"),
                Param("all", "boolean", "Cancel every open order of this account"),
            ),
            lambda a: actions.cancel_order(a.get("order_id"), bool(a.get("all", False))),
            check=_check_cancel,
        ),
        Tool(
            "close_position",
            "Propose closing this account's position in a symbol, all of it or a percentage "
            "(a market order the user must confirm).",
            (symbol, Param("percentage", "decimal", "Part to close, 1-100 (default 100)")),
            lambda a: actions.close_position(a["symbol"], a.get("percentage")),
        ),
        Tool(
            "close_all_positions",
            "Propose closing every position of this account (market orders the user must "
            "confirm as one proposal).",
            (),
            lambda _a: actions.close_all(),
        ),
        Tool(
            "find_symbol",
            'Find a symbol by its ticker or one word of the company\'s name ("apple" finds '
            "AAPL); best matches first.",
            (Param("query", "symbol", "A ticker or one word of a company name", required=True),),
            lambda a: actions.find_symbol(a["query"]),
        ),
    ]
    return ToolRegistry(tools, bound_to=actions)


def _values(members: Sequence[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in members)


def _prices_needed() -> str:
    needs = [
        f"{kind.value} orders need {' and '.join(sorted(prices))}"
        for kind, prices in REQUIRED_PRICES.items()
        if prices
    ]
    return ", ".join(needs)


_PROPOSE_ORDER = (
    "Propose an order on this account. This does NOT send the order: it creates a proposal "
    "the user must confirm in the app (the result's proposal.status says what happened). "
    "Give exactly one of qty or notional (dollars; market orders only). "
    f"{_prices_needed().capitalize()}; trailing_stop orders need trail_price or trail_percent; "
    "no other prices. A bracket (order_class bracket) is a market or limit entry with a "
    "take-profit leg above and a stop-loss leg below a buy's entry (mirrored for a sell); "
    "oto has one of the two legs; oco is both legs alone, selling a position held; no "
    "trailing stop in a bracket. Fractional qty and notional orders "
    "must be day market or limit orders. Crypto pairs are written like BTC/USD; crypto orders "
    f"are {', '.join(_values(CRYPTO_TYPES))} and last "
    f"{' or '.join(_values(CRYPTO_TIMES_IN_FORCE))}."
)


def _refusal(error: BadUserInput, argument: str | None = None) -> ToolArgumentError:
    """The validator's refusal, naming this tool's argument instead of the GraphQL field."""
    field_name = error.extensions.get("field") or ""
    return ToolArgumentError(error.message, argument or _ARGUMENT_OF_FIELD.get(field_name))


def _order_intent(args: dict[str, Any]) -> OrderIntent:
    try:
        return validate_intent(**args)
    except BadUserInput as error:
        raise _refusal(error) from None


def _replacement(args: dict[str, Any]) -> Replacement:
    changes = {k: v for k, v in args.items() if k != "order_id"}
    try:
        return validate_replacement(**changes)
    except BadUserInput as error:
        raise _refusal(error) from None


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
    try:
        return parse_symbol(value)
    except BadUserInput as error:
        raise _refusal(error, name) from None


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, str):
        # What people and models write around a number: "$1,000".
        value = value.strip().removeprefix("$").replace(",", "")
    try:
        return parse_decimal(value, name)
    except BadUserInput as error:
        raise _refusal(error, name) from None


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
