"""`python -m schema`: write the SDL to schema.graphql, committed so reviews see API changes."""

from pathlib import Path

from schema import build_schema

Path("schema.graphql").write_text(build_schema().as_str() + "\n")
