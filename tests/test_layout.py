"""The package's layout as a rule anyone can run: which rooms may import which.

Reads every module's imports (``import`` and ``from`` statements anywhere in the
module, function-level ones included; those under ``if TYPE_CHECKING:`` are left
out: they never run) and checks the allowed directions and that no import cycle
exists between modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hoidap"

# What each room may import from the package besides itself. A module's room is its
# first dotted part below ``hoidap`` (``backends.postgres`` for the PostgreSQL backend).
# ``hoidap.files`` (atomic writes) is a leaf every room may use, as ``hoidap.shipped``.
BASE = {"hoidap", "hoidap.models", "hoidap.errors", "hoidap.protocols", "hoidap.settings", "hoidap.shipped",
        "hoidap.files"}
ALLOWED = {
    "text": BASE,
    "search": BASE | {"text"},
    "qa": BASE | {"text", "search"},
    "briefing": BASE | {"text", "search"},
    # The Spark job loads into a backend, and its driver into the embedded one through
    # Engine.ingest_prepared (the loop of `hoidap ingest`, not a copy of it).
    "ingest": BASE | {"text", "search", "backends", "backends.embedded", "backends.postgres", "hoidap.engine"},
    "backends": BASE | {"backends.embedded", "backends.postgres"},  # open_backend chooses one
    # and the row mapping both share (backends/rows.py), never each other
    "backends.embedded": BASE | {"text", "search", "hoidap.backends.rows"},
    "backends.postgres": BASE | {"text", "search", "hoidap.backends.rows"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return ""
    if parts[0] == "backends" and len(parts) > 1 and parts[1] in ("embedded", "postgres"):
        return f"backends.{parts[1]}"
    return parts[0] if (PACKAGE / parts[0]).is_dir() else module


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(path: Path) -> Iterator[str]:
    """The hoidap modules ``path`` imports (a ``from hoidap.x import y`` counts as
    ``hoidap.x.y`` when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("hoidap"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hoidap"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                yield sub if sub in MODULES else node.module


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {m: sorted(set(_imports(p)) - {m}) for m, p in MODULES.items()}


def _allowed(source: str, target: str) -> bool:
    room, other = _room(source), _room(target)
    if room == other or target in BASE:
        return True
    if room not in ALLOWED:  # the edges (engine, cli, server, evaluate) and top-level modules
        return True
    allowed = ALLOWED[room]
    return target in allowed or other in allowed


@pytest.mark.parametrize("module", sorted(MODULES))
def test_stages_import_only_what_their_room_allows(module: str) -> None:
    bad = [t for t in GRAPH[module] if not _allowed(module, t)]
    assert not bad, f"{module} ({_room(module)}) may not import {bad}"


def test_qa_never_imports_briefing() -> None:
    assert not [(m, t) for m, ts in GRAPH.items() for t in ts
                if _room(m) == "qa" and _room(t) == "briefing"]


def test_the_backends_never_import_each_other() -> None:
    pairs = {("backends.embedded", "backends.postgres"), ("backends.postgres", "backends.embedded")}
    assert not [(m, t) for m, ts in GRAPH.items() for t in ts if (_room(m), _room(t)) in pairs]


def test_nothing_imports_the_edges() -> None:
    """The CLI and the server call the engine; only ``hoidap serve`` (the CLI) starts the server."""
    found = [(m, t) for m, ts in GRAPH.items() for t in ts
             if t == "hoidap.cli" or (t == "hoidap.server" and m != "hoidap.cli")]
    assert not found


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in GRAPH.get(m, []):
            if t not in MODULES:
                continue
            if state.get(t) == 1:
                cycle = path[path.index(t):] + [t]
                raise AssertionError(" -> ".join(cycle))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
