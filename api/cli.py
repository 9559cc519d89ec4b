"""`alpaca-chat serve | migrate | invite | rotate-key | sandbox | backup | restore`.

Configuration and start-up errors end the command with one line on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
import uvicorn
import uvloop

from api.app import create_app
from api.auth.invites import create_operator_invite
from api.config import ConfigError, Settings, load_settings, warn_about_dev_key
from api.db import Database, open_database, start_database
from api.db.backup import BackupError, backup, restore
from api.db.embedded import EmbeddedPostgres
from api.db.migrations import rollback
from api.db.rotation import RotationProgress, rotate_credentials
from api.logs import configure_logging
from api.metrics import serve_metrics
from api.sandbox import SandboxStarted, serve_sandbox
from api.sandbox.__main__ import announce
from api.services import Services
from api.vault import Vault

log = logging.getLogger("alpaca_chat")

# What a failed start-up may raise: each is reported as one line.
START_UP_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
YOUNG_COLLECTION_THRESHOLD = 10_000  # net new container objects; see _serve


class GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has stopped, which would kill
    the process before the embedded PostgreSQL is stopped; stop gracefully."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


class CommandError(Exception):
    """Ends the command with this one-line message."""


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncpg.PostgresError):
        return f"database error: {error.__class__.__name__}: {error}"
    if isinstance(error, OSError | TimeoutError):
        return f"cannot reach the database: {error.strerror or error}"
    return str(error)


async def _open(
    settings: Settings, *, serve: bool = False
) -> tuple[Database, EmbeddedPostgres | None]:
    """The migrated database; `serve` also connects the runtime pool requests use."""
    try:
        async with asyncio.timeout(30):
            database, server = await open_database(settings)
            if serve:
                await database.connect()
            return database, server
    except ConfigError as error:
        raise CommandError(str(error)) from None
    except START_UP_ERRORS as error:
        raise CommandError(_describe(error)) from None


async def _start_sandbox(settings: Settings, port: int) -> tuple[Settings, asyncio.Task[None]]:
    """OPS-03: an in-process sandbox broker, with every broker URL pointed at it."""
    started: list[SandboxStarted] = []
    ready = asyncio.Event()
    task = asyncio.create_task(
        serve_sandbox(
            port=port,
            demo_accounts=3,
            ready=ready,
            on_start=started.append,
            log_level=None,  # the logging configured for the server (redaction included)
            log_config=None,
        )
    )
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():
        waiter.cancel()
        await task  # raises the bind error
    sandbox = started[0]
    announce(sandbox)
    return (
        replace(
            settings,
            paper_url=sandbox.paper_url,
            live_url=sandbox.live_url,
            data_url=sandbox.data_url,
            paper_stream_url=sandbox.paper_stream_url,
            live_stream_url=sandbox.live_stream_url,
        ),
        task,
    )


async def _serve(settings: Settings, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    sandbox = None
    if args.sandbox:
        settings, sandbox = await _start_sandbox(settings, args.sandbox_port)
    database, server = await _open(settings, serve=True)
    metrics_port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    forwarded_allow_ips = args.forwarded_allow_ips or settings.forwarded_allow_ips
    stop_metrics = None
    # the embedded PostgreSQL is started again if it dies (api/db/embedded.py)
    supervisor = asyncio.create_task(server.supervise()) if server is not None else None
    try:
        if metrics_port is not None:
            try:
                stop_metrics = serve_metrics(args.metrics_host, metrics_port)
            except OSError as error:
                raise CommandError(f"cannot serve metrics: {error.strerror}") from None
        app = create_app(Services.build(settings, database))
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            # X-Forwarded-For/-Proto are believed only from the proxies named: anyone else
            # could pick their own address and escape the per-address limits (AUTH-02)
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips or "",
            server_header=False,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            ws="websockets-sansio",
            # Frames are small JSON and one event's frame is written to thousands of sockets
            # (schema/realtime/fanout.py): compressing it per socket would cost CPU per
            # subscriber and zlib state per socket, for a few bytes saved
            ws_per_message_deflate=False,
            lifespan="on",
        )
        web = GracefulServer(config)
        web_task = asyncio.create_task(web.serve())
        # uvicorn offers no start-up event; poll its flag to report readiness
        while not web.started and not web_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if web.started:
            # What exists now (modules, the schema, pools) lives as long as the process:
            # keep it out of the collector's full passes, which otherwise walk ~100k
            # objects each time (tens of ms on a small machine: p99 spikes for requests).
            gc.freeze()
            # A young collection after 10,000 net new container objects, not 700. Whatever
            # is alive at a young collection moves on to the old generation, and a full pass
            # runs once a quarter of the long-lived objects are such newcomers. With 10,000
            # subscribers an event's in-flight objects were moved on several times per
            # event, which made full passes over millions of objects (up to 2 s each) land
            # in the middle of fan-outs (bench/fanout.py). Cyclic garbage is still found by
            # the young passes, at most 10,000 objects at a time, and the old generation
            # keeps CPython's own rule.
            gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
            scheme = "https" if args.ssl_certfile else "http"
            log.info(
                "alpaca-chat ready on %s://%s:%d in %.2fs",
                scheme,
                args.host,
                args.port,
                time.perf_counter() - started,
            )
        await web_task
    finally:
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        if stop_metrics is not None:
            stop_metrics()
        await database.close()
        if server is not None:
            server.stop()
        if sandbox is not None:
            sandbox.cancel()
            await asyncio.gather(sandbox, return_exceptions=True)


async def _sandbox(args: argparse.Namespace) -> None:
    await serve_sandbox(args.host, args.port, demo_accounts=args.demo_accounts, on_start=announce)


async def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    database, server = await _open(settings)
    try:
        if args.rollback:
            await rollback(database.owner_dsn, args.rollback)
        else:
            log.info("database is migrated")
    finally:
        await database.close()
        if server is not None:
            server.stop()


async def _rotate_key(settings: Settings, args: argparse.Namespace) -> None:
    database, server = await _open(settings)

    def report(progress: RotationProgress) -> None:
        log.info(
            "rotation: %d of %d accounts checked, %d re-encrypted",
            progress.seen,
            progress.total,
            progress.rewritten,
        )

    try:
        progress = await rotate_credentials(
            database, Vault(settings.credentials_keys), batch_size=args.batch_size, on_batch=report
        )
        report(progress)
        log.info("every stored credential is encrypted under the newest key")
    finally:
        await database.close()
        if server is not None:
            server.stop()


async def _invite(settings: Settings, args: argparse.Namespace) -> None:
    """AUTH-01: an invite from whoever runs the server; the code goes to stdout alone,
    so scripts can capture it, and never to the log."""
    database, server = await _open(settings)
    try:
        invite = await create_operator_invite(database)
        sys.stdout.write(invite.code + "\n")
        sys.stdout.flush()
        log.info(
            "invite created, valid until %s; share it as <server>/?invite=<code>",
            invite.expires_at.isoformat(timespec="minutes"),
        )
    finally:
        await database.close()
        if server is not None:
            server.stop()


async def _start(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    try:
        async with asyncio.timeout(30):
            return await start_database(settings)
    except START_UP_ERRORS as error:
        raise CommandError(_describe(error)) from None


async def _backup(settings: Settings, args: argparse.Namespace) -> None:
    """ADM-03: a consistent dump while the server keeps running."""
    owner_dsn, server = await _start(settings)
    try:
        await backup(owner_dsn, Path(args.file), prefer_path_tools=not settings.embedded)
    except BackupError as error:
        raise CommandError(str(error)) from None
    except START_UP_ERRORS as error:
        raise CommandError(_describe(error)) from None
    finally:
        if server is not None:
            server.stop()


async def _restore(settings: Settings, args: argparse.Namespace) -> None:
    """ADM-03: a backup into an empty database (or replacing one, with --force)."""
    owner_dsn, server = await _start(settings)
    try:
        await restore(
            owner_dsn, Path(args.file), force=args.force, prefer_path_tools=not settings.embedded
        )
    except BackupError as error:
        raise CommandError(str(error)) from None
    except START_UP_ERRORS as error:
        raise CommandError(_describe(error)) from None
    finally:
        if server is not None:
            server.stop()


Command = Callable[[Settings, argparse.Namespace], Coroutine[None, None, None]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alpaca-chat", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (embedded PostgreSQL by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--ssl-certfile", default=None, help="serve https with this certificate")
    serve.add_argument("--ssl-keyfile", default=None)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies trusted for X-Forwarded-Proto/For (comma-separated addresses or "
        "networks, or *; default: FORWARDED_ALLOW_IPS; none when unset)",
    )
    serve.add_argument(
        "--sandbox", action="store_true", help="trade against a built-in sandbox broker"
    )
    serve.add_argument("--sandbox-port", type=int, default=8765)
    serve.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Prometheus metrics on this port (default: METRICS_PORT; off when unset)",
    )
    serve.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics port")
    serve.set_defaults(run=_serve)

    sandbox = commands.add_parser("sandbox", help="run the Alpaca-compatible sandbox broker")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    sandbox.add_argument("--demo-accounts", type=int, default=3)
    sandbox.set_defaults(run=None)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--rollback", type=int, default=0, metavar="N", help="undo N migrations")
    migrate.set_defaults(run=_migrate)

    invite = commands.add_parser("invite", help="print a one-time invite code (valid 7 days)")
    invite.set_defaults(run=_invite)

    rotate = commands.add_parser("rotate-key", help="re-encrypt credentials under the newest key")
    rotate.add_argument("--batch-size", type=int, default=100)
    rotate.set_defaults(run=_rotate_key)

    backup_command = commands.add_parser(
        "backup", help="write a consistent dump of the database (the server may keep running)"
    )
    backup_command.add_argument("file", help="where to write the dump (pg_dump custom format)")
    backup_command.set_defaults(run=_backup)

    restore_command = commands.add_parser("restore", help="restore a dump into an empty database")
    restore_command.add_argument("file", help="a dump written by `alpaca-chat backup`")
    restore_command.add_argument(
        "--force", action="store_true", help="replace the tables of a database that has them"
    )
    restore_command.set_defaults(run=_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":  # needs no settings, no database
        with contextlib.suppress(KeyboardInterrupt):
            uvloop.run(_sandbox(args))
        return 0
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"alpaca-chat: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    warn_about_dev_key(settings)
    run: Command = args.run
    try:
        uvloop.run(run(settings, args))
    except CommandError as error:
        print(f"alpaca-chat: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
