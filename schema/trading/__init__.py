"""The trading domain of the schema: positions, orders, proposals (TRADE-02..05)."""

from schema.trading.mutation import TradingMutation
from schema.trading.query import TradingQuery

__all__ = ["TradingMutation", "TradingQuery"]
