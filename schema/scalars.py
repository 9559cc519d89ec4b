"""The scalars of the contract.

`Decimal` (money; a string on the wire, never a float), `DateTime` (ISO 8601)
and `UUID` are Strawberry's built-ins for `decimal.Decimal`,
`datetime.datetime` and `uuid.UUID`; annotate fields with those Python types.
`JSON` is for free-form payloads such as tool-call arguments.

`UUID_SCALAR` and `DATETIME` replace Strawberry's own as well, only for what a
bad input is told: "must be a UUID", never Python's exception text.

`DECIMAL` replaces Strawberry's own `Decimal` (through `SCALAR_MAP`, given to
the schema's config) so that every Decimal input, whatever field it is for,
is read by the order vocabulary's one bounded parser: `"1E-150000000"` or
`"NaN"` is BAD_USER_INPUT before a resolver runs, and is never expanded.
Signs are the fields' business (a loss limit may be negative); the order
fields check theirs in `validate_intent`.
"""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from api.trading.orders import parse_decimal


def _parse_decimal(value: object) -> Decimal:
    return parse_decimal(value, positive=False)


DECIMAL: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description="Decimal (fixed-point)",
    serialize=str,
    parse_value=_parse_decimal,
)


_NOT_A_UUID = "must be a UUID, such as 0f8fad5b-d9cb-469f-a165-70867728950e"
_NOT_A_DATETIME = "must be an ISO 8601 date and time, such as 2026-01-31T14:30:00Z"


# graphql-core reports a GraphQLError raised here with its message as it is (BAD_USER_INPUT)
def _parse_uuid(value: object) -> UUID:
    try:
        if isinstance(value, str):
            return UUID(value)
    except ValueError:
        pass
    raise GraphQLError(_NOT_A_UUID)


def _parse_datetime(value: object) -> datetime:
    try:
        if isinstance(value, str):
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise GraphQLError(_NOT_A_DATETIME)


UUID_SCALAR: ScalarDefinition = strawberry.scalar(
    name="UUID", serialize=str, parse_value=_parse_uuid
)
DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=datetime.isoformat,
    parse_value=_parse_datetime,
)
SCALAR_MAP: dict[object, ScalarDefinition] = {
    Decimal: DECIMAL,
    UUID: UUID_SCALAR,
    datetime: DATETIME,
}

__all__ = ["DATETIME", "DECIMAL", "JSON", "SCALAR_MAP", "UUID_SCALAR"]
