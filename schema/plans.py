"""Queries run by a plan worked out once per document (docs/architecture.md#performance-budget).

For every field of every object of every request, graphql-core's executor works
out again what the document asks of it: the fields collected for the object's
type, the field's definition and resolver, the kind of its return type. For a
query all of that depends on the document alone, so `plan_of` works it out once
per operation (the plan lives as long as the parsed document, which
schema/trusted.py keeps: for good for the PWA's documents, while recent for
others), and `run_plan` then only walks the values.

What a plan does exactly as graphql-core's executor does (tests/schema/test_plans.py
runs the PWA's queries and every field shape through both and compares):
- every field is resolved by its own resolver, the one Strawberry built (permissions,
  field extensions, argument conversion), with the resolve info Strawberry builds
  (`build_resolve_info`, pinned by tests/test_internals.py), arguments coerced by
  graphql-core's `get_argument_values`;
- sibling fields and list items that wait are awaited together, so DataLoaders batch;
- a resolver's error becomes a located error at its path and its field null; a
  non-null field's null goes up to the nearest nullable field (or the whole data),
  and errors below a position already nulled are dropped;
- leaves are coerced by their type, `is_type_of` is checked, abstract types resolve
  their runtime type, with graphql-core's messages.
What has no plan, and runs on graphql-core's executor as before: mutations and
subscriptions, selections with directives (@skip, @include, @defer), fragment
arguments, introspection (`__schema`, `__type`), and executions with field
middleware, hooks or an abort signal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from functools import cache
from typing import Any, TypeGuard
from weakref import finalize

import strawberry
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_argument_values,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.pyutils import Path, inspect, is_iterable

Resolver = Callable[..., Any]
InfoBuilder = Callable[[GraphQLField, list[FieldNode], GraphQLObjectType, Path], GraphQLResolveInfo]
TYPENAME = "__typename"
_UNPLANNED = frozenset({"__schema", "__type"})


class _NoPlan(Exception):
    """The document asks for something plans leave to graphql-core (module docstring)."""


# --- the plan ----------------------------------------------------------------------------


def _absent(result: Any) -> bool:
    """Whether a resolved value is null; a value that is an exception is raised, as
    graphql-core raises it."""
    if isinstance(result, Exception):
        raise result
    return result is None or result is Undefined


class Completion:
    """How a field's value of one output type is completed."""

    non_null = False

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        raise NotImplementedError


class NonNull(Completion):
    non_null = True

    def __init__(self, inner: Completion) -> None:
        self.inner = inner

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        if isinstance(result, Exception):
            raise result
        completed = self.inner.complete(run, result, info, path)
        if completed is None:
            msg = f"Cannot return null for non-nullable field {info.parent_type}.{info.field_name}."
            raise TypeError(msg)
        return completed


