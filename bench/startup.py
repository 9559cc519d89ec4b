"""Start-up: `alpaca-chat serve` until /healthz answers 200, on a warm home, against a floor.

    python bench/startup.py [--runs 5]

The first start makes the home (the embedded PostgreSQL cluster, its migrations)
and is not counted; every later start reuses it, as a restart does. The floor,
in alternating turns: the same interpreter starting uvicorn (same event loop and
HTTP parser) with a bare Starlette app that answers /healthz, which is what any
server on this stack pays before its own work. Prints the min and median seconds
of each, and the ratio of their medians. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from processes import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]

FLOOR_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def healthz(request):
    return PlainTextResponse("ok")

app = Starlette(routes=[Route("/healthz", healthz)])
uvicorn.run(app, port=int(sys.argv[1]), log_level="warning", loop="uvloop", http="httptools")
"""


def healthy_after(command: list[str], port: int, env: dict[str, str]) -> float:
    """Seconds from starting `command` to /healthz answering 200; the process is stopped."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, seconds=60, poll=0.005)
        return time.monotonic() - started
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    own = ("DATABASE_URL", "RUNTIME_DATABASE_URL", "CREDENTIALS_KEY")
    with tempfile.TemporaryDirectory(prefix="acstartup-") as home:
        env = {k: v for k, v in os.environ.items() if k not in own}
        env["ALPACA_CHAT_HOME"] = home

        def product() -> float:
            port = free_port()
            return healthy_after(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], port, env
            )

        def floor() -> float:
            port = free_port()
            return healthy_after([sys.executable, "-c", FLOOR_APP, str(port)], port, env)

        first = product()  # makes the home: not counted
        figures: dict[str, list[float]] = {"product": [], "floor": []}
        for run in range(args.runs):
            turns = (("product", product), ("floor", floor))
            for name, start in turns if run % 2 == 0 else reversed(turns):
                figures[name].append(start())
    print(
        f"start-up to /healthz 200, {args.runs} runs each (first start, cold home: {first:.2f} s)"
    )
    for name, runs in figures.items():
        print(
            f"{name:8} min {min(runs):5.2f} s   median {statistics.median(runs):5.2f} s"
            f"   [{' '.join(f'{r:.2f}' for r in runs)}]"
        )
    product_s, floor_s = (statistics.median(figures[name]) for name in ("product", "floor"))
    print(
        f"product / floor: {product_s / floor_s:.2f} (medians, +{product_s - floor_s:.2f} s);"
        " target: the product under 2 s"
    )


if __name__ == "__main__":
    main()
