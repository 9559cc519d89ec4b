"""``python -m api.sandbox``: run the sandbox broker in the foreground.

Prints the demo paper key pairs (sandbox-only, they trade nothing real) and then
``sandbox ready on http://HOST:PORT``, the line test fixtures wait for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from api.sandbox.app import DEFAULT_SEED
from api.sandbox.server import SandboxStarted, serve_sandbox


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m api.sandbox", description="Alpaca-compatible sandbox broker"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--demo-accounts", type=int, default=3, help="paper accounts to mint at start-up"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the simulated prices"
    )
    parser.add_argument(
        "--tick-seconds", type=float, default=1.0, help="price tick interval; 0 freezes prices"
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def announce(started: SandboxStarted) -> None:
    """The CLI's intended output: demo keys, one per line, then the ready line."""
    for account in started.demo_accounts:
        print(
            f"sandbox demo paper key (not a real Alpaca key): account={account['account_number']} "
            f"key_id={account['api_key_id']} secret={account['secret_key']}",
            flush=True,
        )
    print(f"sandbox ready on {started.base_url}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_sandbox(
                args.host,
                args.port,
                demo_accounts=args.demo_accounts,
                seed=args.seed,
                tick_seconds=args.tick_seconds,
                on_start=announce,
                log_level=args.log_level,
            )
        )


if __name__ == "__main__":
    main()
