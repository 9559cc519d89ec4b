"""Push settings at start-up (PUSH-02): a usable VAPID subject and key, or a one-line refusal.

Apple's push service refuses `localhost` subjects, so one stops start-up instead
of silently losing every iPhone; the loopback flag is honoured only in tests; the
server's own key file is made once, readable by its owner only.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from api.config import VAPID_KEY_FILE_NAME, ConfigError, load_settings
from tests.fixtures.push import VAPID_TEST_KEY, b64url

SUBJECT = "mailto:ops@example.com"


def _settings(home: Path, **env: str) -> object:
    return load_settings({"ALPACA_CHAT_HOME": str(home), **env})


@pytest.mark.parametrize(
    "subject",
    [
        "mailto:ops@localhost",
        "https://localhost",
        "https://app.localhost/x",
        "mailto:ops@box",
        "ops@example.com",
        "http://example.com",
        "https://127.0.0.1",
    ],
)
def test_push02_a_local_or_malformed_subject_stops_start_up(tmp_path: Path, subject: str) -> None:
    with pytest.raises(ConfigError, match=r"^VAPID_SUBJECT must be") as refused:
        _settings(tmp_path, VAPID_SUBJECT=subject)
    assert "\n" not in str(refused.value)


def test_push02_without_a_subject_push_is_off_and_no_key_is_made(tmp_path: Path) -> None:
    settings = load_settings({"ALPACA_CHAT_HOME": str(tmp_path)})
    assert not settings.push_enabled
    assert not (tmp_path / VAPID_KEY_FILE_NAME).exists()


def test_push02_the_key_file_is_made_once_for_the_owner_only(tmp_path: Path) -> None:
    first = load_settings({"ALPACA_CHAT_HOME": str(tmp_path), "VAPID_SUBJECT": SUBJECT})
    again = load_settings({"ALPACA_CHAT_HOME": str(tmp_path), "VAPID_SUBJECT": SUBJECT})
    assert first.push_enabled and first.vapid_key_file_created
    assert not again.vapid_key_file_created
    assert first.vapid_private_key == again.vapid_private_key
    mode = stat.S_IMODE((tmp_path / VAPID_KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600
    assert "BEGIN" not in repr(first)


def test_push02_vapid_private_key_as_pem_or_base64url(tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(VAPID_TEST_KEY.encode(), password=None)
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))  # type: ignore[union-attr]
    for given in (VAPID_TEST_KEY, raw):
        settings = load_settings(
            {
                "ALPACA_CHAT_HOME": str(tmp_path),
                "VAPID_SUBJECT": SUBJECT,
                "VAPID_PRIVATE_KEY": given,
            }
        )
        assert settings.vapid_private_key == VAPID_TEST_KEY
    with pytest.raises(ConfigError, match=r"^VAPID_PRIVATE_KEY must be"):
        load_settings(
            {"ALPACA_CHAT_HOME": str(tmp_path), "VAPID_SUBJECT": SUBJECT, "VAPID_PRIVATE_KEY": "x"}
        )


def test_push02_the_loopback_flag_needs_the_test_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tests only"):
        _settings(tmp_path, PUSH_ALLOW_LOOPBACK="true")
    allowed = load_settings(
        {
            "ALPACA_CHAT_HOME": str(tmp_path),
            "PUSH_ALLOW_LOOPBACK": "true",
            "ALPACA_CHAT_TESTING": "true",
        }
    )
    assert allowed.push_allow_loopback
