"""Trusted documents: the PWA's own operations, parsed and validated once per process.

The PWA sends only the documents of `docs/pwa-operations.json` (exported from
pwa/js/operations.js, each with its SHA-256). They are loaded when the schema
is built: each is parsed with the token limit, refused if it selects too many
fields (schema/cost.py) or asks for introspection, and validated with the
request pipeline's own rules; a document that fails any of these stops
start-up, since the PWA could not work with it anyway.

Requests then run Strawberry's own pipeline with every extension, and two of
its hooks make a trusted document cost one dictionary lookup: `TrustedParsing`
(on_parse) hands Strawberry the parsed document, and `DocumentGuards`
(schema/guards.py, on_validate) knows its validation already passed. Any other
document is parsed through `ParserCache`'s shared cache and validated through
the guards' cached validation, as before. Documents are matched by their exact
text, so a client can only ever get a document that was validated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import ParserCache

from schema import limits
from schema.cost import selection_cost_error
from schema.guards import asks_for_introspection, validate_document

OPERATIONS_FILE = Path(__file__).resolve().parents[1] / "docs" / "pwa-operations.json"


class UntrustworthyDocumentError(ValueError):
    """A listed document that does not hash, parse, fit the limits or validate."""


class TrustedDocuments:
    """Parsed, validated documents by their exact text."""

    def __init__(self) -> None:
        self._by_text: dict[str, DocumentNode] = {}
        self._trusted: set[int] = set()  # ids of the documents above, which live as long

    def load(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]],
        *,
        hide_suggestions: bool,
        path: Path = OPERATIONS_FILE,
    ) -> None:
        """Trust every document listed in `path` (none when the file is absent: an install
        without the PWA's sources)."""
        if not path.is_file():
            return
        for entry in json.loads(path.read_text()):
            name, query = entry["operationName"], entry["query"]
            if hashlib.sha256(query.encode()).hexdigest() != entry["sha256"]:
                raise UntrustworthyDocumentError(f"{name}: its sha256 does not match its text")
            try:
                document = parse(query, max_tokens=limits.MAX_TOKENS)
            except GraphQLError as error:
                raise UntrustworthyDocumentError(f"{name}: {error.message}") from error
            refusal = selection_cost_error(document)
            if refusal is None and asks_for_introspection(document):
                refusal = GraphQLError("introspection is answered only to signed-in clients")
            errors = [refusal] if refusal else validate_document(
                schema, document, tuple(rules), hide_suggestions
            )  # fmt: skip
            if errors:
                raise UntrustworthyDocumentError(f"{name}: {errors[0].message}")
            self._by_text[query] = document
            self._trusted.add(id(document))

    def document(self, query: str | None) -> DocumentNode | None:
        return self._by_text.get(query) if query is not None else None

    def is_trusted(self, document: DocumentNode) -> bool:
        """True for a document this registry parsed and validated (identity, not equality)."""
        return id(document) in self._trusted

    def __len__(self) -> int:
        return len(self._by_text)


class TrustedParsing(ParserCache):
    """on_parse: a trusted document as loaded, anything else through ParserCache's cache.

    ParserCache raises a syntax error out of the parsing hook, which skips the
    operation hooks (and so our error codes); here an unparsable document is
    left for Strawberry to parse again and report as an ordinary result.
    """

    def __init__(self, trusted: TrustedDocuments, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self._trusted = trusted

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        document = self._trusted.document(context.query)
        if document is None and context.query is not None:
            with contextlib.suppress(GraphQLError):
                document = self.cached_parse_document(context.query, **context.parse_options)
        if document is not None:
            context.graphql_document = document
        yield
