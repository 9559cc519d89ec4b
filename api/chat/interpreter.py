"""The offline command interpreter: the chat without a model (CHAT-02).

With no ``LLM_MODEL`` the product still trades: plain commands and their
common phrasings ("buy 10 shares of aapl", "sell 5 TSLA limit 250", "buy $500
of SPY", "buy 10 AAPL with stop 180 and target 210" (a bracket), "trailing stop
5% on TSLA", "close half my NVDA", "buy 0.01 BTC", "cancel all", "what do I
hold", "price of nvda") become the same tool
calls a model would make, run through the same registry (so the same account
binding and validation apply), and the reply is rendered from the results.

It is deliberately strict about orders: a buy or sell with words it does not
understand ("buy 10 AAPL if it drops below 150") is not guessed into a market
order; the user gets a short answer with a few examples instead, as does
anything else unknown ("help" gives the whole list). A buy with no amount
("buy AAPL") is answered with a question, never a default. Parsing is pure
and deterministic (`parse`), which is what the tests pin down. It only finds
the parts of an order in the text: symbols by the order vocabulary's own
pattern, numbers as written; the registry then checks them with the same
parser and validator as a model's arguments and `placeOrder`
(api/trading/orders.py, ORD-05), so "buy 99999999999999999999 AAPL" is
answered with the bound it breaks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.chat.contract import AccountContext, HistoryMessage
from api.chat.drivers import DriverReply
from api.chat.render import on_account, order_terms, render_call
from api.chat.tools import ToolCall, ToolRegistry
from api.trading.orders import (
    REQUIRED_PRICES,
    SYMBOL_PATTERN,
    OrderClass,
    OrderType,
    Side,
    TimeInForce,
    default_time_in_force,
    same_symbol,
)

HELP = (
    "I understand plain commands:\n"
    "• buy 10 AAPL · sell 5 TSLA limit 250 · buy 3 MSFT stop 400 · buy $500 of SPY\n"
    "• buy 10 AAPL with stop 180 and target 210 · trailing stop 5% on TSLA · buy 0.01 BTC\n"
    "• add gtc to keep an order open until canceled\n"
    "• cancel <order id> · cancel all · close AAPL · close half my NVDA · sell everything\n"
    "• positions · orders · balance · quote NVDA\n"
    "Orders become proposals you confirm before anything is sent."
)
# Not the whole help text: a person who typed something else wants a hint, not a manual.
NOT_UNDERSTOOD = (
    "Sorry, I didn't understand that. Try “buy 10 AAPL”, “positions” or “quote NVDA”, "
    "or say “help” for everything I understand."
)
THANKS = "You're welcome. Anything else on this account?"
CANCEL_NEEDS_ID = (
    "To cancel one order, give its id (say “orders” to see them), or say “cancel all”."
)

NUM = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
# Matched case-insensitively: the text is lower case by then.
SYM = r"\$?(?P<sym>" + SYMBOL_PATTERN + r")"
# Words that can stand where a symbol goes but are never one in these commands.
NOT_SYMBOLS = frozenset(
    {"all", "my", "the", "position", "positions", "everything", "it", "of", "shares", "order"}
)

_POLITE_PREFIX = re.compile(
    r"^(?:please|pls|hey|ok|okay|can you|could you|would you|will you|i want to|"
    r"i'd like to|id like to|i would like to|i wanna|let's|lets|go ahead and|just)\s+"
)
_POLITE_SUFFIX = re.compile(r"\s+(?:please|pls|thanks|thank you|for me|now|right now)$")


@dataclass(frozen=True)
class Command:
    """What a message means: one tool call, or a plain answer with no tool."""

    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None


def _help() -> Command:
    return Command(answer=HELP)


def _unclear() -> Command:
    return Command(answer=NOT_UNDERSTOOD)


def _how_many(side: str, symbol: str) -> Command:
    """A buy or sell with no amount: ask for one instead of guessing."""
    verb = "sell" if side == "sell" else "buy"
    example = f"“{verb} 10 {symbol}” or “{verb} $500 of {symbol}”"
    close = f", or “close {symbol}” to sell the whole position" if verb == "sell" else ""
    return Command(
        answer=f"How many {symbol} do you want to {verb}? Say for example {example}{close}."
    )


def normalize(text: str) -> str:
    """Lower case, single spaces, plain quotes, no trailing punctuation or pleasantries."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").strip().lower()
    text = re.sub(r"\s+", " ", text).rstrip(".!?").strip()
    previous = None
    while previous != text:
        previous = text
        text = _POLITE_PREFIX.sub("", text)
        text = _POLITE_SUFFIX.sub("", text).rstrip(",.!? ")
    return text


