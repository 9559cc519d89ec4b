"""Orders on one account: validation, proposals and confirmation, placement (TRADE-01..05)."""

from api.trading.proposals import Proposal
from api.trading.service import TradingService
from api.trading.tickets import OrderTicket

__all__ = ["OrderTicket", "Proposal", "TradingService"]
