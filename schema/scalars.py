"""The scalars of the contract.

`Decimal` (money; a string on the wire, never a float), `DateTime` (ISO 8601)
and `UUID` are Strawberry's built-ins for `decimal.Decimal`,
`datetime.datetime` and `uuid.UUID`; annotate fields with those Python types.
`JSON` is for free-form payloads such as tool-call arguments.
"""

from strawberry.scalars import JSON

__all__ = ["JSON"]