def _symbol(match: re.Match[str]) -> str | None:
    sym = match.group("sym")
    return None if sym in NOT_SYMBOLS else sym.upper()


# Asking the chat to loosen its own brakes: limits, the halt, the broker's settings (RISK-03).
_BRAKES_RE = re.compile(
    r"\b(?:resume|unhalt|un-halt|halt|unsuspend|suspend)\b"
    r"|\b(?:raise|increase|lift|remove|change|set|update|disable|turn off|reset|loosen|bump|"
    r"drop|delete|clear|allow)\b.*\b(?:limits?|deny ?list|allow ?list|short(?:ing)?|"
    r"configuration|settings?)\b"
)
BRAKES = (
    "I can't change this account's limits, halt or broker settings, and I never will: "
    "only you can, in the account's settings in the app. That is what keeps them safe."
)

_THANKS_RE = re.compile(
    r"^(?:thanks?(?: you)?(?: (?:so|very) much)?(?: a lot)?|thx|ty|cheers|much appreciated)$"
)
_HELP_RE = re.compile(r"^(?:help|\?|commands|menu|what can you do|how does this work|hi|hello)$")

_CANCEL_ALL_RE = re.compile(
    r"^cancel (?:all|everything|all (?:of )?(?:my |the )?(?:open |pending )?orders?|"
    r"(?:my |the )?(?:open |pending )?orders)$"
)
_CANCEL_ONE_RE = re.compile(r"^cancel (?:my |the )?(?:order )?(?:id )?#?(?P<id>\S+)$")
ORDER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{3,63}$", re.IGNORECASE)

# Every position at once; "close all of my AAPL" is one position (_CLOSE_RE).
_CLOSE_ALL_RE = re.compile(
    r"^(?:sell|close(?: out)?|exit|flatten|liquidate|dump)"
    r" (?:everything|all(?: (?:of )?(?:my |the )?(?:open )?(?:positions|holdings|stocks|shares))?"
    r"|(?:all )?(?:my |the )?(?:open )?(?:positions|holdings))$"
)

_CLOSE_RE = re.compile(
    r"^(?:close(?: out)?|exit|flatten|sell all(?: of)?|sell everything in|get out of|dump all)"
    r" (?:my |the )?(?:(?:position|positions|holding|stake) (?:in|on|of) )?(?:my )?"
    + SYM
    + r"(?: position| holding| stake| shares| stock)?$",
    re.IGNORECASE,
)

