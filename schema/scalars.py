"""The scalars of the contract.

`Decimal` (money; a string on the wire, never a float), `DateTime` (ISO 8601)
and `UUID` are Strawberry's built-ins for `decimal.Decimal`,
`datetime.datetime` and `uuid.UUID`; annotate fields with those Python types.
`JSON` is for free-form payloads such as tool-call arguments.

`DECIMAL` replaces Strawberry's own `Decimal` (through `SCALAR_MAP`, given to
the schema's config) so that every Decimal input, whatever field it is for,
is read by the order vocabulary's one bounded parser: `"1E-150000000"` or
`"NaN"` is BAD_USER_INPUT before a resolver runs, and is never expanded.
Signs are the fields' business (a loss limit may be negative); the order
fields check theirs in `validate_intent`.
"""

from decimal import Decimal

import strawberry
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
SCALAR_MAP: dict[object, ScalarDefinition] = {Decimal: DECIMAL}

__all__ = ["DECIMAL", "JSON", "SCALAR_MAP"]
