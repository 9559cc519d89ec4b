"""The Table classes in api/db/tables.py are the database's columns, exactly (OPS-02).

The migrations create the tables; the Table classes declare them for
querysets. This test fails as soon as the two disagree on a table, a column,
its type or whether it may be null.
"""

from __future__ import annotations

import asyncpg

from api.db.tables import SCHEMA, TABLES

# Piccolo's column types as information_schema names them.
_TYPES = {
    "UUID": "uuid",
    "TEXT": "text",
    "TIMESTAMPTZ": "timestamp with time zone",
    "BYTEA": "bytea",
    "BOOLEAN": "boolean",
    "JSONB": "jsonb",
    "NUMERIC": "numeric",
    "INTEGER": "integer",
    "BIGINT": "bigint",
}


async def test_every_table_class_matches_the_live_columns(owner: asyncpg.Connection) -> None:
    rows = await owner.fetch(
        """select table_name, column_name, data_type, is_nullable = 'YES' as nullable
           from information_schema.columns where table_schema = $1""",
        SCHEMA,
    )
    live: dict[str, dict[str, tuple[str, bool]]] = {}
    for row in rows:
        live.setdefault(row["table_name"], {})[row["column_name"]] = (
            row["data_type"],
            row["nullable"],
        )
    declared = {
        table._meta.tablename: {
            column._meta.db_column_name: (_TYPES[column.column_type], column._meta.null)
            for column in table._meta.columns
        }
        for table in TABLES
    }
    assert {table._meta.schema for table in TABLES} == {SCHEMA}
    assert declared == live