_ORDER_RE = re.compile(
    r"^(?P<side>buy|sell|purchase) "
    r"(?:(?:\$ ?(?P<notional>" + NUM + r")|(?P<notional2>" + NUM + r") ?(?:dollars?|usd|bucks))"
    r"(?: worth)?(?: of)?"
    r"|(?P<qty>"
    + NUM
    + r")(?: shares?| units?| stocks?)?(?: of)?) "
    + SYM
    + r"(?: shares?| stocks?)?(?P<rest>(?: .*)?)$",
    re.IGNORECASE,
)
# "buy AAPL": a side and a symbol but no amount.
_NO_AMOUNT_RE = re.compile(
    r"^(?P<side>buy|sell|purchase) (?:some )?" + SYM + r"(?: shares?| stocks?)?$", re.IGNORECASE
)
# A crypto coin named alone is its US dollar pair (ORD-04): "buy 0.01 BTC" is BTC/USD.
CRYPTO_COINS = frozenset({"BTC", "ETH"})
_TARGET_RE = re.compile(
    r"\b(?:target|take[ -]profit|profit target|tp)(?: (?:at|@|of|price))? \$?(?P<n>" + NUM + r")"
)
_TRAIL_RE = re.compile(
    r"^(?:set |place |add |put )?(?:a )?trailing stop(?: loss)?(?: of)? \$?(?P<n>" + NUM + r")"
    r" ?(?P<pct>%|percent)? (?:on|for) (?:my )?" + SYM + r"(?: position| shares)?$",
    re.IGNORECASE,
)
_PARTS = {"half": "50", "a half": "50", "a third": "33", "a quarter": "25", "all": "100"}
_CLOSE_PART_RE = re.compile(
    r"^(?:close|sell|exit|trim) (?P<part>half|a half|a third|a quarter|(?P<pct>" + NUM + r")"
    r" ?(?:%|percent))(?: of)? (?:my |the )?(?:position in )?" + SYM + r"(?: position)?$",
    re.IGNORECASE,
)
# "change my AAPL limit to 185": the price of the one open order of that symbol (ORD-02).
_REPLACE_RE = re.compile(
    r"^(?:change|move|set|update|modify|adjust|lower|raise) (?:my |the )?"
    + SYM
    + r"(?: order'?s?| buy| sell)? (?P<what>limit|stop)(?: price)? (?:to|at) \$?(?P<n>"
    + NUM
    + r")$",
    re.IGNORECASE,
)
# Words that name one of the account's own limits ("set my daily limit to 500"), not a symbol.
_LIMIT_NOUNS = frozenset({"MAX", "MAXIMUM", "DAILY", "LOSS", "ORDER", "SIZE", "SPENDING", "TRADE"})
_STOP_RE = re.compile(r"\bstop(?: loss)?(?: (?:at|@|price(?: of)?))? \$?(?P<n>" + NUM + r")")
_LIMIT_RES = (
    re.compile(r"\blimit(?: (?:at|@|price(?: of)?|of))? \$?(?P<n>" + NUM + r")"),
    re.compile(r"(?:\bat|@) ?\$?(?P<n>" + NUM + r") (?:limit|lmt)\b"),
    re.compile(r"(?:^| )\$?(?P<n>" + NUM + r") (?:limit|lmt)\b"),
    # "sell 5 TSLA at 250": a price with no order type means a limit order.
    re.compile(r"(?:\bat|@|\bfor) ?\$?(?P<n>" + NUM + r")(?: each| a share| per share)?"),
)
_MARKET_RE = re.compile(r"\b(?:at )?(?:the )?market(?: price)?(?: order)?\b")
_TIF = (
    (re.compile(r"\b(?:gtc|good ['t]?til+ cancel+ed|good until cancel+ed)\b"), TimeInForce.GTC),
    (re.compile(r"\b(?:day order|for the day|for today|day)\b"), TimeInForce.DAY),
    (re.compile(r"\bioc\b|\bimmediate or cancel\b"), TimeInForce.IOC),
    (re.compile(r"\bfok\b|\bfill or kill\b"), TimeInForce.FOK),
    (re.compile(r"\b(?:opg|at the open|on open)\b"), TimeInForce.OPG),
    (re.compile(r"\b(?:cls|at the close|on close)\b"), TimeInForce.CLS),
)
# Harmless words around an order that carry no meaning for it.
_FILLER = re.compile(r"\b(?:order|an|a|type|price|please|of|now|shares?|stocks?|it)\b")

