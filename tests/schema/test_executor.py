"""The schema's executor gives graphql-core's answers, including for errors (schema/executor.py).

Its short path for plain data fields replaces a few graphql-core steps; each
document here runs through it and through Strawberry's stock executor, and
data and errors (message, path, locations, extensions) must be the same.
Strawberry marks a resolver-less field with a permission class or a field
extension as "default" too: such a field must keep its permission error (with
its code) and its extension (OPS-04).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import FieldExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.errors import ErrorCode
from schema.executor import AppExecutor
from schema.permissions import IsAuthenticated


@strawberry.enum
class Side(Enum):
    BUY = "buy"
    SELL = "sell"


class _Shout(FieldExtension):
    """A field extension on a resolver-less field: it must run on the short path too."""

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.type
class Row:
    id: UUID
    name: str
    note: str | None
    side: Side
    amount: Decimal
    at: datetime
    count: int
    # resolver-less fields that are still not plain data
    secret: str = strawberry.field(default="hidden", permission_classes=[IsAuthenticated])
    loud: str = strawberry.field(default="loud", extensions=[_Shout()])

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


class _Broken:
    """Stands in for a Row whose attributes misbehave (a bug the executor must report)."""

    def __init__(self, **overrides: Any) -> None:
        self.__dict__.update(_row_values(0))
        self.__dict__.update(overrides)

    @property
    def count(self) -> int:
        raise RuntimeError("count failed")


def _row_values(n: int) -> dict[str, Any]:
    return {
        "id": UUID(int=n),
        "name": f"row {n}",
        "note": None if n % 2 else "note",
        "side": Side.SELL if n % 2 else Side.BUY,
        "amount": Decimal("1.50") * n,
        "at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "count": n,
    }


async def _later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return [Row(**_row_values(n)) for n in range(3)]

    @strawberry.field
    async def async_rows(self) -> list[Row]:
        return [Row(**_row_values(n)) for n in range(2)]

    @strawberry.field
    def broken(self) -> list[Row | None]:  # an error nulls one row, the others still run
        return [
            _Broken(),  # type: ignore[list-item]
            _Broken(name=None),  # type: ignore[list-item]
            _Broken(name=ValueError("stored error")),  # type: ignore[list-item]
            _Broken(name=_later("awaited name"), note=_later(None)),  # type: ignore[list-item]
            _Broken(side="not a side"),  # type: ignore[list-item]
        ]

    @strawberry.field
    def nullable_row(self) -> Row | None:
        return _Broken(name=None)  # type: ignore[return-value]


SCHEMA = strawberry.Schema(query=Query)
DOCUMENTS = [
    "{ rows { id name note side amount at count } }",
    "{ asyncRows { id name side } }",
    "{ rows { __typename a: name b: name name shout ...F } } fragment F on Row { count at }",
    "{ broken { id name note side count } }",
    "{ broken { id note } }",
    "{ nullableRow { id name } }",
    "{ broken { side } }",
    "{ rows { id secret } }",
    "{ rows { secret } }",
    "{ nullableRow { secret } }",
    "{ rows { name loud } }",
]

# who is asking: nobody is signed in
SIGNED_OUT = SimpleNamespace(principal=None)


async def _run(document: str, executor: type[Any]) -> ExecutionResult:
    result = execute(
        SCHEMA._schema,
        parse(document),
        context_value=SIGNED_OUT,
        executor_class=executor,
        is_awaitable=optimized_is_awaitable,
    )
    if optimized_is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result


def _errors(result: ExecutionResult) -> list[tuple[str, Any, Any, Any]]:
    return sorted(
        (
            e.message,
            e.path,
            [(loc.line, loc.column) for loc in e.locations or ()],
            sorted((e.extensions or {}).items()),
        )
        for e in result.errors or ()
    )


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_same_data_and_errors_as_graphql_core(document: str) -> None:
    ours = await _run(document, AppExecutor)
    stock = await _run(document, StrawberryGraphQLCoreExecutionContext)
    assert ours.data == stock.data
    assert _errors(ours) == _errors(stock)


async def test_the_cases_above_do_exercise_errors_and_awaitables() -> None:
    result = await _run("{ broken { id name note count } }", AppExecutor)
    assert {error.message for error in result.errors or ()} == {
        "count failed",
        "stored error",
        "Cannot return null for non-nullable field Row.name.",
    }
    assert result.data == {"broken": [None, None, None, None, None]}
    names = await _run("{ broken { name } }", AppExecutor)
    assert names.data is not None and names.data["broken"][3] == {"name": "awaited name"}
    notes = await _run("{ broken { note } }", AppExecutor)
    assert notes.data is not None and notes.data["broken"][3] == {"note": None}


async def test_a_resolver_less_field_with_a_permission_keeps_its_error_and_code() -> None:
    """OPS-04: Strawberry marks such a field "default"; it is not plain data."""
    result = await _run("{ rows { id secret } }", AppExecutor)
    assert result.data is None  # `secret` is non-null: each row, then `rows`, is null
    assert result.errors
    assert {(e.message, (e.extensions or {}).get("code")) for e in result.errors} == {
        ("Sign in to do this", ErrorCode.UNAUTHENTICATED.value)
    }


async def test_a_resolver_less_field_with_an_extension_runs_it() -> None:
    """OPS-04: the field extension still wraps the attribute read."""
    result = await _run("{ rows { loud } }", AppExecutor)
    assert result.errors is None
    assert result.data == {"rows": [{"loud": "LOUD"}] * 3}
