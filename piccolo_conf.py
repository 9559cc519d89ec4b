"""Piccolo's configuration for its own command line, run from the repository root:

    PICCOLO_CONF=piccolo_conf DATABASE_URL=postgresql://owner@host/db piccolo migrations check

`alpaca-chat migrate` runs the same migrations under an advisory lock.
"""

from api.db.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
