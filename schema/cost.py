"""What a parsed document may ask of validation, checked before validation runs.

graphql-core's validation is not linear in the document: OverlappingFieldsCanBeMerged
compares the fields of a selection set pairwise (and their sub-selections in
turn), so a few kilobytes of `{ me { id } me { id } ... }` cost a second of CPU
before being refused. The token limit bounds the text, not this work. So the
parsed document is walked once, cheaply, and refused with
GRAPHQL_VALIDATION_FAILED when one selection set holds more than
`limits.MAX_SELECTIONS_PER_SET` fields, or all of them together more than
`limits.MAX_SELECTIONS` (docs/requirements.md, the limits on one request).

Fields are counted as validation sees them: a fragment spread counts as the
fields it expands to, wherever it is spread, and every fragment definition is
counted on its own as well (validation visits it too). Each fragment's count is
computed once and remembered, so fragments spread inside fragments (whose
expansion grows exponentially) cost one visit each; a fragment spread inside
itself counts as nothing here and is left to validation to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)

from api.errors import ErrorCode
from schema import limits


@dataclass(frozen=True, slots=True)
class _Count:
    flat: int  # fields in the selection set itself, fragments flattened into it
    total: int  # every field below, sub-selections and fragments included
    widest: int  # the largest `flat` of any selection set below


_NOTHING = _Count(0, 0, 0)


class _TooCostly(Exception):
    pass


class _Counter:
    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._counted: dict[str, _Count] = {}
        self._counting: set[str] = set()

    def selection_set(self, node: SelectionSetNode) -> _Count:
        flat = total = widest = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                flat += 1
                total += 1
                if selection.selection_set is not None:
                    below = self.selection_set(selection.selection_set)
                    total += below.total
                    widest = max(widest, below.widest)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = self.fragment(selection.name.value)
            flat += inner.flat
            total += inner.total
            widest = max(widest, inner.widest)
        count = _Count(flat, total, max(widest, flat))
        # stop as soon as the answer is known: expansion may grow exponentially
        if count.widest > limits.MAX_SELECTIONS_PER_SET or count.total > limits.MAX_SELECTIONS:
            raise _TooCostly
        return count

    def fragment(self, name: str) -> _Count:
        counted = self._counted.get(name)
        if counted is not None:
            return counted
        definition = self._fragments.get(name)
        if definition is None or name in self._counting:
            return _NOTHING  # unknown or cyclic: validation refuses it, cheaply
        self._counting.add(name)
        try:
            counted = self._counted[name] = self.selection_set(definition.selection_set)
        finally:
            self._counting.discard(name)
        return counted


def selection_cost_error(document: DocumentNode) -> GraphQLError | None:
    """The refusal for a document that selects too many fields, or None."""
    counter = _Counter(document)
    total = 0
    try:
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                total += counter.fragment(definition.name.value).total
            elif isinstance(definition, ExecutableDefinitionNode):
                total += counter.selection_set(definition.selection_set).total
            if total > limits.MAX_SELECTIONS:
                raise _TooCostly
    except _TooCostly:
        return GraphQLError(
            f"The document selects too many fields: at most {limits.MAX_SELECTIONS_PER_SET} "
            f"in one selection set and {limits.MAX_SELECTIONS} in all, counting each fragment "
            "where it is spread",
            extensions={"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value},
        )
    return None
