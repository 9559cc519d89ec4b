"""What refuses an order before the broker stores it, with Alpaca's answers.

Checked in this order: a reused ``client_order_id`` (422), the
holder's own ``suspend_trade`` brake (403), then the money and the shares: a buy
needs buying power, a sell needs shares, or else permission to short (which the
holder's ``no_shorting`` brake withdraws) and the buying power to cover it.
"""

from __future__ import annotations

from decimal import Decimal

from api.sandbox.errors import SandboxError, forbidden, unprocessable
from api.sandbox.prices import SandboxQuote
from api.sandbox.records import SandboxAccount, shares_for
from api.sandbox.validation import OrderSubmission
from api.sandbox.valuation import Valuation


def check_order(
    valuation: Valuation,
    account: SandboxAccount,
    request: OrderSubmission,
    quote: SandboxQuote,
    closes_position: bool,
) -> None:
    """Raise the ``SandboxError`` that refuses ``request``, if any.

    ``closes_position`` marks the order ``DELETE /v2/positions`` places: it passes a
    suspension, because a halted account must still be able to close positions
    (RISK-04 in docs/requirements.md).
    """
    if request.client_order_id and request.client_order_id in account.client_order_ids:
        # Unique for the account's whole history, canceled orders included: this is what
        # makes a retried placement with the same id safe. Checked before the suspension
        # so that a retry still learns that its order exists.
        raise unprocessable("client_order_id must be unique")
    if account.configuration.suspend_trade and not closes_position:
        raise forbidden("new orders are rejected by user request")
    if request.side == "buy":
        _check_buying_power(valuation, account, request, quote)
    else:
        _check_sell(valuation, account, request, quote)


def _check_buying_power(
    valuation: Valuation, account: SandboxAccount, request: OrderSubmission, quote: SandboxQuote
) -> None:
    if request.notional is not None:
        cost = request.notional
    else:
        reference = request.limit_price or request.stop_price or quote.ask
        cost = (request.qty or Decimal(0)) * reference
    if cost > valuation.buying_power(account):
        raise forbidden("insufficient buying power")


def _check_sell(
    valuation: Valuation, account: SandboxAccount, request: OrderSubmission, quote: SandboxQuote
) -> None:
    symbol = request.asset.symbol
    wanted = (
        request.qty
        if request.qty is not None
        else shares_for(request.notional or Decimal(0), quote.bid)
    )
    position = account.positions.get(symbol)
    held = position.qty if position else Decimal(0)
    available = valuation.qty_available(account, symbol)
    if wanted <= available:
        return
    if held > 0 or not _may_short(account, request):
        raise insufficient_qty(wanted, available)
    if wanted * quote.bid > valuation.buying_power(account):
        raise forbidden("insufficient buying power")


def _may_short(account: SandboxAccount, request: OrderSubmission) -> bool:
    asset = request.asset
    whole = request.qty is not None and request.qty == request.qty.to_integral_value()
    return account.may_short and asset.shortable and asset.easy_to_borrow and whole


def insufficient_qty(requested: Decimal, available: Decimal) -> SandboxError:
    return forbidden(
        "insufficient qty available for order "
        f"(requested: {_plain(requested)}, available: {_plain(available)})"
    )


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
