"""CRED-02: after a gateway call returns, nothing the gateway keeps holds a plaintext key.

The search starts from everything that outlives a call: the gateway object
(its thread pool, connection pools and sessions), the module globals and class
attributes of api.broker, alpaca-py, requests, urllib3 and http.client, and
every live object whose class comes from those libraries (a stray
PreparedRequest, response, connection or alpaca-py client would be one). It
walks their references and fails on any string or bytes containing the secret.
The sandbox keeps its copy in another process; the test's own variables are
not roots.
"""

from __future__ import annotations

import gc
import sys
import types
from decimal import Decimal
from typing import Any

import pytest

from api.broker import AccountRef, BrokerError, BrokerGateway, OrderRequest
from api.trading.placement import Placement
from tests.broker.conftest import READ_TIMEOUT
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.verdicts import judged

Account = tuple[AccountRef, dict[str, Any]]
LIBRARIES = ("api.broker", "alpaca", "requests", "urllib3", "http.client")
_LIMIT = 3_000_000


def _in_libraries(module: object) -> bool:
    if not isinstance(module, str):
        return False
    return any(module == name or module.startswith(name + ".") for name in LIBRARIES)


def _referents(obj: Any) -> list[Any]:
    # Module and class objects are not followed (a function's globals would otherwise
    # lead to every module, the test's own included); their namespaces are roots instead.
    if isinstance(obj, types.FunctionType):
        return [obj.__closure__, obj.__defaults__, obj.__kwdefaults__]
    if isinstance(obj, types.FrameType):
        return [obj.f_locals, obj.f_back]
    if isinstance(obj, (types.ModuleType, type)):
        return []
    return gc.get_referents(obj)


def holders_of(secret: str, roots: list[Any]) -> list[str]:
    """Type names of the containers through which ``secret`` is reachable from ``roots``."""
    needle = secret.encode()
    seen: set[int] = set()
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(root, type(root).__name__) for root in roots]
    while stack and len(seen) < _LIMIT:
        obj, via = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            if secret in obj:
                found.append(via)
            continue
        if isinstance(obj, (bytes, bytearray, memoryview)):
            if needle in bytes(obj):
                found.append(via)
            continue
        if obj is None or isinstance(obj, (int, float, bool, Decimal)):
            continue
        name = type(obj).__name__
        stack.extend((child, name) for child in _referents(obj) if child is not None)
    return found


def roots_after_calls(gateway: BrokerGateway) -> list[Any]:
    gc.collect()
    roots: list[Any] = [gateway, gateway.pool, *gateway.pool.sessions()]
    for name, module in list(sys.modules.items()):
        if _in_libraries(name) and module is not None:
            roots.append(vars(module))
            roots.extend(
                vars(value)
                for value in vars(module).values()
                if isinstance(value, type) and _in_libraries(value.__module__)
            )
    roots.extend(
        obj
        for obj in gc.get_objects()
        if _in_libraries(type(obj).__module__) and not isinstance(obj, type)
    )
    return roots


async def test_no_plaintext_secret_outlives_a_gateway_call(
    gateway: BrokerGateway, placement: Placement, sandbox: SandboxHandle, paper: Account
) -> None:
    """CRED-02: decrypted for the call only, on the success and on every failure path."""
    ref, minted = paper
    secret, key_id = minted["secret_key"], minted["api_key_id"]
    # The plaintext is held while a call is in flight; the search must see it there, or
    # it proves nothing. A live request holds it in a worker thread's frame, so here we
    # check the search itself finds a secret put where the gateway must never put it.
    gateway.pool.sessions()[0].headers["X-Canary"] = secret
    assert holders_of(secret, roots_after_calls(gateway))
    del gateway.pool.sessions()[0].headers["X-Canary"]

    await gateway.snapshot(ref)
    await gateway.positions(ref)
    await gateway.latest_quote(ref, "AAPL")
    await placement.place(ref, *judged(ref, OrderRequest("AAPL", "buy", qty=Decimal(1))))
    await gateway.verify("PAPER", key_id, secret)
    with pytest.raises(BrokerError):
        await gateway.verify("LIVE", key_id, secret)  # 401, then the probe on paper
    sandbox.set_faults(latency_ms=int(READ_TIMEOUT * 1000) + 300)
    with pytest.raises(BrokerError):
        await gateway.clock(ref)  # a read timeout: requests' exception carried the request
    sandbox.set_faults(accept_then_timeout_seconds=READ_TIMEOUT + 1)
    await placement.place(ref, *judged(ref, OrderRequest("KO", "buy", qty=Decimal(1))))  # recovered
    sandbox.set_faults(error_status=500, error_count=5)
    with pytest.raises(BrokerError):
        await gateway.snapshot(ref)
    sandbox.clear_faults()

    assert holders_of(secret, roots_after_calls(gateway)) == []
    assert holders_of(key_id, roots_after_calls(gateway)) == []
    for session in gateway.pool.sessions():
        assert not {h.lower() for h in session.headers} & {
            "apca-api-key-id",
            "apca-api-secret-key",
            "authorization",
        }
        assert session.auth is None and len(session.cookies) == 0
