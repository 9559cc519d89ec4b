"""Watchlists: an account's named, ordered lists of symbols (``/v2/watchlists``).

Names are unique per account (up to 64 characters) and symbols must be known
assets, as on Alpaca; adding a symbol already listed changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.sandbox.assets import find_asset
from api.sandbox.clock import now
from api.sandbox.errors import not_found, unprocessable
from api.sandbox.records import SandboxAccount, SandboxWatchlist

MAX_NAME = 64


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= MAX_NAME:
        raise unprocessable(f"name must be 1 to {MAX_NAME} characters")
    return raw.strip()


def _symbol(raw: Any) -> str:
    asset = find_asset(raw) if isinstance(raw, str) and raw else None
    if asset is None:
        raise unprocessable(f"asset not found: {raw}")
    return asset.symbol


def _symbols(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise unprocessable("symbols must be a list")
    listed: list[str] = []
    for item in raw:
        symbol = _symbol(item)
        if symbol not in listed:
            listed.append(symbol)
    return listed


def _ensure_unique(account: SandboxAccount, name: str, keep: uuid.UUID | None = None) -> None:
    if any(w.name == name and w.id != keep for w in account.watchlists.values()):
        raise unprocessable("watchlist name must be unique")


def create(account: SandboxAccount, body: dict[str, Any]) -> SandboxWatchlist:
    name = _name(body.get("name"))
    _ensure_unique(account, name)
    moment = now()
    watchlist = SandboxWatchlist(uuid.uuid4(), name, _symbols(body.get("symbols")), moment, moment)
    account.watchlists[watchlist.id] = watchlist
    return watchlist


def get(account: SandboxAccount, watchlist_id: str) -> SandboxWatchlist:
    try:
        watchlist = account.watchlists.get(uuid.UUID(watchlist_id))
    except ValueError:
        watchlist = None
    if watchlist is None:
        raise not_found("watchlist not found")
    return watchlist


def replace(account: SandboxAccount, watchlist_id: str, body: dict[str, Any]) -> SandboxWatchlist:
    watchlist = get(account, watchlist_id)
    name = _name(body.get("name", watchlist.name))
    _ensure_unique(account, name, keep=watchlist.id)
    watchlist.name = name
    watchlist.symbols = _symbols(body.get("symbols"))
    watchlist.updated_at = now()
    return watchlist


def add(account: SandboxAccount, watchlist_id: str, body: dict[str, Any]) -> SandboxWatchlist:
    watchlist = get(account, watchlist_id)
    symbol = _symbol(body.get("symbol"))
    if symbol not in watchlist.symbols:
        watchlist.symbols.append(symbol)
        watchlist.updated_at = now()
    return watchlist


def remove(account: SandboxAccount, watchlist_id: str, raw_symbol: str) -> SandboxWatchlist:
    watchlist = get(account, watchlist_id)
    asset = find_asset(raw_symbol)
    if asset is None or asset.symbol not in watchlist.symbols:
        raise not_found("symbol not in watchlist")
    watchlist.symbols.remove(asset.symbol)
    watchlist.updated_at = now()
    return watchlist


def delete(account: SandboxAccount, watchlist_id: str) -> None:
    del account.watchlists[get(account, watchlist_id).id]
