"""The committed schema.graphql is the schema the code builds (review sees API changes)."""

from __future__ import annotations

from pathlib import Path

from schema import build_schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
REGENERATE = "python -m schema"


def test_schema_graphql_is_up_to_date() -> None:
    built = build_schema().as_str() + "\n"
    committed = SDL.read_text() if SDL.exists() else ""
    assert committed == built, f"schema.graphql is out of date; regenerate it with: {REGENERATE}"