_POSITIONS_RE = re.compile(
    r"^(?:(?:show|list|get|see|view|check|display) (?:me )?)?(?:all )?(?:of )?(?:my |the |our )?"
    r"(?:open |current )?(?:positions|holdings|portfolio|stocks|shares|position)$"
    r"|^what (?:do|did) i (?:hold|own|have)(?: now| right now)?$"
    r"|^what(?:'s| is) in my (?:portfolio|account)$"
    r"|^what (?:are|is) my (?:positions|holdings)$"
    r"|^what stocks do i (?:have|own|hold)$"
)
_ORDERS_RE = re.compile(
    r"^(?:(?:show|list|get|see|view|check|display) (?:me )?)?(?:(?P<all>all) (?:of )?)?"
    r"(?:my |the )?(?P<status>open|pending|working|closed|filled|past|recent|all|old)? ?orders?"
    r"(?P<history> history)?$"
    r"|^what orders do i have(?: open)?$"
    r"|^(?:do i have )?any (?P<status2>open|pending) orders$"
)
_ORDER_STATUS = {
    None: "open",
    "open": "open",
    "pending": "open",
    "working": "open",
    "closed": "closed",
    "filled": "closed",
    "past": "closed",
    "old": "closed",
    "recent": "all",
    "all": "all",
}
_BALANCE_RE = re.compile(
    r"^(?:(?:show|get|check|see|view|display) (?:me )?|what(?:'s| is| are) )?(?:my |the )?"
    r"(?:account(?: summary| balance| info| details| status)?|balance|balances|buying power|"
    r"cash|cash balance|equity|summary|portfolio value|funds)$"
    r"|^how much (?:cash|money|buying power|equity) (?:do i have|have i got|is there|is left)"
    r"(?: left)?$"
    r"|^how much (?:can i (?:spend|buy|invest)|do i have)$"
    r"|^how am i doing(?: today)?$"
    r"|^how(?:'s| is| are) (?:my |the )?(?:portfolio|account|investments) (?:doing|looking|"
    r"performing)(?: today)?$"
)
_QUOTE_RES = (
    re.compile(
        r"^(?:get )?(?:a )?(?:quote|price|prices|quotes)(?: (?:of|for|on))? " + SYM + r"$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:what(?:'s| is) )?(?:the )?(?:current )?(?:price|quote|share price) "
        r"(?:of|for|on) " + SYM + r"(?: now| today| right now)?$",
        re.IGNORECASE,
    ),
    re.compile(r"^" + SYM + r" (?:price|quote|share price)$", re.IGNORECASE),
    re.compile(
        r"^(?:what(?:'s| is)|where(?:'s| is)) " + SYM + r" (?:trading at|at|worth|going for|"
        r"trading|price)(?: now| today| right now)?$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^how much (?:is|does) (?:a share of )?" + SYM + r"(?: cost| trading at)?$", re.IGNORECASE
    ),
)


def parse(text: str) -> Command:
    """The command a message means; unknown text gets a short answer with examples."""
    t = normalize(text)
    if not t:
        return _help()
    if _HELP_RE.match(t):
        return _help()
    if _THANKS_RE.match(t):
        return Command(answer=THANKS)
    if t.startswith("cancel"):
        return _parse_cancel(t, text)
    if _CLOSE_ALL_RE.match(t):
        return Command("close_all_positions")
    if m := _CLOSE_PART_RE.match(t):
        symbol = _symbol(m)
        part = m.group("pct") or _PARTS[m.group("part")]
        if symbol is None:
            return _unclear()
        return Command("close_position", {"symbol": _pair(symbol), "percentage": part})
    if m := _TRAIL_RE.match(t):
        return _parse_trailing(m)
    if m := _CLOSE_RE.match(t):
        symbol = _symbol(m)
        return Command("close_position", {"symbol": symbol}) if symbol else _unclear()
    if m := _ORDER_RE.match(t):
        return _parse_order(m)
    if (m := _NO_AMOUNT_RE.match(t)) and (symbol := _symbol(m)):
        return _how_many(m.group("side"), _pair(symbol))
    if (m := _REPLACE_RE.match(t)) and (symbol := _symbol(m)) and symbol not in _LIMIT_NOUNS:
        price = "limit_price" if m.group("what") == "limit" else "stop_price"
        return Command("replace_order", {"symbol": _pair(symbol), price: m.group("n")})
    if _BRAKES_RE.search(t):
        return Command(answer=BRAKES)
    if m := _POSITIONS_RE.match(t):
        return Command("positions")
    if m := _ORDERS_RE.match(t):
        status = m.group("status") or m.group("status2") or m.group("all")
        if m.group("history") and status is None:
            status = "all"
        return Command("orders", {"status": _ORDER_STATUS.get(status, "open")})
    if _BALANCE_RE.match(t):
        return Command("account_summary")
    for pattern in _QUOTE_RES:
        if m := pattern.match(t):
            symbol = _symbol(m)
            if symbol:
                return Command("quote", {"symbol": symbol})
    return _unclear()


