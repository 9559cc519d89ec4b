"""`alpaca-chat serve` under tracemalloc, for `bench/soak.py --trace`.

    python bench/traced_serve.py SNAPSHOT_DIR [serve options]

Runs the real `serve` command unchanged. The first SIGUSR1 starts tracing
allocations (a few frames deep), so start-up and warm-up, which live as long as
the process, are not traced and snapshots stay small and quick to take; each
later SIGUSR1 runs a full collection and writes SNAPSHOT_DIR/NNN.snapshot:
what was allocated since tracing began and is still reachable, which the soak
compares to tell what keeps growing. Tracing costs CPU and memory, so RSS
figures from a traced run are not the server's own: an untraced soak gives
those. Nothing in the product knows about this: it only wraps the command.
"""

from __future__ import annotations

import gc
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FRAMES = 8


def main() -> int:
    snapshots = Path(sys.argv[1])
    written = 0

    def on_signal(_signal: int, _frame: FrameType | None) -> None:
        nonlocal written
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
            return
        # a full collection first: a snapshot then holds only what is still reachable,
        # not cyclic garbage waiting for the collector's next full pass
        gc.collect()
        # written under another name first: the soak reads a snapshot as soon as it exists
        partial = snapshots / f"{written:03d}.partial"
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(snapshots / f"{written:03d}.snapshot")
        written += 1

    signal.signal(signal.SIGUSR1, on_signal)
    from api.cli import main as cli

    return cli(["serve", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
