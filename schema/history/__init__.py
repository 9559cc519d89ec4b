"""The history and market views of the schema (HIST-01..04): portfolio history, activities,
bars, quotes, symbol search, the watchlist and the market clock."""

from schema.history.mutation import HistoryMutation
from schema.history.query import HistoryQuery

__all__ = ["HistoryMutation", "HistoryQuery"]
