"""Small process helpers the benchmark scripts share (not a test, not the product)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Return once something listens on `port`; fail if `process` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], seconds: float = 30, poll: float = 0.05
) -> None:
    """Return once `base`/healthz answers 200; fail if `process` exits first or time runs out
    (the process is then killed)."""
    import httpx

    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=1) as client:
        while True:
            try:
                if client.get(base + "/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{process.args!r} did not answer {base}/healthz")
            time.sleep(poll)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so a server stops its embedded PostgreSQL too; SIGKILL if that hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
