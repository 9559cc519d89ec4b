"""AUTH-03: a process remembers a session for seconds, and forgets it the moment it ends.

The cache itself (api/auth/session_cache.py) with a clock of the test's own, then two
server processes on one database: a token used on both (so both remember it) is
refused by both within a second of its sign-out through one of them, and so is every
session of a user an admin disables.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from api.auth.session_cache import SessionCache
from api.auth.sessions import Principal
from tests.fixtures.server import TLS, RunningServer, StartServer, signed_up_user, unique_email

ME = "{ me { id } }"
LATER = datetime.now(UTC) + timedelta(days=1)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _principal() -> Principal:
    return Principal(uuid.uuid4(), uuid.uuid4(), uuid.uuid4().bytes * 2)


def test_an_entry_lives_for_the_ttl_and_never_past_the_sessions_expiry_AUTH_03() -> None:
    clock = _Clock()
    cache = SessionCache(lambda: True, ttl=5.0, clock=clock)
    lasting, expiring = _principal(), _principal()
    cache.remember(lasting, LATER, cache.revision)
    cache.remember(expiring, datetime.now(UTC) + timedelta(seconds=1), cache.revision)
    cache.remember(_principal(), datetime.now(UTC) - timedelta(seconds=1), cache.revision)
    assert len(cache) == 2
    assert cache.get(lasting.token_hash) == lasting
    clock.now += 1.5
    assert cache.get(expiring.token_hash) is None
    assert cache.get(lasting.token_hash) == lasting
    clock.now += 4.0
    assert cache.get(lasting.token_hash) is None
    assert len(cache) == 0


def test_revocation_reconnection_and_a_racing_lookup_leave_nothing_behind_AUTH_03() -> None:
    listening = True
    cache = SessionCache(lambda: listening)
    kept, revoked = _principal(), _principal()
    for principal in (kept, revoked):
        cache.remember(principal, LATER, cache.revision)
    cache.session_revoked(revoked.session_id)
    assert cache.get(revoked.token_hash) is None
    assert cache.get(kept.token_hash) == kept
    # a lookup begun before a revocation may have read the session before it ended
    since = cache.revision
    cache.session_revoked(uuid.uuid4())
    cache.remember(revoked, LATER, since)
    assert cache.get(revoked.token_hash) is None
    # while the bus does not listen, events may be missed: nothing is answered or kept
    listening = False
    assert cache.get(kept.token_hash) is None
    cache.remember(revoked, LATER, cache.revision)
    listening = True
    cache.bus_reconnected()
    assert len(cache) == 0


def test_the_oldest_entry_makes_room_AUTH_03() -> None:
    cache = SessionCache(lambda: True, max_entries=2)
    first, second, third = _principal(), _principal(), _principal()
    for principal in (first, second, third):
        cache.remember(principal, LATER, cache.revision)
    assert [cache.get(p.token_hash) for p in (first, second, third)] == [None, second, third]


def _refused_everywhere(servers: list[RunningServer], token: str) -> float:
    """Seconds until every server answers `me` with null for `token` (polled)."""
    started = time.monotonic()
    waiting = list(servers)
    with httpx.Client(timeout=5, verify=TLS) as client:
        while waiting and time.monotonic() - started < 5:
            waiting = [
                s
                for s in waiting
                if client.post(
                    s.graphql_url,
                    json={"query": ME},
                    headers={"authorization": f"Bearer {token}"},
                ).json()["data"]["me"]
                is not None
            ]
            if waiting:
                time.sleep(0.05)
    assert not waiting, "a process still accepts the token"
    return time.monotonic() - started


def test_a_signed_out_or_disabled_session_is_refused_by_every_process_within_a_second_AUTH_03(
    server: RunningServer, start_server: StartServer
) -> None:
    second = start_server(server.database_url)
    servers = [server, second]
    leaving = signed_up_user(server, unique_email("leaving"))
    member = signed_up_user(server, unique_email("member"))
    member_id = server.gql(ME, token=member)["data"]["me"]["id"]
    for token in (leaving, member):
        for running in servers * 2:  # asked twice: the second answer may come from the cache
            assert running.gql(ME, token=token)["data"]["me"] is not None

    assert server.gql("mutation { signOut }", token=leaving)["data"]["signOut"] is True
    assert server.gql(ME, token=leaving)["data"]["me"] is None  # the signing-out process: now
    assert _refused_everywhere(servers, leaving) < 1.0

    disable = "mutation($id: UUID!) { setUserDisabled(id: $id, disabled: true) }"
    disabled = second.gql(disable, {"id": member_id}, token=server.inviter_token)
    assert disabled == {"data": {"setUserDisabled": True}}
    assert _refused_everywhere(servers, member) < 1.0
