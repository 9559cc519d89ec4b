"""Fixtures live in tests/fixtures/, one module per real part the tests start."""

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
