"""app.account_limits: an account's limits and its halt, as stored (RISK-01, RISK-03, RISK-04).

Everything here runs on the connection of a tenant transaction the caller
opened, so row-level security keeps each owner to their own accounts. The
rules:

* what a person may set is decided once, in `clean_limits`: amounts never
  negative and bounded, symbols through the order vocabulary's one symbol
  rule, lists of at most `MAX_SYMBOLS`;
* `loosens` says whether new limits let through anything the old ones did
  not, which on a live account needs a fresh sign-in;
* a write is one upsert, under a lock on the account row, so concurrent
  writes are applied one after the other (the last one wins) and a reader
  never sees half of one;
* the day's order count comes from the order audit, the database's record of
  what was sent, since the start of the trading day in New York, never from
  a process's memory (RISK-02).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import asyncpg

from api.errors import AccountHalted, BadUserInput, LimitExceeded, NotFound
from api.trading.guards import Guard, Limits
from api.trading.orders import MAX_AMOUNT, parse_symbol, same_symbol

MAX_SYMBOLS = 200
MAX_ORDERS_PER_DAY = 10_000


@dataclass(frozen=True, slots=True)
class Controls:
    """What the owner set on one account: its limits and whether it is halted."""

    limits: Limits
    halted: bool


def _amount(value: Decimal | None, field: str, label: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise BadUserInput(f"{label} cannot be negative", field=field)
    if value > MAX_AMOUNT:
        raise BadUserInput(f"{label} can be at most {MAX_AMOUNT:,}", field=field)
    return value


def _symbols(values: list[str] | None, field: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if len(values) > MAX_SYMBOLS:
        raise BadUserInput(f"At most {MAX_SYMBOLS} symbols", field=field)
    cleaned: list[str] = []
    for raw in values:
        try:
            symbol = parse_symbol(raw)
        except BadUserInput as error:
            raise BadUserInput(f"{str(raw)[:20]!r}: {error.message}", field=field) from None
        if not any(same_symbol(symbol, seen) for seen in cleaned):
            cleaned.append(symbol)
    return tuple(cleaned)


def clean_limits(
    *,
    max_order_notional: Decimal | None = None,
    max_daily_loss: Decimal | None = None,
    max_orders_per_day: int | None = None,
    allowed_symbols: list[str] | None = None,
    denied_symbols: list[str] | None = None,
    allow_short: bool | None = None,
) -> Limits:
    """The limits a person asked for, or BAD_USER_INPUT naming the input field."""
    if max_orders_per_day is not None and not 0 <= max_orders_per_day <= MAX_ORDERS_PER_DAY:
        raise BadUserInput(
            f"Orders per day must be 0 to {MAX_ORDERS_PER_DAY:,}", field="maxOrdersPerDay"
        )
    return Limits(
        max_order_notional=_amount(max_order_notional, "maxOrderNotional", "The order limit"),
        max_daily_loss=_amount(max_daily_loss, "maxDailyLoss", "The daily loss limit"),
        max_orders_per_day=max_orders_per_day,
        allowed_symbols=_symbols(allowed_symbols, "allowedSymbols"),
        denied_symbols=_symbols(denied_symbols, "deniedSymbols") or (),
        allow_short=allow_short,
    )


def _cap_loosened(old: Decimal | int | None, new: Decimal | int | None) -> bool:
    return old is not None and (new is None or new > old)


def loosens(old: Limits, new: Limits) -> bool:
    """Whether `new` lets through any order that `old` refused (RISK-03)."""
    widened = old.allowed_symbols is not None and (
        new.allowed_symbols is None
        or any(not any(same_symbol(s, o) for o in old.allowed_symbols) for s in new.allowed_symbols)
    )
    undenied = any(
        not any(same_symbol(s, n) for n in new.denied_symbols) for s in old.denied_symbols
    )
    return (
        _cap_loosened(old.max_order_notional, new.max_order_notional)
        or _cap_loosened(old.max_daily_loss, new.max_daily_loss)
        or _cap_loosened(old.max_orders_per_day, new.max_orders_per_day)
        or widened
        or undenied
        or (old.allow_short is False and new.allow_short is not False)
    )


def _from_row(row: asyncpg.Record | None) -> Controls:
    if row is None:
        return Controls(Limits(), halted=False)

    def listed(raw: object) -> tuple[str, ...] | None:
        if raw is None:
            return None
        values = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(values, list):
            raise TypeError("a symbol list is stored as a JSON array")
        return tuple(str(v) for v in values)

    limits = Limits(
        max_order_notional=row["max_order_notional"],
        max_daily_loss=row["max_daily_loss"],
        max_orders_per_day=row["max_orders_per_day"],
        allowed_symbols=listed(row["allowed_symbols"]),
        denied_symbols=listed(row["denied_symbols"]) or (),
        allow_short=row["allow_short"],
    )
    return Controls(limits, halted=row["halted_at"] is not None)


_SELECT = """select max_order_notional, max_daily_loss, max_orders_per_day, allowed_symbols,
    denied_symbols, allow_short, halted_at from app.account_limits where account_id = $1"""


async def load(conn: asyncpg.Connection, account_id: UUID) -> Controls:
    return _from_row(await conn.fetchrow(_SELECT, account_id))


async def load_many(conn: asyncpg.Connection, account_ids: list[UUID]) -> dict[UUID, Controls]:
    rows = await conn.fetch(
        """select account_id, max_order_notional, max_daily_loss, max_orders_per_day,
               allowed_symbols, denied_symbols, allow_short, halted_at
             from app.account_limits where account_id = any($1::uuid[])""",
        account_ids,
    )
    found = {row["account_id"]: _from_row(row) for row in rows}
    return {account_id: found.get(account_id, _from_row(None)) for account_id in account_ids}


async def orders_today(
    conn: asyncpg.Connection, account_id: UUID, except_client_order_id: str | None = None
) -> int:
    """Orders sent (or possibly sent) on the account since midnight in New York (RISK-02)."""
    # Counted from midnight in New York, where the US trading day is counted; outcomes of
    # orders that reached, or may have reached, the broker.
    count: int = await conn.fetchval(
        """select count(*) from app.order_audit
            where account_id = $1
              and created_at >= (date_trunc('day', now() at time zone 'America/New_York')
                                 at time zone 'America/New_York')
              and outcome in ('ATTEMPTED', 'ACCEPTED', 'RECOVERED', 'UNKNOWN')
              and client_order_id is distinct from $2""",
        account_id,
        except_client_order_id,
    )
    return count


async def lock_account(conn: asyncpg.Connection, account_id: UUID) -> None:
    """Lock the account row until the transaction ends, or NOT_FOUND.

    Admitting an order, writing limits and halting each take this lock, so
    they happen one after the other per account, across every server process:
    once a halt has committed, no order is admitted that did not see it.
    """
    found = await conn.fetchval(
        "select id from app.broker_accounts where id = $1 for no key update", account_id
    )
    if found is None:
        raise NotFound("No such account")


async def save(conn: asyncpg.Connection, account_id: UUID, owner_id: UUID, limits: Limits) -> None:
    """Replace the account's limits in one statement; the halt is left as it is."""
    allowed = None if limits.allowed_symbols is None else json.dumps(list(limits.allowed_symbols))
    await conn.execute(
        """insert into app.account_limits
               (account_id, owner_id, max_order_notional, max_daily_loss, max_orders_per_day,
                allowed_symbols, denied_symbols, allow_short)
           values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)
           on conflict (account_id) do update set
               max_order_notional = excluded.max_order_notional,
               max_daily_loss = excluded.max_daily_loss,
               max_orders_per_day = excluded.max_orders_per_day,
               allowed_symbols = excluded.allowed_symbols,
               denied_symbols = excluded.denied_symbols,
               allow_short = excluded.allow_short,
               updated_at = now()""",
        account_id,
        owner_id,
        limits.max_order_notional,
        limits.max_daily_loss,
        limits.max_orders_per_day,
        allowed,
        json.dumps(list(limits.denied_symbols)),
        limits.allow_short,
    )