class Leaf(Completion):
    def __init__(self, type_: GraphQLLeafType) -> None:
        self.coerce = type_.coerce_output_value
        self.type = type_

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        return self.coerced(result)

    def coerced(self, result: Any) -> Any:
        """The value as its type answers it; None for None."""
        if _absent(result):
            return None
        coerced = self.coerce(result)
        if coerced is Undefined or coerced is None:
            msg = (
                f"Expected `{inspect(self.type)}.coerce_output_value({inspect(result)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
            raise TypeError(msg)
        return coerced


class ListOf(Completion):
    def __init__(self, item: Completion) -> None:
        self.item = item

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        if _absent(result):
            return None
        if run.is_async_iterable(result):
            return self._complete_async(run, result, info, path)
        if not is_iterable(result):
            msg = (
                "Expected Iterable, but did not find one for field"
                f" '{info.parent_type}.{info.field_name}'."
            )
            raise GraphQLError(msg)
        return self._complete_items(run, result, info, path)

    def _complete_items(
        self, run: Run, items: Iterable[Any], info: GraphQLResolveInfo, path: Path
    ) -> Any:
        item, is_awaitable, nodes = self.item, run.is_awaitable, info.field_nodes
        completed: list[Any] = []
        waiting: list[int] = []
        try:
            for index, value in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    done = (
                        run.settle(item, value, info, item_path)
                        if is_awaitable(value)
                        else item.complete(run, value, info, item_path)
                    )
                    if is_awaitable(done):
                        done = run.guard(item, done, nodes, item_path)
                        waiting.append(index)
                except Exception as error:
                    done = run.fail(error, item.non_null, nodes, item_path)
                completed.append(done)
        except GraphQLError:  # a non-null item's null: the list is null too
            settle_in_background(completed[index] for index in waiting)
            raise
        return run.fill(completed, waiting) if waiting else completed

    async def _complete_async(
        self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path
    ) -> Any:
        items = [value async for value in result]
        completed = self._complete_items(run, items, info, path)
        return await completed if run.is_awaitable(completed) else completed


class ObjectPlan(Completion):
    """The fields asked of one object type, in response order."""

    def __init__(self, type_: GraphQLObjectType) -> None:
        self.type = type_
        self.fields: list[FieldPlan] = []

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        if _absent(result):
            return None
        return self.complete_object(run, result, info, path)

    def complete_object(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        is_type_of = self.type.is_type_of
        if is_type_of is None:
            return run.execute(self, result, path)
        matches = is_type_of(result, info)
        if run.is_awaitable(matches):
            return self._checked_async(run, matches, result, info, path)
        if not matches:
            raise self._wrong_type(result, info)
        return run.execute(self, result, path)

    async def _checked_async(
        self, run: Run, matches: Awaitable[bool], result: Any, info: GraphQLResolveInfo, path: Path
    ) -> Any:
        if not await matches:
            raise self._wrong_type(result, info)
        fields = run.execute(self, result, path)
        return await fields if run.is_awaitable(fields) else fields

    def _wrong_type(self, result: Any, info: GraphQLResolveInfo) -> GraphQLError:
        return GraphQLError(
            f"Expected value of type '{self.type}' but got: {inspect(result)}.", info.field_nodes
        )


class Abstract(Completion):
    """A union or interface: the object plan of each of its possible types."""

    def __init__(
        self, type_: GraphQLAbstractType, objects: dict[str, ObjectPlan], schema: GraphQLSchema
    ) -> None:
        self.type = type_
        self.objects = objects
        self.schema = schema

    def complete(self, run: Run, result: Any, info: GraphQLResolveInfo, path: Path) -> Any:
        if _absent(result):
            return None
        resolve_type = self.type.resolve_type or run.type_resolver
        runtime = resolve_type(result, info, self.type)
        if run.is_awaitable(runtime):
            return self._complete_async(run, runtime, result, info, path)
        return self._object(runtime, result, info).complete_object(run, result, info, path)

    async def _complete_async(
        self, run: Run, runtime: Awaitable[Any], result: Any, info: GraphQLResolveInfo, path: Path
    ) -> Any:
        plan = self._object(await runtime, result, info)
        completed = plan.complete_object(run, result, info, path)
        return await completed if run.is_awaitable(completed) else completed

    def _object(self, name: Any, result: Any, info: GraphQLResolveInfo) -> ObjectPlan:
        """The plan of the runtime type `name`, checked as graphql-core checks it."""
        abstract, nodes = self.type, info.field_nodes
        plan = self.objects.get(name) if isinstance(name, str) else None
        if plan is not None:
            return plan
        where = f"for field '{info.parent_type}.{info.field_name}'"
        if name is None:
            msg = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime {where}."
                f" Either the '{abstract}' type should provide a 'resolve_type' function"
                " or each possible type should provide an 'is_type_of' function."
            )
        elif not isinstance(name, str):
            msg = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime {where}"
                f" with value {inspect(result)}, received '{inspect(name)}',"
                " which is not a valid Object type name."
            )
        elif (runtime := self.schema.get_type(name)) is None:
            msg = (
                f"Abstract type '{abstract}' was resolved to a type '{name}'"
                " that does not exist inside the schema."
            )
        elif not is_object_type(runtime):
            msg = f"Abstract type '{abstract}' was resolved to a non-object type '{name}'."
        else:
            msg = f"Runtime Object type '{runtime}' is not a possible type for '{abstract}'."
        raise GraphQLError(msg, nodes)


