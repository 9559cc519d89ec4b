"""Piccolo's configuration: the owner's engine (migrations run as the owner) and our app.

Piccolo's commands find it through PICCOLO_CONF (`api.db.migrations` points
it here unless it is set); `piccolo_conf.py` at the repository root re-exports
it for Piccolo's command line run from there. The server never runs a query
through `DB`: its tables run on api/db/engine.py's TABLE_ENGINE.
"""

import os

from piccolo.conf.apps import AppRegistry

from api.db.engine import owner_engine

DB = owner_engine(os.environ)

APP_REGISTRY = AppRegistry(apps=["api.db.piccolo_app"])
