"""Limits on what one GraphQL request may cost; documented in README ("Limits").

A document deeper, wider or longer than these is refused before execution
with GRAPHQL_VALIDATION_FAILED (depth, aliases, field selections: the last
checked before validation itself, schema/cost.py) or GRAPHQL_PARSE_FAILED
(tokens), so a single request cannot make the server do unbounded work.
"""

from datetime import timedelta

from api.errors import BadUserInput

MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
# Field selections, fragments counted where spread (schema/cost.py); the PWA's largest
# document (docs/pwa-operations.graphql) has 18 in one set and 93 in all, GraphiQL's
# introspection query about 220.
MAX_SELECTIONS_PER_SET = 32
MAX_SELECTIONS = 400
MAX_BODY_BYTES = 64 * 1024  # larger POST bodies get 413
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
# distinct document texts kept parsed, checked and validated (schema/trusted.py)
PARSER_CACHE_SIZE = 256
# The most items one list query (orders, chatHistory, ...) returns; `limit` is 1..this.
MAX_LIST_LIMIT = 500


def list_limit(limit: int) -> int:
    """A list query's `limit`, or BAD_USER_INPUT on `limit` outside 1..MAX_LIST_LIMIT."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise BadUserInput(f"limit must be between 1 and {MAX_LIST_LIMIT}", field="limit")
    return limit
