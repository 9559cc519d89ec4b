"""OPS-01: a full disk shows before it stops the server, and a write it refuses is coded.

`/readyz` names "disk" while the embedded database's data folder has less
free space than DISK_FREE_MIN_MB (here set above what the disk has); a write
PostgreSQL refuses with disk_full (SQLSTATE 53100, made here by a trigger the
database owner adds, as a full disk would refuse it) answers
SERVICE_UNAVAILABLE, never "Internal error".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import httpx

from tests.fixtures.inprocess import InProcessApp, codes
from tests.fixtures.server import TLS, launch_server

CREATE_INVITE = "mutation { createInvite { code } }"


def test_ops01_readyz_names_the_disk_when_the_data_folder_is_nearly_full(
    embedded_home: Path,
) -> None:
    """OPS-01: before, /readyz said ready on a disk with less room than the threshold."""
    embedded_home.mkdir(parents=True)
    free_mb = shutil.disk_usage(embedded_home).free // (1024 * 1024)
    low = launch_server("", embedded_home, {"DISK_FREE_MIN_MB": str(free_mb + 1024)})
    try:
        answer = httpx.get(low.url + "/readyz", timeout=5, verify=TLS)
        assert (answer.status_code, answer.json()) == (
            503,
            {"status": "unavailable", "notReady": ["disk"]},
        )
        # alive all the same: reads still work
        assert httpx.get(low.url + "/healthz", timeout=5, verify=TLS).status_code == 200
    finally:
        low.stop()
    roomy = launch_server("", embedded_home, {"DISK_FREE_MIN_MB": "1"})
    try:
        answer = httpx.get(roomy.url + "/readyz", timeout=5, verify=TLS)
        assert (answer.status_code, answer.json()) == (200, {"status": "ready"})
    finally:
        roomy.stop()


async def test_ops01_a_write_refused_for_a_full_disk_is_service_unavailable(
    app: InProcessApp, owner: asyncpg.Connection
) -> None:
    """OPS-01: disk_full from PostgreSQL reaches the client as SERVICE_UNAVAILABLE."""
    user = await app.sign_up()
    await owner.execute(
        """create function app.test_disk_full() returns trigger language plpgsql as $$
           begin raise exception 'could not extend file' using errcode = '53100'; end $$;
           create trigger test_disk_full before insert on app.invites
             for each row execute function app.test_disk_full()"""
    )
    refused = await app.gql(CREATE_INVITE, token=user.token)
    assert codes(refused) == ["SERVICE_UNAVAILABLE"], refused
    assert "could not extend file" not in str(refused)
    await owner.execute("drop trigger test_disk_full on app.invites")
    assert codes(await app.gql(CREATE_INVITE, token=user.token)) == []