async def set_halted(
    conn: asyncpg.Connection, account_id: UUID, owner_id: UUID, halted: bool
) -> None:
    """Halt (keeping the first halt's time) or resume, leaving the limits as they are."""
    await conn.execute(
        """insert into app.account_limits (account_id, owner_id, halted_at)
           values ($1, $2, case when $3 then now() end)
           on conflict (account_id) do update set
               halted_at = case when $3
                   then coalesce(app.account_limits.halted_at, now()) end,
               updated_at = now()""",
        account_id,
        owner_id,
        halted,
    )


async def admit(
    conn: asyncpg.Connection, account_id: UUID, client_order_id: str, *, reduces_only: bool
) -> None:
    """Placement's last word, in the transaction of the order's ATTEMPTED row (RISK-02, RISK-04).

    Under the account lock it reads the halt and the day's count as they are
    now, not as they were when the verdict was made: a halt that committed a
    moment ago refuses the order, and two processes racing for the last order
    of the day cannot both have it. An order that only reduces a position
    still goes: a halted account can always get out.
    """
    await lock_account(conn, account_id)
    if reduces_only:
        return
    controls = await load(conn, account_id)
    if controls.halted:
        raise AccountHalted()
    cap = controls.limits.max_orders_per_day
    if cap is not None:
        sent = await orders_today(conn, account_id, client_order_id)
        if sent >= cap:
            raise LimitExceeded(
                f"Refused by your daily order limit: {sent} of {cap} orders were already sent "
                "today.",
                guard=Guard.MAX_ORDERS_PER_DAY.value,
                limit=str(cap),
                value=str(sent + 1),
            )
