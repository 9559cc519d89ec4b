"""Fixtures live in tests/fixtures/, one module per real part the tests start.

The suite starts about a hundred Python processes (servers, the CLI, the sandbox),
each importing the project's 200 modules. Where PYTHONDONTWRITEBYTECODE is set, every
one of them would compile those modules again (about 0.3 s of CPU each, and 4 s of each
worker's collection), so the tests cache bytecode as Python does by default, in the
`__pycache__` folders git ignores.
"""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

pytest_plugins = [
    "tests.fixtures.llm",
    "tests.fixtures.log_audit",
    "tests.fixtures.postgres",
    "tests.fixtures.sandbox",
    "tests.fixtures.server",
    "tests.fixtures.trading",
    # last: it imports the plugins above, which must be registered (rewritten) first
    "tests.fixtures.inprocess",
]
