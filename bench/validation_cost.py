"""CPU spent refusing (or accepting) costly documents, before and after the selection limits.

    python bench/validation_cost.py [--rounds 5]

Each shape is a document under the 2000-token limit that an unauthenticated
client may send. "validate" is what graphql-core's validation alone costs for it
(what every such document used to cost before being answered); "served" is what
the schema, run in-process as /graphql runs it (parse, the limits of
schema/guards.py, validation, execution), costs now. Every round changes a
comment, so no parser or validation cache helps. Figures are milliseconds of
CPU per document: the median of the rounds (after one warm-up round), and the
worst round in brackets (a garbage collection pass may land in one). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from functools import partial
from types import SimpleNamespace

from graphql import parse, specified_rules

from schema import build_schema, cost_rules, limits
from schema.guards import validate_document

TOKENS = limits.MAX_TOKENS - 10
# what resolvers read of an unauthenticated request's context (`me` answers null)
ANONYMOUS = SimpleNamespace(principal=None, request_id="bench")


def _repeat(unit: str, unit_tokens: int, fixed_tokens: int = 2) -> str:
    return " ".join([unit] * ((TOKENS - fixed_tokens) // unit_tokens))


def repeated_field() -> str:
    return "{ " + _repeat("me{id}", 4) + " }"


def repeated_with_aliases() -> str:
    aliases = " ".join(f"a{n}: me{{id}}" for n in range(limits.MAX_ALIASES))
    return "{ " + aliases + " " + _repeat("me{id}", 4, 2 + 6 * limits.MAX_ALIASES) + " }"


def valid_mixed() -> str:
    half = _repeat("me{id}", 8) + " "
    return "{ " + half + half.replace("{id}", "{email}") + " }"


def nested_repetition() -> str:
    inner = " ".join(["id"] * 40)
    return "{ " + _repeat(f"me{{{inner}}}", 43) + " }"


def many_fragments() -> str:
    fragments = " ".join(f"fragment F{n} on Query {{ me {{ id }} }}" for n in range(150))
    spreads = " ".join(f"...F{n}" for n in range(150))
    return "{ " + spreads + " } " + fragments


def exponential_fragments() -> str:
    # validation's cost doubles with each level (and so would execution's); 18 keeps
    # the "before" figure under a second, 30 levels (300 tokens) would take hours
    depth = 18
    fragments = ["fragment F0 on User { id email }"]
    fragments += [f"fragment F{n} on User {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, depth)]
    return f"{{ me {{ ...F{depth - 1} }} }} " + " ".join(fragments)


def at_the_limits() -> str:
    """The costliest kind of document still accepted: one set as wide as allowed, of one
    field repeated, whose sub-selections fill the total."""
    width = limits.MAX_SELECTIONS_PER_SET
    inner = " ".join(["id"] * (limits.MAX_SELECTIONS // width - 1))
    return "{ " + " ".join([f"me{{{inner}}}"] * width) + " }"


SHAPES: dict[str, Callable[[], str]] = {
    "repeated field": repeated_field,
    "repeated field + aliases": repeated_with_aliases,
    "valid repeated (id, email)": valid_mixed,
    "nested repetition": nested_repetition,
    "many fragments": many_fragments,
    "exponential fragments": exponential_fragments,
    "accepted: at the limits": at_the_limits,
}


def _cpu_ms(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) * 1000


def _figures(ms: list[float]) -> str:
    return f"{statistics.median(ms):.1f} ({max(ms):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    schema = build_schema(production=True)
    rules = (*specified_rules, *cost_rules())
    loop = asyncio.new_event_loop()
    print(f"{'shape':30} {'tokens':>6} {'validate ms':>16} {'served ms':>14}  answer")
    for name, shape in SHAPES.items():
        body = shape()
        tokens = sum(1 for _ in body.replace("{", " { ").replace("}", " } ").split())
        validate_ms: list[float] = []
        served_ms: list[float] = []
        answer = ""
        for round_ in range(-1, args.rounds):
            document = f"# round {round_} {time.monotonic_ns()}\n{body}"
            parsed = parse(document, max_tokens=limits.MAX_TOKENS)
            validate_ms.append(
                _cpu_ms(partial(validate_document, schema._schema, parsed, rules, True))
            )
            served = schema.execute(document, context_value=ANONYMOUS)
            started = time.process_time()
            result = loop.run_until_complete(served)
            served_ms.append((time.process_time() - started) * 1000)
            if round_ < 0:  # the warm-up: first calls fill caches of their own
                validate_ms.clear()
                served_ms.clear()
            errors = result.errors
            answer = (errors[0].extensions or {}).get("code", "?") if errors else "executed"
        print(
            f"{name:30} {tokens:>6} {_figures(validate_ms):>16} {_figures(served_ms):>14}  {answer}"
        )


if __name__ == "__main__":
    main()