def _parse_cancel(t: str, original: str) -> Command:
    if _CANCEL_ALL_RE.match(t):
        return Command("cancel_order", {"all": True})
    m = _CANCEL_ONE_RE.match(t)
    if m and ORDER_ID_RE.match(m.group("id")) and re.search(r"[\d-]", m.group("id")):
        # Ids are case-sensitive at some brokers: take it from the original text.
        start = original.lower().find(m.group("id"))
        order_id = original[start : start + len(m.group("id"))] if start >= 0 else m.group("id")
        return Command("cancel_order", {"order_id": order_id})
    return Command(answer=CANCEL_NEEDS_ID)


def _parse_order(m: re.Match[str]) -> Command:
    symbol = _symbol(m)
    if symbol is None:
        return _unclear()
    symbol = _pair(symbol)
    rest = " " + m.group("rest").strip() + " "
    args: dict[str, Any] = {
        "symbol": symbol,
        "side": Side.SELL if m.group("side") == "sell" else Side.BUY,
    }
    # Numbers go on as written ("1,000"): the registry reads them with the one parser.
    notional = m.group("notional") or m.group("notional2")
    if notional:
        args["notional"] = notional
    else:
        args["qty"] = m.group("qty")

    target = _TARGET_RE.search(rest)
    if target:
        args["take_profit_limit_price"] = target.group("n")
        rest = rest[: target.start()] + " " + rest[target.end() :]
    stop = _STOP_RE.search(rest)
    if stop:
        # With a target the stop is the bracket's stop-loss, not the entry's own stop.
        args["stop_loss_stop_price" if target else "stop_price"] = stop.group("n")
        rest = rest[: stop.start()] + " " + rest[stop.end() :]
    if target:
        args["order_class"] = OrderClass.BRACKET if stop else OrderClass.OTO
        rest = re.sub(r"\b(?:with|and)\b", " ", rest)
    for pattern in _LIMIT_RES:
        if limit := pattern.search(rest):
            args["limit_price"] = limit.group("n")
            rest = rest[: limit.start()] + " " + rest[limit.end() :]
            break
    market = _MARKET_RE.search(rest)
    if market:
        rest = rest[: market.start()] + " " + rest[market.end() :]
    args["time_in_force"] = default_time_in_force(symbol)
    for pattern, tif in _TIF:
        if found := pattern.search(rest):
            args["time_in_force"] = tif
            rest = rest[: found.start()] + " " + rest[found.end() :]
            break
    rest = re.sub(r"\s+", " ", _FILLER.sub(" ", rest)).strip(" ,")
    if rest or (market and ("limit_price" in args or "stop_price" in args)):
        # Words we do not understand in an order could change its meaning: never guess.
        return _unclear()
    # The order type is the one that takes exactly the prices given.
    prices = {name for name in ("limit_price", "stop_price") if name in args}
    args["type"] = next(kind for kind, needed in REQUIRED_PRICES.items() if needed == prices)
    return Command("propose_order", args)


def _pair(symbol: str) -> str:
    return f"{symbol}/USD" if symbol in CRYPTO_COINS else symbol


def _parse_trailing(m: re.Match[str]) -> Command:
    """A sell trailing stop for the position held (its quantity is looked up in `reply`)."""
    symbol = _symbol(m)
    if symbol is None:
        return _unclear()
    trail = "trail_percent" if m.group("pct") else "trail_price"
    args = {
        "symbol": _pair(symbol),
        "side": Side.SELL,
        "type": OrderType.TRAILING_STOP,
        trail: m.group("n"),
        "time_in_force": TimeInForce.GTC,
    }
    return Command("propose_order", args)


