"""Every root field of the schema is exercised by the in-process tier.

The tiers: docs/architecture.md, "How the tests are tiered".

Reads the root Query, Mutation and Subscription fields from the schema the
server builds, and the GraphQL documents written in this tier's test modules
(every string literal that parses as an operation), and fails naming each
root field that no document of the tier selects. A new resolver without an
in-process test fails here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql import build_schema as schema_from_sdl

from schema import build_schema

TIER = Path(__file__).parent
# Modules of the tier that execute a small schema of their own, not the server's.
OWN_SCHEMA = {TIER / "realtime" / "test_execution.py", TIER / "test_plans.py"}


def _string_literals(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _selected_root_fields(text: str) -> Iterator[tuple[OperationType, str]]:
    if "{" not in text:
        return
    try:
        document = parse(text)
    except GraphQLError:
        return
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
                    yield definition.operation, selection.name.value  # introspection aside


def covered_root_fields() -> set[tuple[OperationType, str]]:
    return {
        field
        for path in sorted(TIER.rglob("test_*.py"))
        if path != Path(__file__) and path not in OWN_SCHEMA
        for text in _string_literals(path)
        for field in _selected_root_fields(text)
    }


def schema_root_fields() -> set[tuple[OperationType, str]]:
    graphql_schema = schema_from_sdl(build_schema().as_str())
    roots = {
        OperationType.QUERY: graphql_schema.query_type,
        OperationType.MUTATION: graphql_schema.mutation_type,
        OperationType.SUBSCRIPTION: graphql_schema.subscription_type,
    }
    return {
        (operation, name)
        for operation, root in roots.items()
        if root is not None
        for name in root.fields
    }


def test_every_root_field_has_an_in_process_test() -> None:
    missing = sorted(
        f"{operation.value} {name}"
        for operation, name in schema_root_fields() - covered_root_fields()
    )
    assert not missing, "root fields with no test in tests/schema: " + ", ".join(missing)


def test_the_tier_only_selects_fields_the_schema_has() -> None:
    """Guards the reading above: a document naming a removed field would count as coverage."""
    unknown = covered_root_fields() - schema_root_fields()
    assert not unknown, sorted(f"{operation.value} {name}" for operation, name in unknown)
