"""The one-way import order of docs/architecture.md, enforced (OPS-05).

Every import in `api/` and `schema/` is read from the source (function-level
ones too, so a lazy import cannot hide a cycle) and held against the layers:
a module may import its own package and the packages of lower layers, never
anything above. Peers of one layer may use each other only one way: the
graph of packages, and the graph of modules, have no cycle. The sandbox stands
beside the product and may use only the foundation and the database layer.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first; a package may import only from layers before its own.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("api.config", "api.errors", "api.text", "api.vault", "api.logs", "api.metrics", "api.waits"),
    ("api.db",),
    ("api.broker", "api.realtime"),
    ("api.auth", "api.accounts"),
    ("api.live", "api.trading", "api.markets"),
    ("api.notify", "api.chat"),
    ("api.services",),
    ("schema",),
    ("api.app",),
    ("api.cli",),
)
SANDBOX = "api.sandbox"
SANDBOX_MAY_USE = LAYERS[0] + LAYERS[1]


def _unit(module: str) -> str | None:
    """The layered unit a dotted module name belongs to (its package or module)."""
    if module == SANDBOX or module.startswith(SANDBOX + "."):
        return SANDBOX
    for layer in LAYERS:
        for unit in layer:
            if module == unit or module.startswith(unit + "."):
                return unit
    return None


def _rank(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            # `from package import name`: name may be a module of the package
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _sources() -> list[Path]:
    return sorted(p for top in ("api", "schema") for p in (ROOT / top).rglob("*.py"))


def violations(sources: list[Path]) -> list[str]:
    wrong: list[str] = []
    for path in sources:
        here = _unit(_module_name(path))
        if here is None:
            if path.name != "__init__.py" or path.parent != ROOT / "api":
                wrong.append(f"{path.relative_to(ROOT)} belongs to no layer")
            continue
        for line, name in _imports(path):
            there = _unit(name)
            if there is None or there == here:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {name}"
            if here == SANDBOX:
                if there not in SANDBOX_MAY_USE:
                    wrong.append(f"{where}: the sandbox uses only the foundation and db")
            elif there == SANDBOX:
                if here not in ("api.cli", "api.services"):
                    wrong.append(f"{where}: only the command line starts the sandbox")
            elif _rank(there) > _rank(here):
                wrong.append(f"{where}: {there} is above {here}")
    return wrong + [f"import cycle: {' -> '.join(c)}" for c in cycles(sources)]


def _graph(sources: list[Path], name: Callable[[str], str | None]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sources:
        here = name(_module_name(path))
        if here is None:
            continue
        for _, imported in _imports(path):
            there = name(imported)
            if there is not None and there != here:
                graph.setdefault(here, set()).add(there)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def cycles(sources: list[Path]) -> list[list[str]]:
    """A cycle between packages (peers included) and one between modules, if any."""
    known = {_module_name(p) for p in sources}

    def module(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found = (_cycle(_graph(sources, _unit)), _cycle(_graph(sources, module)))
    return [c for c in found if c]


def test_imports_run_one_way() -> None:
    """OPS-05: no import against the layer order, and so no cycle between packages."""
    assert violations(_sources()) == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("api/db/engine_probe.py", "from api.accounts import AccountService"),
        ("api/db/probe.py", "from api.realtime import EventBus"),
        ("api/sandbox/probe.py", "from api.broker import BrokerGateway"),
        ("api/chat/probe.py", "def f():\n    from schema import build_schema\n"),
    ],
)
def test_an_import_against_the_order_is_caught(
    tmp_path: Path, module: str, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check fails for a new upward, peer or lazy import (so it can fail at all)."""
    fake_root = tmp_path
    target = fake_root / module
    target.parent.mkdir(parents=True)
    target.write_text(imported + "\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    assert len(violations([target])) == 1


def test_a_cycle_between_peers_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two packages of one layer that import each other are a cycle, lazily or not."""
    for module, imported in (
        ("api/broker/one.py", "from api.realtime.two import X"),
        ("api/realtime/two.py", "def f():\n    from api.broker.one import Y\n"),
    ):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text(imported + "\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    found = cycles(sorted(tmp_path.rglob("*.py")))
    assert ["api.broker", "api.realtime", "api.broker"] in found
