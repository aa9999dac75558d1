"""Storage backends, and the one place that chooses between them.

``open_backend(settings)`` gives the store, its keyword index and (on demand)
its vector index: the embedded backend (``hoidap.backends.embedded``: SQLite,
tantivy, vector files, one directory) or, for a ``postgresql://`` store, the
PostgreSQL one (``hoidap.backends.postgres``, the ``postgres`` extra). The two
are peers implementing ``hoidap.protocols`` and never import each other;
everything else (engine, server, Spark ingest) opens a backend through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hoidap.protocols import KeywordIndex, Store, VectorIndex
from hoidap.settings import Settings


@dataclass(frozen=True)
class Backend:
    store: Store
    index: KeywordIndex
    # Opens the sentence vectors (the dense extra) when retrieval or ingest uses them.
    open_vectors: Callable[[], VectorIndex]
    kind: str  # "embedded" or "postgres"


def open_backend(settings: Settings, create: bool = True) -> Backend:
    """The backend ``settings`` name: ``settings.store`` (a PostgreSQL URL) or ``settings.index_dir``.

    ``create=False``: an embedded index that does not exist yet is an error
    (``IndexUnavailableError``), not a new empty one: only ingesting creates an index.
    """
    root = Path(settings.index_dir)
    if settings.store:
        from hoidap.backends.postgres.keyword import PgIndex
        from hoidap.backends.postgres.store import PgStore
        from hoidap.backends.postgres.vectors import PgDense

        pg = PgStore(settings.store, settings)
        return Backend(pg, PgIndex(pg, settings), lambda: PgDense(pg), "postgres")
    from hoidap.backends.embedded.keyword import KeywordIndex as Tantivy
    from hoidap.backends.embedded.store import SQLiteStore
    from hoidap.backends.embedded.vectors import DenseIndex

    store = SQLiteStore(root / "hoidap.sqlite", create=create)
    return Backend(store, Tantivy(root / "keyword", settings),
                   lambda: DenseIndex(root), "embedded")
