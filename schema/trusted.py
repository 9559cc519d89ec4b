"""Documents by their text, parsed and checked once: the PWA's for good, others while recent.

The PWA sends only the documents of `docs/pwa-operations.json` (exported from
pwa/js/operations.js, each with its SHA-256). They are loaded when the schema
is built: each is parsed with the token limit, refused if it selects too many
fields (schema/cost.py) or asks for introspection, and validated with the
request pipeline's own rules; a document that fails any of these stops
start-up, since the PWA could not work with it anyway.

Requests then run Strawberry's own pipeline, whose parse hook (schema/pipeline.py)
asks `Documents` for the query text: a trusted document costs one dictionary
lookup and has nothing left to work out; any other text is parsed once while
it stays among the last `limits.PARSER_CACHE_SIZE` distinct texts, and its
checks and validation are then worked out once too (schema/guards.py). Texts
are matched exactly, so a client can only ever get a document that was
validated.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, parse

from schema import limits
from schema.guards import CheckedDocument

OPERATIONS_FILE = Path(__file__).resolve().parents[1] / "docs" / "pwa-operations.json"


class UntrustworthyDocumentError(ValueError):
    """A listed document that does not hash, parse, fit the limits or validate."""


class TrustedDocuments:
    """Parsed, validated documents by their exact text."""

    def __init__(self) -> None:
        self._by_text: dict[str, CheckedDocument] = {}

    def load(
        self, schema: GraphQLSchema, *, hide_suggestions: bool, path: Path = OPERATIONS_FILE
    ) -> None:
        """Trust every document listed in `path` (none when the file is absent: an install
        without the PWA's sources), validated as requests are (schema/guards.py)."""
        if not path.is_file():
            return
        for entry in json.loads(path.read_text()):
            name, query = entry["operationName"], entry["query"]
            if hashlib.sha256(query.encode()).hexdigest() != entry["sha256"]:
                raise UntrustworthyDocumentError(f"{name}: its sha256 does not match its text")
            try:
                checked = CheckedDocument(parse(query, max_tokens=limits.MAX_TOKENS))
            except GraphQLError as error:
                raise UntrustworthyDocumentError(f"{name}: {error.message}") from error
            refusal = checked.cost_refusal
            if refusal is None and checked.introspects:
                refusal = GraphQLError("introspection is answered only to signed-in clients")
            errors = [refusal] if refusal else checked.validation_errors(
                schema, hide_suggestions
            )  # fmt: skip
            if errors:
                raise UntrustworthyDocumentError(f"{name}: {errors[0].message}")
            self._by_text[query] = checked

    def checked(self, query: str) -> CheckedDocument | None:
        """The document loaded for exactly this text, or None."""
        return self._by_text.get(query)

    def __len__(self) -> int:
        return len(self._by_text)


class Documents:
    """The checked document of a query text: trusted, or parsed once while recent."""

    def __init__(self, trusted: TrustedDocuments, maxsize: int = limits.PARSER_CACHE_SIZE) -> None:
        self._trusted = trusted
        # lru_cache keeps no exception: a text that does not parse is parsed again, by
        # Strawberry, which reports it as an ordinary result (schema/pipeline.py)
        self._parsed = lru_cache(maxsize=maxsize)(_checked)

    def get(self, query: str) -> CheckedDocument:
        """The document of `query`; GraphQLSyntaxError when it does not parse."""
        return self._trusted.checked(query) or self._parsed(query)


def _checked(query: str) -> CheckedDocument:
    return CheckedDocument(parse(query, max_tokens=limits.MAX_TOKENS))
