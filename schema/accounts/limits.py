"""GraphQL types of an account's limits and broker brakes (RISK-01, RISK-04).

Mapped from `api.trading.guards.Limits` and `api.broker.BrokerConfiguration`;
the input types only carry values: `api.trading` decides what is valid.
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api.broker import BrokerConfiguration as Configuration
from api.trading.guards import Limits
from api.trading.limits import clean_limits
from api.trading.risk import ConfigurationChanges


@strawberry.type(description="What the owner allows on this account. Null means no limit.")
class AccountLimits:
    max_order_notional: Decimal | None = strawberry.field(
        description="The most one order may be worth: a buy at its quantity times the highest "
        "of ask, last trade, limit and stop price."
    )
    max_daily_loss: Decimal | None = strawberry.field(
        description="Once equity is this much below the last close, only orders that reduce "
        "positions go out."
    )
    max_orders_per_day: int | None = strawberry.field(
        description="Orders sent since midnight in New York."
    )
    allowed_symbols: list[str] | None = strawberry.field(
        description="Only these symbols may be traded; null: any."
    )
    denied_symbols: list[str] = strawberry.field(description="These symbols may not be traded.")
    allow_short: bool | None = strawberry.field(
        description="false: no sell may open or grow a short position."
    )

    @classmethod
    def of(cls, limits: Limits) -> AccountLimits:
        allowed = limits.allowed_symbols
        return cls(
            max_order_notional=limits.max_order_notional,
            max_daily_loss=limits.max_daily_loss,
            max_orders_per_day=limits.max_orders_per_day,
            allowed_symbols=None if allowed is None else list(allowed),
            denied_symbols=list(limits.denied_symbols),
            allow_short=limits.allow_short,
        )


@strawberry.input(
    description="The account's limits as a whole: a field left out or null means no limit. "
    "Loosening a live account's limits needs a sign-in within the last 5 minutes."
)
class AccountLimitsInput:
    max_order_notional: Decimal | None = None
    max_daily_loss: Decimal | None = None
    max_orders_per_day: int | None = None
    allowed_symbols: list[str] | None = None
    denied_symbols: list[str] | None = None
    allow_short: bool | None = None

    def limits(self) -> Limits:
        """The limits in shape, or BAD_USER_INPUT naming the input field."""
        return clean_limits(
            max_order_notional=self.max_order_notional,
            max_daily_loss=self.max_daily_loss,
            max_orders_per_day=self.max_orders_per_day,
            allowed_symbols=self.allowed_symbols,
            denied_symbols=self.denied_symbols,
            allow_short=self.allow_short,
        )


@strawberry.type(
    description="The account's own settings at Alpaca (GET /v2/account/configurations)."
)
class BrokerConfiguration:
    suspend_trade: bool = strawberry.field(
        description="New orders are refused by the broker; set by haltAccount."
    )
    no_shorting: bool
    fractional_trading: bool
    max_margin_multiplier: str
    trade_confirm_email: str
    dtbp_check: str
    pdt_check: str
    max_options_trading_level: int | None

    @classmethod
    def of(cls, c: Configuration) -> BrokerConfiguration:
        return cls(
            suspend_trade=c.suspend_trade,
            no_shorting=c.no_shorting,
            fractional_trading=c.fractional_trading,
            max_margin_multiplier=c.max_margin_multiplier,
            trade_confirm_email=c.trade_confirm_email,
            dtbp_check=c.dtbp_check,
            pdt_check=c.pdt_check,
            max_options_trading_level=c.max_options_trading_level,
        )


@strawberry.input(
    description="Broker settings to change; the fields left out stay as they are. "
    "suspendTrade is changed only by haltAccount and resumeAccount."
)
class BrokerConfigurationInput:
    no_shorting: bool | None = None
    fractional_trading: bool | None = None
    max_margin_multiplier: str | None = strawberry.field(default=None, description="1, 2 or 4")
    trade_confirm_email: str | None = strawberry.field(default=None, description="all or none")
    dtbp_check: str | None = strawberry.field(default=None, description="both, entry or exit")
    pdt_check: str | None = strawberry.field(default=None, description="both, entry or exit")
    max_options_trading_level: int | None = strawberry.field(default=None, description="0 to 3")

    def changes(self) -> ConfigurationChanges:
        return ConfigurationChanges(
            no_shorting=self.no_shorting,
            fractional_trading=self.fractional_trading,
            max_margin_multiplier=self.max_margin_multiplier,
            trade_confirm_email=self.trade_confirm_email,
            dtbp_check=self.dtbp_check,
            pdt_check=self.pdt_check,
            max_options_trading_level=self.max_options_trading_level,
        )
