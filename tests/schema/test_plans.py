"""A query run by its plan answers exactly as graphql-core's executor answers it (schema/plans.py).

Every document runs on two schemas that differ only in their executor: ours
(`PlannedExecutor`) and graphql-core's own execution as Strawberry subclasses it
(`SharedEventExecutor`, which changes nothing for queries). Data, errors (message,
path, locations, in order) and DataLoader batches must be the same, on every
field shape: plain, permissioned, resolver (sync, async, with arguments),
list, union, interface, non-null errors going up, and what plans leave to
graphql-core. Then every PWA query, over the real app and database, both ways
(OPS-04: an executor of our own only on graphql-core's public API, proved
against the stock one).
"""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import uuid4

import pytest
import strawberry
from graphql import ExecutionResult, OperationDefinitionNode, parse
from strawberry.dataloader import DataLoader
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from schema import plans
from schema.executor import PlannedExecutor
from schema.plans import plan_of
from schema.realtime.execution import SharedEventExecutor
from schema.scalars import SCALAR_MAP
from schema.trusted import OPERATIONS_FILE
from tests.fixtures.answers import comparable
from tests.fixtures.inprocess import InProcessApp


class Denied(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return "allowed" in info.context  # never: the context is only the loader


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Dog(Named):
    good: bool


Pet = Annotated[Cat | Dog, strawberry.union("Pet")]


@strawberry.type
class Item:
    id: strawberry.ID
    n: int
    price: Decimal
    label: str  # None on the third item: a plain non-null field's null
    weight: int  # not an int on the second: a plain field that does not coerce
    note: str | None = None
    guarded: str | None = strawberry.field(permission_classes=[Denied], default="hidden")

    @strawberry.field
    def fails(self) -> int | None:
        raise ValueError(f"item {self.n} fails")

    @strawberry.field
    def must(self) -> int:
        if self.n == 2:
            raise ValueError("the second item has no must")
        return self.n

    @strawberry.field(permission_classes=[Denied])
    def secret(self) -> str | None:
        return "secret"

    @strawberry.field
    async def doubled(self, info: Info) -> int:
        loaded: int = await info.context["loader"].load(self.n)
        return loaded

    @strawberry.field
    def scaled(self, by: int = 10) -> int:
        return self.n * by


@strawberry.type
class Inner:
    @strawberry.field
    def required(self) -> str:
        raise ValueError("required inner fails")

    @strawberry.field
    def fine(self) -> str:
        return "fine"


@strawberry.type
class Outer:
    @strawberry.field
    def inner(self) -> Inner:
        return Inner()

    @strawberry.field
    def also(self) -> int | None:
        raise ValueError("a sibling below the nulled one")


def _items() -> list[Item]:
    return [
        Item(
            id=strawberry.ID(str(n)),
            n=n,
            price=Decimal(f"{n}.25"),
            label=f"item {n}" if n != 3 else None,  # type: ignore[arg-type]
            weight=n if n != 2 else "heavy",  # type: ignore[arg-type]
        )
        for n in (1, 2, 3)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def when(self) -> datetime:
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    @strawberry.field
    def colour(self) -> Colour:
        return Colour.BLUE

    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def some_items(self) -> list[Item | None] | None:
        return [_items()[0], None, _items()[2]]

    @strawberry.field
    async def later_items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def pets(self) -> list[Pet]:
        return [Cat(name="tom", lives=9), Dog(name="rex", good=True)]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Dog(name="fido", good=False), Cat(name="kit", lives=3)]

    @strawberry.field
    def wrong_pet(self) -> Pet | None:
        return _items()[0]  # type: ignore[return-value]

    @strawberry.field(permission_classes=[Denied])
    def forbidden(self) -> str | None:
        return "no"

    @strawberry.field
    def required_fails(self) -> str:
        raise ValueError("the root's non-null field fails")

    @strawberry.field
    def outer(self) -> Outer | None:
        return Outer()

    @strawberry.field
    def numbers(self) -> list[int]:
        return [1, "two", 3]  # type: ignore[list-item]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def optional_numbers(self) -> list[int | None]:
        return [1, "two", None]  # type: ignore[list-item]


# (document, variables, planned)
DOCUMENTS: list[tuple[str, dict[str, Any], bool]] = [
    ("{ hello when colour }", {}, True),
    ('query($n: String!) { a: hello(name: $n) b: hello hello(name: "x") }', {"n": "v"}, True),
    ("{ items { id n price fails } }", {}, True),
    ("{ someItems { n note label } }", {}, True),
    ("{ someItems { n weight } items { note } }", {}, True),
    ("{ items { label } hello }", {}, True),
    ("{ items { n guarded } }", {}, True),
    ("{ items { n must } }", {}, True),  # a non-null error nulls the list (non-null items)
    ("{ someItems { n must secret } }", {}, True),
    ("{ laterItems { n doubled scaled s: scaled(by: 3) } items { doubled } }", {}, True),
    ("query($by: Int) { items { scaled(by: $by) } }", {"by": 7}, True),
    ("query($by: Int) { items { scaled(by: $by) } }", {}, True),
    ("{ items { __typename ...F ... on Item { n id } } } fragment F on Item { n price }", {}, True),
    ("{ pets { __typename ... on Cat { name lives } ... on Dog { name good } } }", {}, True),
    (
        "{ named { name __typename ... on Dog { good } ...C } } fragment C on Cat { lives }",
        {},
        True,
    ),
    ("{ wrongPet { __typename } hello }", {}, True),
    ("{ forbidden hello }", {}, True),
    ("{ requiredFails hello }", {}, True),
    # the data is null while laterItems still runs: its errors must not be collected
    ("{ laterItems { fails } requiredFails }", {}, True),
    ("{ laterItems { n } someItems { n must } outer { inner { required } } }", {}, True),
    ("{ outer { also inner { fine required } } hello }", {}, True),
    ("{ numbers }", {}, True),
    ("{ notAList optionalNumbers }", {}, True),
    ("{ t: __typename hello }", {}, True),
    # left to graphql-core
    ("query($yes: Boolean!) { hello @include(if: $yes) colour }", {"yes": False}, False),
    ("{ __schema { queryType { name } } hello }", {}, False),
    ('{ __type(name: "Item") { name } }', {}, False),
]


def _schema(executor: type) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        execution_context_class=executor,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


PLANNED, STOCK = _schema(PlannedExecutor), _schema(SharedEventExecutor)


def _errors(result: ExecutionResult) -> list[tuple[str, Any, Any]]:
    return [(e.message, e.path, e.locations) for e in result.errors or []]


async def _answer(
    schema: strawberry.Schema, query: str, variables: dict[str, Any]
) -> tuple[Any, list[tuple[str, Any, Any]], list[list[int]]]:
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[int]:
        batches.append(list(keys))
        return [key * 2 for key in keys]

    result = await schema.execute(
        query, variable_values=variables, context_value={"loader": DataLoader(load_fn=load)}
    )
    await asyncio.sleep(0.01)  # work left running below a nulled position ends meanwhile
    return result.data, _errors(result), batches


@pytest.mark.parametrize(("query", "variables"), [(q, v) for q, v, _planned in DOCUMENTS])
async def test_a_planned_query_answers_as_graphql_core_does(
    query: str, variables: dict[str, Any]
) -> None:
    ours, theirs = await _answer(PLANNED, query, variables), await _answer(STOCK, query, variables)
    assert ours == theirs


def test_every_document_above_is_planned_as_marked() -> None:
    """So the comparisons above compare a plan with graphql-core wherever marked."""
    for query, _variables, planned in DOCUMENTS:
        document = parse(query)
        operation, *fragments = document.definitions
        assert isinstance(operation, OperationDefinitionNode)
        by_name = {f.name.value: f for f in fragments}  # type: ignore[attr-defined]
        assert (plan_of(PLANNED._schema, operation, by_name) is not None) is planned, query


def test_mutations_and_other_schemas_get_no_plan() -> None:
    operation = parse("{ hello }").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert plan_of(PLANNED._schema, operation, {}) is not None
    # the plan was made for PLANNED's schema; another schema never uses it
    assert plan_of(STOCK._schema, operation, {}) is None
    mutation = parse("mutation { hello }").definitions[0]
    assert isinstance(mutation, OperationDefinitionNode)
    assert plan_of(PLANNED._schema, mutation, {}) is None


# --- the PWA's queries over the app -------------------------------------------------------

QUERIES = {
    entry["operationName"]: entry["query"]
    for entry in json.loads(OPERATIONS_FILE.read_text())
    if entry["query"].lstrip().startswith("query")
}


def _variables(name: str, account: str) -> dict[str, Any]:
    """Variables for PWA query `name`, from the names its document declares."""
    values = {
        "id": account,
        "accountId": account,
        "status": "ALL",
        "limit": 5,
        "symbol": "AAPL",
        "query": "AA",
        "period": "1M",
        "timeframe": "1Day",
    }
    declared = QUERIES[name].split("{", 1)[0]
    return {key: value for key, value in values.items() if f"${key}:" in declared}


async def test_every_pwa_query_answers_alike_planned_and_not(app: InProcessApp) -> None:
    user = await app.sign_up()
    account = await app.add_paper_account(user.token)
    schema = app.endpoint.schema
    assert schema.execution_context_class is PlannedExecutor
    for name, query in QUERIES.items():
        operation = next(
            d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)
        )
        fragments = {
            d.name.value: d
            for d in parse(query).definitions
            if not isinstance(d, OperationDefinitionNode)  # type: ignore[attr-defined]
        }
        assert plan_of(schema._schema, operation, fragments) is not None, name
    requests = [(name, _variables(name, account.id), user.token) for name in QUERIES]
    requests += [("Accounts", {}, None), ("OrderProposal", {"id": str(uuid4())}, user.token)]
    for name, variables, token in requests:
        planned = await app.gql(QUERIES[name], variables, token=token)
        schema.execution_context_class = SharedEventExecutor
        try:
            stock = await app.gql(QUERIES[name], variables, token=token)
        finally:
            schema.execution_context_class = PlannedExecutor
        assert comparable(planned) == comparable(stock), name


def test_a_plan_goes_with_its_document() -> None:
    """Plans are kept by the operation's identity, for as long as its document lives: an
    ad hoc document leaving the parser cache takes its plan along."""
    gc.collect()  # documents of earlier tests, and their plans, go first
    before = len(plans._plans)
    document = parse("{ hello colour }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert plan_of(PLANNED._schema, operation, {}) is not None
    # a document equal in value is another document, with a plan of its own
    twin = parse("{ hello colour }").definitions[0]
    assert isinstance(twin, OperationDefinitionNode)
    assert plan_of(PLANNED._schema, twin, {}) is not plan_of(PLANNED._schema, operation, {})
    assert len(plans._plans) == before + 2
    del document, operation, twin
    gc.collect()
    assert len(plans._plans) == before
