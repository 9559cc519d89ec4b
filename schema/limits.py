"""Limits on what one GraphQL request may cost; documented in README ("Limits").

A document deeper, wider or longer than these is refused before execution
with GRAPHQL_VALIDATION_FAILED (depth, aliases) or GRAPHQL_PARSE_FAILED
(tokens), so a single request cannot make the server do unbounded work.
"""

from datetime import timedelta

MAX_QUERY_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_BODY_BYTES = 64 * 1024  # larger POST bodies get 413
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
PARSER_CACHE_SIZE = 256
VALIDATION_CACHE_SIZE = 256
PREPARED_DOCUMENTS = 256  # documents /graphql executes without Strawberry's hooks
