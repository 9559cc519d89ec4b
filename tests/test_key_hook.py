"""The pre-commit hook that keeps Alpaca-shaped keys out of the tree (CRED-03)."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

from tools.no_alpaca_keys import main


def _key_id() -> str:
    return "PK" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(18))


def test_a_key_shaped_literal_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "config.py"
    source.write_text(f'KEY = "{_key_id()}"\n')
    assert main([str(source)]) == 1


def test_a_marked_fake_and_ordinary_code_pass(tmp_path: Path) -> None:
    source = tmp_path / "test_x.py"
    source.write_text(f'KEY = "{_key_id()}"  # pragma: allowlist secret\nvalue = 42\n')
    assert main([str(source)]) == 0
