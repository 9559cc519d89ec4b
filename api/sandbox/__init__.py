"""An Alpaca-compatible sandbox broker (OPS-03): REST, market data and the trade-update stream.

It lets the whole product run and be tested offline against the real alpaca-py.
Entry points: ``create_sandbox_app``, ``mint_demo_accounts``, ``serve_sandbox``.
"""

from api.sandbox.app import create_sandbox_app, mint_demo_accounts
from api.sandbox.server import SandboxStarted, serve_sandbox

__all__ = ["SandboxStarted", "create_sandbox_app", "mint_demo_accounts", "serve_sandbox"]
