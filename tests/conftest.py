"""Shared fixtures: the seeds and eval data live in ../shared, which a user's clone lacks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hoidap.settings import Settings
    from tests.pgserver import PgServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "seeds"
EVAL = SHARED / "eval"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# Modules whose tests start real servers (PostgreSQL, Spark, a browser, the HTTP
# server's processes) or read ../shared/eval whole: the full suite (`make test`)
# runs them, the fast tier (`make check`, `pytest -m "not slow"`) leaves them out.
SLOW_MODULES = frozenset({"test_postgres_store", "test_postgres_vectors", "test_postgres_shard", "test_spark",
                          "test_browser", "test_server", "test_eval_gate", "test_store",
                          "test_fetch"})


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


# -- the engine suite in both backends (sqlite-utils style: one fixture re-runs it) --------
BACKENDS = ["embedded", pytest.param("postgres", marks=pytest.mark.slow)]
_DATABASES = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session's backend-parametrized tests (skips without one)."""
    from tests.pgserver import running_server

    yield from running_server()


def _settings(request: pytest.FixtureRequest, root: Path) -> Callable[..., Settings]:
    from hoidap.settings import Settings

    if request.param == "embedded":
        return lambda **kw: Settings(index_dir=root, store=None, **kw)
    url = request.getfixturevalue("pg_server").create_database(f"engine{next(_DATABASES)}")
    return lambda **kw: Settings(index_dir=root, store=url, **kw)


@pytest.fixture(params=BACKENDS)
def new_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Settings]:
    """``new_settings(**changes)``: the Settings of an empty engine, embedded or in PostgreSQL."""
    return _settings(request, tmp_path / "idx")


@pytest.fixture(scope="session", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           seeds_dir: Path) -> Settings:
    """The Settings of an engine holding the five seeds, in each backend (read-only tests)."""
    from hoidap.engine import Engine

    if request.param == "embedded":
        return _settings(request, request.getfixturevalue("seeded_index"))()
    settings = _settings(request, tmp_path_factory.mktemp("seeded-pg"))()
    with Engine(settings=settings) as eng:
        assert len(eng.ingest([seeds_dir]).ingested) == 5
    return settings