class FieldPlan:
    """One response key of an object plan."""

    __slots__ = (
        "definition",
        "key",
        "nodes",
        "plain",
        "resolve",
        "returns",
        "takes_arguments",
        "typename",
    )

    def __init__(
        self, key: str, nodes: list[FieldNode], definition: GraphQLField, returns: Completion
    ) -> None:
        self.key = key
        self.nodes = nodes
        self.definition = definition
        self.resolve: Resolver | None = definition.resolve
        self.returns = returns
        self.takes_arguments = bool(definition.args or nodes[0].arguments)
        # __typename is the parent's name: what its meta-field's resolver would answer
        self.typename = nodes[0].name.value == TYPENAME
        # a plain field of a leaf type: no info is built for it (see `_reads_attribute`)
        leaf = returns.inner if isinstance(returns, NonNull) else returns
        self.plain: tuple[Resolver, Leaf] | None = None
        if isinstance(leaf, Leaf) and self.resolve is not None and _reads_attribute(self.resolve):
            self.plain = (self.resolve, leaf)


@cache
def _attribute_reader() -> Any:
    """The code of the resolver Strawberry makes for a field with no resolver, permission,
    extension or exception handler: it reads the attribute and never looks at its info."""

    @strawberry.type
    class Plain:
        value: str

    plain = strawberry.Schema(query=Plain)._schema.query_type
    assert plain is not None and plain.fields["value"].resolve is not None
    return plain.fields["value"].resolve.__code__


def _reads_attribute(resolve: Resolver) -> bool:
    """Whether `resolve` is such a resolver (the same code; pinned by tests/test_internals.py)."""
    return getattr(resolve, "__code__", None) is _attribute_reader()


class Plan:
    """An operation's plan: its root object plan, for the schema it was made for."""

    def __init__(self, schema: GraphQLSchema, root: ObjectPlan) -> None:
        self.schema = schema
        self.root = root


# --- making a plan -----------------------------------------------------------------------


