"""Orders on one account: validation, proposals and confirmation, placement (TRADE-01..05)."""

from api.trading.orders import OrderIntent, validate_intent
from api.trading.proposals import Proposal
from api.trading.service import TradingService

__all__ = ["OrderIntent", "Proposal", "TradingService", "validate_intent"]
