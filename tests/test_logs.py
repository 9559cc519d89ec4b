"""CRED-03: credentials never reach a log line, a traceback or an error message."""

from __future__ import annotations

import io
import logging
import logging.config
import subprocess
import sys

from cryptography.fernet import Fernet

from api.config import load_settings
from api.logs import logging_config
from api.vault import REDACTED
from tests.fixtures.ports import free_port
from tests.fixtures.server import serve_env
from tests.fixtures.tenants import fake_credentials


def test_every_level_and_traceback_is_redacted(tmp_path, known_secrets: set) -> None:
    key = Fernet.generate_key().decode()
    password = "fake-db-password-" + Fernet.generate_key().decode()[:12]
    settings = load_settings(
        {
            "DATABASE_URL": f"postgresql://owner:{password}@127.0.0.1:1/db",
            "CREDENTIALS_KEY": key,
            "ALPACA_CHAT_HOME": str(tmp_path),
        }
    )
    key_id, secret = fake_credentials()
    known_secrets.update({key, password, key_id, secret})

    stream = io.StringIO()
    config = logging_config(settings, level="DEBUG")
    config["handlers"]["stderr"]["stream"] = stream
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    logging.config.dictConfig(config)
    try:
        log = logging.getLogger("alpaca_chat.test")
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            log.log(level, "keys %s / %s, fernet %s, db %s", key_id, secret, key, password)
        log.info("Authorization: Bearer %s", "tok_" + secret)
        try:
            raise ValueError(f"broker said no to {key_id}:{secret}")
        except ValueError:
            log.exception("call failed")
        logging.getLogger("uvicorn.error").error("uvicorn saw %s", secret)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    output = stream.getvalue()
    assert output.count(REDACTED) >= 10
    for value in (key_id, secret, key, password):
        assert value not in output


def test_start_up_errors_do_not_print_credentials(known_secrets: set) -> None:
    """CRED-03: a failing start-up with a password in DATABASE_URL keeps it to itself."""
    key = Fernet.generate_key().decode()
    password = "fake-pw-" + Fernet.generate_key().decode()[:16]
    known_secrets.update({key, password})
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"],
        env=serve_env(
            DATABASE_URL=f"postgresql://owner:{password}@127.0.0.1:{free_port()}/x",
            CREDENTIALS_KEY=key,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    for value in (key, password):
        assert value not in result.stderr and value not in result.stdout