class _Planner:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments

    def object_plan(
        self, type_: GraphQLObjectType, selections: list[SelectionSetNode]
    ) -> ObjectPlan:
        plan = ObjectPlan(type_)
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(type_, selection_set, grouped, set())
        for key, field_nodes in grouped.items():
            name = field_nodes[0].name.value
            if name in _UNPLANNED:
                raise _NoPlan(name)
            definition = self.schema.get_field(type_, name)
            if definition is None:  # not in a validated document
                raise _NoPlan(name)
            inner = [node.selection_set for node in field_nodes if node.selection_set]
            returns = self.completion(definition.type, inner)
            plan.fields.append(FieldPlan(key, field_nodes, definition, returns))
        return plan

    def completion(
        self, type_: GraphQLOutputType, selections: list[SelectionSetNode]
    ) -> Completion:
        if is_non_null_type(type_):
            assert isinstance(type_, GraphQLNonNull)
            return NonNull(self.completion(type_.of_type, selections))
        if is_list_type(type_):
            assert isinstance(type_, GraphQLList)
            return ListOf(self.completion(type_.of_type, selections))
        if is_leaf_type(type_):
            return Leaf(type_)
        if is_abstract_type(type_):
            abstract: GraphQLAbstractType = type_
            objects = {
                possible.name: self.object_plan(possible, selections)
                for possible in self.schema.get_possible_types(abstract)
            }
            return Abstract(abstract, objects, self.schema)
        assert isinstance(type_, GraphQLObjectType)
        return self.object_plan(type_, selections)

    def _collect(
        self,
        type_: GraphQLObjectType,
        selections: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selections.selections:
            if selection.directives:
                raise _NoPlan("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, type_):
                    self._collect(type_, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if getattr(selection, "arguments", None):
                    raise _NoPlan("fragment arguments")
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments[name]
                if fragment.directives:
                    raise _NoPlan("directives")
                if self._applies(fragment.type_condition.name.value, type_):
                    self._collect(type_, fragment.selection_set, grouped, visited)

    def _applies(self, condition_name: str, type_: GraphQLObjectType) -> bool:
        condition = self.schema.get_type(condition_name)
        if condition is type_:
            return True
        return is_abstract_type(condition) and self.schema.is_sub_type(condition, type_)


# by the operation's identity: nodes are dataclasses, hashed (deeply) and compared by value
_plans: dict[int, Plan | None] = {}


def plan_of(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan | None:
    """The plan of a query operation of a validated document; None when it has none."""
    if operation.operation is not OperationType.QUERY:
        return None
    key = id(operation)
    try:
        plan = _plans[key]
    except KeyError:
        plan = _plans[key] = _make_plan(schema, operation, fragments)
        # the plan goes with its document, before its id can be another's
        finalize(operation, _plans.pop, key, None)
    return plan if plan is not None and plan.schema is schema else None


def _make_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan | None:
    root = schema.query_type
    if root is None or operation.directives:
        return None
    planner = _Planner(schema, fragments)
    try:
        return Plan(schema, planner.object_plan(root, [operation.selection_set]))
    except _NoPlan:
        return None


# --- running a plan ----------------------------------------------------------------------


class Run:
    """One execution of a plan: its executor's context, and the errors collected."""

    def __init__(
        self,
        *,
        build_info: InfoBuilder,
        field_resolver: Resolver,
        type_resolver: Callable[..., Any],
        variable_values: Any,
        is_awaitable: Callable[[Any], TypeGuard[Awaitable[Any]]],
        is_async_iterable: Callable[[Any], bool],
        hide_suggestions: bool,
    ) -> None:
        self.build_info = build_info
        self.field_resolver = field_resolver
        self.type_resolver = type_resolver
        self.variable_values = variable_values
        self.is_awaitable = is_awaitable
        self.is_async_iterable = is_async_iterable
        self.hide_suggestions = hide_suggestions
        self.errors: list[GraphQLError] = []
        self._nulled: set[Path | None] = set()

    def result(self, plan: Plan, root_value: Any) -> ExecutionResult | Awaitable[ExecutionResult]:
        """The operation's result, as graphql-core's `execute_operation` would give it."""
        try:
            data = self.execute(plan.root, root_value, None)
        except GraphQLError as error:
            return self._response(None, error)
        if self.is_awaitable(data):
            return self._result_async(data)
        return self._response(data)

    async def _result_async(self, data: Awaitable[dict[str, Any]]) -> ExecutionResult:
        try:
            return self._response(await data)
        except GraphQLError as error:
            return self._response(None, error)

    def _response(self, data: Any, error: GraphQLError | None = None) -> ExecutionResult:
        if error is not None:
            self.add(error, None)
        return ExecutionResult(data, self.errors or None)

    def add(self, error: GraphQLError, path: Path | None) -> None:
        """Collect an error at `path` nulled, unless a position above it is already null."""
        nulled = self._nulled
        if None in nulled:
            return
        position = path
        while position is not None:
            if position in nulled:
                return
            position = position.prev
        nulled.add(path)
        self.errors.append(error)

    def fail(self, error: Exception, non_null: bool, nodes: list[FieldNode], path: Path) -> Any:
        """A field's (or list item's) error: up to the parent when non-null, else null."""
        located = located_error(error, nodes, path.as_list())
        if non_null:
            raise located
        self.add(located, path)
        return None

    def execute(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        """The fields of one object: a dict, or an awaitable of it when a field waits."""
        results: dict[str, Any] = {}
        waiting: list[str] = []
        type_ = plan.type
        try:
            for field in plan.fields:
                key = field.key
                value = self._field(field, type_, source, Path(path, key, type_.name))
                if self.is_awaitable(value):
                    waiting.append(key)
                results[key] = value
        except GraphQLError:  # a non-null field's null: this object is null too
            settle_in_background(results[key] for key in waiting)
            raise
        return self.fill(results, waiting) if waiting else results

    def _field(self, field: FieldPlan, parent: GraphQLObjectType, source: Any, path: Path) -> Any:
        if field.typename:
            return parent.name
        returns = field.returns
        if (plain := field.plain) is not None:
            resolve, leaf = plain
            try:
                result = resolve(source, None)
                if not self.is_awaitable(result):
                    completed = leaf.coerced(result)
                    if completed is None and returns.non_null:
                        name = f"{parent}.{field.nodes[0].name.value}"
                        raise TypeError(f"Cannot return null for non-nullable field {name}.")
                    return completed
            except Exception as error:
                return self.fail(error, returns.non_null, field.nodes, path)
            info = self.build_info(field.definition, field.nodes, parent, path)
            settled = self.settle(returns, result, info, path)
            return self.guard(returns, settled, field.nodes, path)
        definition = field.definition
        info = self.build_info(definition, field.nodes, parent, path)
        try:
            arguments = (
                get_argument_values(
                    definition, field.nodes[0], self.variable_values, None, self.hide_suggestions
                )
                if field.takes_arguments
                else {}
            )
            result = (field.resolve or self.field_resolver)(source, info, **arguments)
            if self.is_awaitable(result):
                settled = self.settle(returns, result, info, path)
                return self.guard(returns, settled, field.nodes, path)
            completed = returns.complete(self, result, info, path)
            if self.is_awaitable(completed):
                return self.guard(returns, completed, field.nodes, path)
            return completed
        except Exception as error:
            return self.fail(error, returns.non_null, field.nodes, path)

    async def settle(
        self, returns: Completion, result: Awaitable[Any], info: GraphQLResolveInfo, path: Path
    ) -> Any:
        """Await a resolver's (or list item's) value, then complete it."""
        completed = returns.complete(self, await result, info, path)
        return await completed if self.is_awaitable(completed) else completed

    async def guard(
        self, returns: Completion, completed: Awaitable[Any], nodes: list[FieldNode], path: Path
    ) -> Any:
        """A completion that waits, its error handled as `fail` handles it."""
        try:
            return await completed
        except Exception as error:
            return self.fail(error, returns.non_null, nodes, path)

    async def fill(self, results: Any, waiting: list[Any]) -> Any:
        """`results` (a dict or list) with the awaitables at `waiting` replaced by their
        values, all awaited together; the first error going up is raised after all end."""
        if len(waiting) == 1:
            key = waiting[0]
            results[key] = await results[key]
            return results
        values = await asyncio.gather(*(results[key] for key in waiting), return_exceptions=True)
        raised: BaseException | None = None
        for key, value in zip(waiting, values, strict=True):
            if isinstance(value, BaseException):
                raised = raised or value
            else:
                results[key] = value
        if raised is not None:
            raise raised
        return results


_settling: set[asyncio.Future[Any]] = set()


def settle_in_background(awaitables: Iterable[Awaitable[Any]]) -> None:
    """Let work already started for a position now null finish, its errors seen (they
    fall below the nulled position, so `Run.add` drops them), instead of abandoning it."""
    pending = list(awaitables)
    if pending:
        settling = asyncio.ensure_future(asyncio.gather(*pending, return_exceptions=True))
        _settling.add(settling)
        settling.add_done_callback(_settling.discard)
