"""Start-up imports nothing heavy it does not need yet (docs/architecture.md, the budget).

alpaca-py's models load pandas and numpy (about a second), and litellm is large too:
importing the app must load none of them; the broker and the chat import them on
first use. Checked in a fresh interpreter, since this test process has them loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "alpaca.trading", "alpaca.data", "litellm")


def test_importing_the_app_loads_neither_pandas_nor_alpaca_models_nor_litellm() -> None:
    probe = (
        "import json, sys; import api.app, api.cli; "
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
