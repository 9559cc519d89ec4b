"""The `alpaca_chat` Piccolo app: our tables and the migrations that make them."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from piccolo.conf.apps import AppConfig

from api.db.tables import TABLES

APP_NAME = "alpaca_chat"


def _migrations_folder() -> Path:
    """Where `piccolo_migrations/` is installed, found without importing it: the
    migrations use this layer (`sql_script`), so importing them here would be a loop."""
    spec = find_spec("piccolo_migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the piccolo_migrations package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=_migrations_folder(),
    table_classes=list(TABLES),
)
