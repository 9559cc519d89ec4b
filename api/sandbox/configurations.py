"""Alpaca's account configurations: the brakes an account holder sets on their own account.

``GET /v2/account/configurations`` shows them and ``PATCH`` changes the fields it
is sent. Two of them change what the sandbox accepts, as on Alpaca:
``suspend_trade`` refuses new orders (the product's halt sets it, RISK-04 in
docs/requirements.md) and ``no_shorting`` refuses sells that would open or grow a
short. The others are kept and reported so that clients read them back as sent;
the sandbox stays a cash account whatever ``max_margin_multiplier`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from api.sandbox.errors import unprocessable

_CHECK_MODES = ("both", "entry", "exit")
# The fields limited to a few values; the others take any value of their type.
_CHOICES: dict[str, tuple[object, ...]] = {
    "dtbp_check": _CHECK_MODES,
    "pdt_check": _CHECK_MODES,
    "trade_confirm_email": ("all", "none"),
    "max_margin_multiplier": ("1", "2", "4"),
    "max_options_trading_level": (0, 1, 2, 3),
}


@dataclass(frozen=True, slots=True)
class AccountConfiguration:
    """One account's settings, named and typed as in Alpaca's ``AccountConfigurations``."""

    dtbp_check: str = "entry"
    trade_confirm_email: str = "all"
    suspend_trade: bool = False
    no_shorting: bool = False
    fractional_trading: bool = True
    max_margin_multiplier: str = "1"
    pdt_check: str = "entry"
    ptp_no_exception_entry: bool = False
    max_options_trading_level: int = 0
    disable_overnight_trading: bool = False


_FIELDS = {f.name for f in fields(AccountConfiguration)}
_DEFAULTS = AccountConfiguration()


def patched(current: AccountConfiguration, body: Any) -> AccountConfiguration:
    """``current`` with the fields of a PATCH body changed; the body is checked first.

    A null counts as not sent: alpaca-py's ``set_account_configurations`` sends every
    field of its model, with None for the ones it leaves optional.
    """
    if not isinstance(body, dict):
        raise unprocessable("request body format is invalid")
    unknown = set(body) - _FIELDS
    if unknown:
        # Refused rather than ignored, so a misspelt brake never silently stays off.
        raise unprocessable(f"unknown configuration fields: {', '.join(sorted(unknown))}")
    changes = {name: _checked(name, value) for name, value in body.items() if value is not None}
    return replace(current, **changes)


def _checked(name: str, value: Any) -> Any:
    # ``type() is`` keeps JSON's true/false out of the integer field and 1/0 out of the flags.
    of_its_type = type(value) is type(getattr(_DEFAULTS, name))
    if not of_its_type or value not in _CHOICES.get(name, (value,)):
        raise unprocessable(f"invalid {name}")
    return value
