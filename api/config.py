"""One Settings object, read from the environment once and passed down.

Start-up fails fast with a single line that says what to set: a trading server
that half-starts with a broken key is worse than one that refuses to start.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

log = logging.getLogger(__name__)

ALPACA_PAPER_URL = "https://paper-api.alpaca.markets"
ALPACA_LIVE_URL = "https://api.alpaca.markets"
ALPACA_DATA_URL = "https://data.alpaca.markets"
KEY_FILE_NAME = "credentials.key"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    home: Path
    credentials_keys: tuple[str, ...] = field(repr=False)
    paper_url: str = ALPACA_PAPER_URL
    live_url: str = ALPACA_LIVE_URL
    data_url: str = ALPACA_DATA_URL
    paper_stream_url: str | None = None
    live_stream_url: str | None = None
    llm_model: str | None = None
    llm_api_base: str | None = None
    allowed_origins: tuple[str, ...] = ()
    graphiql: bool = True
    snapshot_interval: float = 5.0
    metrics_port: int | None = None
    key_file_created: bool = False

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def stream_url(self, environment: str) -> str:
        """The trade-update WebSocket (alpaca-py's TradingStream url_override is the whole URL)."""
        if environment == "LIVE":
            return self.live_stream_url or _ws_url(self.live_url) + "/stream"
        return self.paper_stream_url or _ws_url(self.paper_url) + "/stream"


def _ws_url(rest_url: str) -> str:
    if rest_url.startswith("https://"):
        return "wss://" + rest_url.removeprefix("https://")
    return "ws://" + rest_url.removeprefix("http://")


def _parse_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        raise ConfigError("CREDENTIALS_KEY is empty: set it to one or more Fernet keys")
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                f"CREDENTIALS_KEY entry {index} is not a valid Fernet key: generate one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            ) from None
    return keys


def _dev_keys(home: Path) -> tuple[tuple[str, ...], bool]:
    """Keys for the embedded database: a 0600 key file in ALPACA_CHAT_HOME."""
    path = home / KEY_FILE_NAME
    if path.exists():
        return _parse_keys(path.read_text()), False
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    return _parse_keys(path.read_text()), True


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number (1-65535), not {raw!r}")
    return int(raw)


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name) or default
    if raw is None:
        return None
    if not raw.startswith(("http://", "https://", "ws://", "wss://")):
        raise ConfigError(f"{name} must be an http(s) or ws(s) URL, not {raw!r}")
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ConfigError with one line on failure."""
    env = os.environ if env is None else env
    database_url = env.get("DATABASE_URL") or None
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL")
    home = Path(env.get("ALPACA_CHAT_HOME") or "./.alpaca-chat").expanduser().resolve()

    raw_keys = env.get("CREDENTIALS_KEY", "")
    created = False
    if raw_keys.strip():
        keys = _parse_keys(raw_keys)
    elif database_url:
        raise ConfigError(
            "CREDENTIALS_KEY is required with DATABASE_URL: set it to a Fernet key "
            "(comma-separated list, newest first)"
        )
    else:
        keys, created = _dev_keys(home)

    raw_origins = env.get("ALLOWED_ORIGINS", "").split(",")
    origins = tuple(o.strip().rstrip("/") for o in raw_origins if o.strip())
    return Settings(
        database_url=database_url,
        home=home,
        credentials_keys=keys,
        paper_url=_url(env, "ALPACA_PAPER_URL", ALPACA_PAPER_URL),  # type: ignore[arg-type]
        live_url=_url(env, "ALPACA_LIVE_URL", ALPACA_LIVE_URL),  # type: ignore[arg-type]
        data_url=_url(env, "ALPACA_DATA_URL", ALPACA_DATA_URL),  # type: ignore[arg-type]
        paper_stream_url=_url(env, "ALPACA_PAPER_STREAM_URL", None),
        live_stream_url=_url(env, "ALPACA_LIVE_STREAM_URL", None),
        llm_model=env.get("LLM_MODEL") or None,
        llm_api_base=env.get("LLM_API_BASE") or None,
        allowed_origins=origins,
        graphiql=_flag(env, "GRAPHIQL", True),
        snapshot_interval=_positive_float(env, "SNAPSHOT_INTERVAL", 5.0),
        metrics_port=_port(env, "METRICS_PORT"),
        key_file_created=created,
    )


def warn_about_dev_key(settings: Settings) -> None:
    """Logged once at start-up, after logging is configured."""
    if settings.embedded and settings.key_file_created:
        log.warning(
            "created a development credentials key in %s (mode 0600); set CREDENTIALS_KEY "
            "to manage it yourself",
            settings.home / KEY_FILE_NAME,
        )
