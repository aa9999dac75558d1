"""Shared fixtures: the seeds and eval data live in ../shared, which a user's clone lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "seeds"
EVAL = SHARED / "eval"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# Modules whose tests start real servers (PostgreSQL, Spark, a browser, the HTTP
# server's processes) or read ../shared/eval whole: the full suite (`make test`)
# runs them, the fast tier (`make check`, `pytest -m "not slow"`) leaves them out.
SLOW_MODULES = frozenset({"test_pgstore", "test_pgdense", "test_pgshard", "test_spark", "test_browser",
                          "test_server", "test_eval_gate", "test_store"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found: ../shared is only present in the project's workspace and CI")
    return path


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return need(SEEDS)


@pytest.fixture(scope="session")
def seeded_index(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An index built once from the five seeds, shared by read-only tests."""
    from hoidap.engine import Engine

    root = tmp_path_factory.mktemp("seeded")
    with Engine(root) as eng:
        report = eng.ingest([seeds_dir])
        assert report.ok and len(report.ingested) == 5
    return root