async def _position_qty(arguments: dict[str, Any], tools: ToolRegistry) -> dict[str, Any]:
    """An order with no amount (a trailing stop "on TSLA") is for the whole position held."""
    if "qty" in arguments or "notional" in arguments:
        return arguments
    held = await tools.execute("positions", {})
    wanted = str(arguments["symbol"]).replace("/", "")
    for position in held.result.get("positions", []) if held.ok else []:
        if str(position.get("symbol", "")).replace("/", "") == wanted:
            return {**arguments, "qty": str(position["qty"]).lstrip("-")}
    return arguments


class Interpreter:
    """The chat driver used when no model is configured (CHAT-02)."""

    name = "interpreter"

    async def reply(
        self,
        text: str,
        history: Sequence[HistoryMessage],
        account: AccountContext,
        tools: ToolRegistry,
    ) -> DriverReply:
        command = parse(text)
        if command.tool is None:
            return DriverReply(command.answer or HELP)
        if command.tool == "replace_order":
            return await _replace_one(command.arguments, account, tools)
        arguments, lookup = await _named_symbol(command.tool, command.arguments, tools)
        if command.tool == "propose_order":
            arguments = await _position_qty(arguments, tools)
        call = await tools.execute(command.tool, arguments)
        text = render_call(call, account)
        if command.tool == "propose_order" and not call.ok:
            text += f"\nNothing was proposed on {on_account(account)}."
        if lookup is None:
            return DriverReply(text, [call])
        top = lookup.result["matches"][0]
        said = str(lookup.arguments["query"]).lower()
        meant = f"“{said}” is not a symbol: I took it as {top['name']} ({top['symbol']}).\n"
        return DriverReply(meant + text, [lookup, call])


# Commands whose symbol may be a company's name instead ("buy 2 apple", "quote tesla").
_TAKES_SYMBOL = frozenset({"propose_order", "quote", "close_position"})


async def _named_symbol(
    tool: str, arguments: dict[str, Any], tools: ToolRegistry
) -> tuple[dict[str, Any], ToolCall | None]:
    """The arguments with a company's name replaced by its symbol, and the look-up that found
    it; unchanged (and no look-up) when the word is a symbol itself or names nothing."""
    written = arguments.get("symbol")
    if tool not in _TAKES_SYMBOL or not isinstance(written, str):
        return arguments, None
    lookup = await tools.execute("find_symbol", {"query": written})
    matches = lookup.result.get("matches") or []
    if not lookup.ok or not matches or any(m.get("symbol") == written for m in matches):
        return arguments, None
    return {**arguments, "symbol": matches[0]["symbol"]}, lookup


async def _replace_one(
    arguments: dict[str, Any], account: AccountContext, tools: ToolRegistry
) -> DriverReply:
    """ "change my AAPL limit to 185": the one open AAPL order with a limit price gets the new
    one, as a proposal (ORD-02); with none or several, nothing is guessed and the reply says
    which there are."""
    symbol = str(arguments["symbol"])
    price = "limit_price" if "limit_price" in arguments else "stop_price"
    word = price.removesuffix("_price")
    listed = await tools.execute("orders", {"status": "open"})
    if not listed.ok:
        return DriverReply(render_call(listed, account), [listed])
    found = [
        o
        for o in listed.result.get("orders", [])
        if same_symbol(str(o.get("symbol", "")), symbol) and o.get(price) is not None
    ]
    where = on_account(account)
    if not found:
        text = f"There is no open {symbol} order with a {word} price on {where}; nothing changed."
        return DriverReply(text, [listed])
    if len(found) > 1:
        heading = f"There are {len(found)} open {symbol} orders with a {word} price on {where}:"
        lines = [f"• {order_terms(o)} · id {o.get('id')}" for o in found]
        advice = "Nothing changed: say which one in Orders (Modify), or cancel the others first."
        text = "\n".join([heading, *lines, advice])
        return DriverReply(text, [listed])
    call = await tools.execute(
        "replace_order", {"order_id": found[0]["id"], price: arguments[price]}
    )
    text = render_call(call, account)
    if not call.ok:
        text += f"\nNothing was changed on {where}."
    return DriverReply(text, [listed, call])
