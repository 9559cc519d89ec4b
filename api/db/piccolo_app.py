"""The `alpaca_chat` Piccolo app: our tables and the migrations that make them."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

import piccolo_migrations
from api.db.tables import TABLES

APP_NAME = "alpaca_chat"

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=Path(piccolo_migrations.__file__).parent,
    table_classes=list(TABLES),
)
