"""graphql-core's executor with a short path for plain data fields.

Most fields we send are plain data: `BrokerAccount.nickname`, `Order.qty` ...
Strawberry gives such a field (no resolver, no permission, no field
extension) a resolver that only reads the attribute and ignores `info` (it
marks it `_is_default`, as it also marks a resolver-less field that has
permission classes or extensions: those are told apart by the field's
Strawberry definition). graphql-core still builds a resolve-info tuple,
looks the field up, checks for arguments and walks `complete_value` twice
(non-null, then leaf) for each of them: about half of the execution time of a
list such as `accounts`.

For a plain data field (no arguments, permission classes, extensions or
directives) whose type is a scalar or enum (nullable or not), `execute_field`
below does the same steps directly: call that resolver, raise what it returns if it is an exception,
refuse null for a non-null type with graphql-core's own message, and coerce
the value with the type's own `coerce_output_value`; any error goes through
graphql-core's `handle_field_error` exactly as before (same location, path and
null propagation). An awaitable value is handed back to graphql-core's own
completion. Every other field takes graphql-core's path unchanged, as does
every field when resolver middleware is installed (we install none).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.realtime.execution import SharedEventExecutor


class _Leaf(NamedTuple):
    # the attribute Strawberry's default resolver reads, when that resolver is getattr
    attribute: str | None
    resolve: Callable[..., Any]
    leaf_type: GraphQLLeafType
    return_type: GraphQLOutputType
    non_null: bool

    def value(self, source: Any) -> Any:
        if self.attribute is not None:
            return getattr(source, self.attribute)
        return self.resolve(source, None)  # Strawberry's default resolver ignores info


# Values that are never awaitable, an exception or null: straight to coercion.
_INERT = frozenset({str, int, float, bool, Decimal, UUID, datetime, date, time})

# Per object type (schema objects live as long as their schema): field name ->
# its short path, or None for "graphql-core's path".
_LEAVES: dict[GraphQLObjectType, dict[str, _Leaf | None]] = {}


def _is_plain(field: GraphQLField) -> StrawberryField | None:
    """The field's Strawberry definition when the field is plain data, else None.

    Strawberry marks every resolver-less field `_is_default`, also one that has
    permission classes, field extensions or directives: those need `info` and
    their own steps, so only a definition that is a basic field with none of
    them is plain.
    """
    if not getattr(field.resolve, "_is_default", False) or field.args:
        return None
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        or not definition.is_basic_field
        or definition.permission_classes
        or definition.directives
    ):
        return None
    return definition


def _leaves_of(parent_type: GraphQLObjectType) -> dict[str, _Leaf | None]:
    leaves: dict[str, _Leaf | None] = {}
    for name, field in parent_type.fields.items():
        return_type = field.type
        non_null = isinstance(return_type, GraphQLNonNull)
        leaf_type = return_type.of_type if non_null else return_type
        definition = _is_plain(field)
        if definition is None or not isinstance(leaf_type, GraphQLLeafType):
            leaves[name] = None
            continue
        # Strawberry's basic resolver is `field.default_resolver(source, field.python_name)`
        attribute = definition.python_name if definition.default_resolver is getattr else None
        leaves[name] = _Leaf(attribute, field.resolve, leaf_type, return_type, non_null)
    _LEAVES[parent_type] = leaves
    return leaves


class AppExecutor(SharedEventExecutor):
    """The executor of our schema (see the module docstring)."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's loop, inlined for an object whose selected fields are all leaves."""
        leaves = _LEAVES.get(parent_type) or _leaves_of(parent_type)
        selected = [
            (response_name, details, leaves.get(details[0].node.name.value))
            for response_name, details in grouped_field_set.items()
        ]
        if self.middleware_manager or any(leaf is None for _, _, leaf in selected):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        complete_leaf_value = self.complete_leaf_value
        try:
            for response_name, details, leaf in selected:
                assert leaf is not None
                try:
                    result = (
                        getattr(source_value, leaf.attribute)
                        if leaf.attribute is not None
                        else leaf.resolve(source_value, None)
                    )
                    if result.__class__ in _INERT:  # the common case, inlined
                        results[response_name] = complete_leaf_value(leaf.leaf_type, result)
                        continue
                except Exception as raw_error:
                    self._leaf_error(raw_error, leaf, parent_type, details, path, response_name)
                    results[response_name] = None
                    continue
                results[response_name] = completed = self._complete_leaf_result(
                    leaf, result, parent_type, details, path, response_name, position_context
                )
                if self.is_awaitable(completed):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        field_name = field_details_list[0].node.name.value
        leaves = _LEAVES.get(parent_type) or _leaves_of(parent_type)
        leaf = leaves.get(field_name)
        if leaf is None or self.middleware_manager:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        return self._complete_leaf(
            leaf, parent_type, source, field_details_list, path.prev, path.key, position_context
        )

    def _complete_leaf(
        self,
        leaf: _Leaf,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str | int,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_field + complete_value for a plain leaf; the field's
        path is only made when needed (errors, awaitables)."""
        try:
            result = leaf.value(source)
        except Exception as raw_error:
            return self._leaf_error(
                raw_error, leaf, parent_type, field_details_list, parent_path, response_name
            )
        return self._complete_leaf_result(
            leaf,
            result,
            parent_type,
            field_details_list,
            parent_path,
            response_name,
            position_context,
        )

    def _complete_leaf_result(
        self,
        leaf: _Leaf,
        result: Any,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str | int,
        position_context: Any,
    ) -> Any:
        try:
            if self.is_awaitable(result):
                path = Path(parent_path, response_name, parent_type.name)
                field_name = field_details_list[0].node.name.value
                info = self.build_resolve_info(
                    self.schema.get_field(parent_type, field_name),  # type: ignore[arg-type]
                    [details.node for details in field_details_list],
                    parent_type,
                    path,
                )
                return self.complete_awaitable_value(
                    leaf.return_type, field_details_list, info, path, result, position_context
                )
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                if leaf.non_null:
                    field_name = field_details_list[0].node.name.value
                    msg = f"Cannot return null for non-nullable field {parent_type}.{field_name}."
                    raise TypeError(msg)
                return None
            return self.complete_leaf_value(leaf.leaf_type, result)
        except Exception as raw_error:
            return self._leaf_error(
                raw_error, leaf, parent_type, field_details_list, parent_path, response_name
            )

    def _leaf_error(
        self,
        raw_error: Exception,
        leaf: _Leaf,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        parent_path: Path | None,
        response_name: str | int,
    ) -> None:
        """graphql-core's handling: located at the field; raised on for a non-null type."""
        path = Path(parent_path, response_name, parent_type.name)
        self.handle_field_error(raw_error, leaf.return_type, field_details_list, path)


class QuietExecutor(AppExecutor):
    """AppExecutor whose errors never suggest names ("Did you mean ..."): for production,
    where a wrong enum value or input field must not list the right ones (schema/guards.py
    does the same for validation)."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        # graphql-core's execute and subscribe pass `hide_suggestions` by keyword
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)
