"""One Settings object, read from the environment once and passed down.

Start-up fails fast with a single line that says what to set: a trading server
that half-starts with a broken key is worse than one that refuses to start.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

ALPACA_PAPER_URL = "https://paper-api.alpaca.markets"
ALPACA_LIVE_URL = "https://api.alpaca.markets"
ALPACA_DATA_URL = "https://data.alpaca.markets"
KEY_FILE_NAME = "credentials.key"
DEFAULT_WEBSOCKETS_PER_USER = 20
DEFAULT_WEBSOCKETS_PER_ADDRESS = 50
DEFAULT_WEBSOCKET_SIGN_IN_SECONDS = 30.0
VAPID_KEY_FILE_NAME = "vapid.pem"


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
    # Web Push (PUSH-01): off without a subject; the key is a PKCS#8 PEM.
    vapid_subject: str | None = None
    vapid_private_key: str | None = field(default=None, repr=False)
    vapid_key_file_created: bool = False
    # Test-only: a stand-in push service on 127.0.0.1 (needs ALPACA_CHAT_TESTING too).
    push_allow_loopback: bool = False
    # The origin links are built from (invite URLs); None: the address the server listens
    # on. Never the request's Host header, which any client may set.
    public_origin: str | None = None
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's list); None trusts none.
    forwarded_allow_ips: str | None = None
    # WebSocket caps (README, "Limits"): open sockets per user and per client address,
    # and how long a socket may stay open without a signed-in principal.
    websockets_per_user: int = DEFAULT_WEBSOCKETS_PER_USER
    websockets_per_address: int = DEFAULT_WEBSOCKETS_PER_ADDRESS
    websocket_sign_in_seconds: float = DEFAULT_WEBSOCKET_SIGN_IN_SECONDS
    # Order attempts left unsettled this long are settled from the broker's record, checked
    # as often (TRADE-05, api/trading/reconcile.py).
    order_reconcile_seconds: float = 60.0
    # How long to wait for each read of the broker's answer, a wait for the account's turn
    # included (api/broker/http.py, Timeouts).
    broker_timeout_seconds: float = 10.0
    # /readyz reports "disk" below this much free space for the embedded database's data.
    disk_free_min_mb: int = 200
    # How long each person's security log keeps an event (ADM-02, api/auth/security_log.py).
    security_log_days: int = 365
    # A limit price further than this percent from the market asks the person to confirm
    # the price, paper orders too (ORD-01, api/trading/validation.py).
    price_check_percent: float = 10.0
    # With DATABASE_URL (the owner: migrations, operator commands), the login of the runtime
    # role that serving requests uses (CRED-04); `serve` refuses to start without it.
    runtime_database_url: str | None = field(default=None, repr=False)

    @property
    def push_enabled(self) -> bool:
        return self.vapid_subject is not None and self.vapid_private_key is not None

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


def _vapid_subject(raw: str) -> str:
    """A `mailto:` address or an https URL that is not local: Apple's push service
    refuses `localhost` subjects, so such a subject would silently lose every iPhone."""
    if raw.startswith("mailto:"):
        _, _, host = raw.removeprefix("mailto:").rpartition("@")
    elif raw.startswith("https://"):
        host = raw.removeprefix("https://").split("/", 1)[0].rsplit(":", 1)[0]
    else:
        host = ""
    host = host.lower().strip("[]")
    local = host in {"", "localhost", "127.0.0.1", "::1"} or host.endswith((".localhost", ".local"))
    if local or "." not in host:
        raise ConfigError(
            "VAPID_SUBJECT must be a mailto: address or https URL of a real domain "
            f"(push services refuse {raw!r}), e.g. mailto:you@example.com"
        )
    return raw


def _vapid_key_pem(raw: str) -> str:
    """VAPID_PRIVATE_KEY as a PEM, from a PEM or a base64url P-256 private scalar."""
    try:
        if "-----BEGIN" in raw:
            key = serialization.load_pem_private_key(raw.encode(), password=None)
        else:
            scalar = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            if len(scalar) != 32:
                raise ValueError("not 32 bytes")
            key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(
            "VAPID_PRIVATE_KEY must be a P-256 private key (PEM, or base64url as "
            "`npx web-push generate-vapid-keys` prints it)"
        )
    return _pem(key)


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _vapid_key_file(home: Path) -> tuple[str, bool]:
    """The server's own VAPID key: a 0600 file in ALPACA_CHAT_HOME, made once."""
    path = home / VAPID_KEY_FILE_NAME
    if path.exists():
        return _vapid_key_pem(path.read_text()), False
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(_pem(ec.generate_private_key(ec.SECP256R1())))
    return _vapid_key_pem(path.read_text()), True


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


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _origin(env: Mapping[str, str], name: str) -> str | None:
    """`scheme://host[:port]`, nothing more (a path would end up inside every link)."""
    raw = (env.get(name) or "").strip().rstrip("/")
    if not raw:
        return None
    scheme, _, rest = raw.partition("://")
    if scheme not in ("http", "https") or not rest or any(c in rest for c in "/?#@ "):
        raise ConfigError(f"{name} must be an origin such as https://chat.example, not {raw!r}")
    return raw


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
    runtime_database_url = env.get("RUNTIME_DATABASE_URL") or None
    if runtime_database_url and not database_url:
        raise ConfigError(
            "RUNTIME_DATABASE_URL goes with DATABASE_URL: the embedded database needs neither"
        )
    if runtime_database_url and not runtime_database_url.startswith(
        ("postgres://", "postgresql://")
    ):
        raise ConfigError("RUNTIME_DATABASE_URL must be a postgresql:// URL")
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

    subject = (env.get("VAPID_SUBJECT") or "").strip() or None
    vapid_key, vapid_created = None, False
    if subject is not None:
        subject = _vapid_subject(subject)
        raw_vapid = (env.get("VAPID_PRIVATE_KEY") or "").strip()
        if raw_vapid:
            vapid_key = _vapid_key_pem(raw_vapid)
        else:
            vapid_key, vapid_created = _vapid_key_file(home)
    loopback = _flag(env, "PUSH_ALLOW_LOOPBACK", False)
    if loopback and not _flag(env, "ALPACA_CHAT_TESTING", False):
        raise ConfigError(
            "PUSH_ALLOW_LOOPBACK is for tests only: it needs ALPACA_CHAT_TESTING=true"
        )

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
        vapid_subject=subject,
        vapid_private_key=vapid_key,
        vapid_key_file_created=vapid_created,
        push_allow_loopback=loopback,
        public_origin=_origin(env, "PUBLIC_ORIGIN"),
        forwarded_allow_ips=(env.get("FORWARDED_ALLOW_IPS") or "").strip() or None,
        websockets_per_user=_positive_int(env, "WS_MAX_PER_USER", DEFAULT_WEBSOCKETS_PER_USER),
        websockets_per_address=_positive_int(
            env, "WS_MAX_PER_ADDRESS", DEFAULT_WEBSOCKETS_PER_ADDRESS
        ),
        websocket_sign_in_seconds=_positive_float(
            env, "WS_SIGN_IN_TIMEOUT", DEFAULT_WEBSOCKET_SIGN_IN_SECONDS
        ),
        order_reconcile_seconds=_positive_float(env, "ORDER_RECONCILE_SECONDS", 60.0),
        broker_timeout_seconds=_positive_float(env, "BROKER_TIMEOUT_SECONDS", 10.0),
        disk_free_min_mb=_positive_int(env, "DISK_FREE_MIN_MB", 200),
        security_log_days=_positive_int(env, "SECURITY_LOG_DAYS", 365),
        price_check_percent=_positive_float(env, "PRICE_CHECK_PERCENT", 10.0),
        runtime_database_url=runtime_database_url,
    )


def warn_about_dev_key(settings: Settings) -> None:
    """Logged once at start-up, after logging is configured."""
    if settings.embedded and settings.key_file_created:
        log.warning(
            "created a development credentials key in %s (mode 0600); set CREDENTIALS_KEY "
            "to manage it yourself",
            settings.home / KEY_FILE_NAME,
        )
    if settings.vapid_key_file_created:
        log.warning(
            "created a Web Push (VAPID) key in %s (mode 0600); back it up with the credentials "
            "key: a new one makes every device turn notifications on again",
            settings.home / VAPID_KEY_FILE_NAME,
        )
