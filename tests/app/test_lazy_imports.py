"""Start-up imports nothing heavy it does not need yet (docs/architecture.md, the budget).

alpaca-py's models load pandas and numpy (about a second), litellm is large too, and
py_webauthn brings certificate parsing (about 0.1 s): importing the app must load none
of them; the broker, the chat and the first passkey ceremony import them on first use.
Checked in a fresh interpreter, since this test process has them loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "alpaca.trading", "alpaca.data", "litellm", "webauthn")


def test_importing_the_app_loads_none_of_the_heavy_libraries() -> None:
    probe = (
        "import json, sys; import api.app, api.cli; "
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
