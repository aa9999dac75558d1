"""Distributed batch ingest with Apache Spark: ``hoidap ingest --engine spark INPUT --store URL``.

The job runs the library's own stages, not a copy of them: each record goes
through ``hoidap.ingest.read``'s JSONL record reader and ``hoidap.ingest.parallel.prepare_one``
(``hoidap.ingest.prepare``: clean, segment, normalise, fingerprint, with failures
turned into reasons), exactly as ``hoidap ingest`` does on one machine.

Loading:

- into PostgreSQL (``--store postgresql://...``): every partition writes its
  articles from the executor, LOAD_BATCH at a time, each batch one transaction
  of COPYs through ``PgStore.add``. A task that dies (a lost worker) rolls back
  its open batch; Spark runs it again, and the batches it had committed are
  skipped because ``doc_id`` is unique, so every article is stored exactly once.
  When every task is done, the driver merges each term's postings rows (one per
  batch) into one (``PgStore.compact``) and refreshes the planner's statistics.
- into the embedded index (no store URL): the prepared articles stream back to
  the driver, which is the single writer SQLite and tantivy need.

With ``embed`` (``hoidap ingest --engine spark --dense``) the executors also
compute the sentence vectors (``dense.embed_articles``: the passages and
embedder of ``hoidap ingest --dense``), the job's costliest step by far
(27 sentences/s a core on VietNews, ~95% of the job). Into PostgreSQL they are written with their
articles, in the same transaction (``PgDense.add``), after skipping the
articles already stored; into the embedded index they travel to the driver
with their articles and are appended to ``DIR/dense/``. First the driver
embeds any stored sentences that have no vector yet (``catch_up``), so the
vectors stay gap-free.

Input: JSON Lines (one article per line, the fields ``hoidap ingest`` reads:
``text`` or ``html``, optional ``title``, ``url``, ``date``, ``source``,
``outlet``) or Parquet files with those columns. ``--spark-master`` is
``local[2,4]`` by default (2 cores, a failed task tried up to 4 times); on a
cluster, its master URL (``spark://host:7077``, ``yarn``, ``k8s://...``) with
hoidap installed on every worker.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hoidap.ingest.parallel import prepare_one
from hoidap.ingest.read import _parse_jsonl_line
from hoidap.models import FileFailure, PreparedArticle, PreparedItem, RawDocument

if TYPE_CHECKING:
    from hoidap.backends.embedded.vectors import DenseIndex
    from hoidap.engine import Engine

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2,4]"
# Articles per load transaction in an executor: larger batches write fewer postings
# and lexicon rows per article (one per term and batch). On VietNews, PgStore.add took
# 4.7 ms an article in batches of 500 and 3.8 ms in batches of 1,500 (client and server
# CPU); 2,000 articles are ~12 MB of text and ~250 MB of an executor's memory.
LOAD_BATCH = 2000
# Articles embedded per call on the way to the embedded index (its executors
# cannot see what the driver has stored: they embed every article they prepare).
EMBED_CHUNK = 64
# Failure reasons sent back to the driver at most (the count is always exact).
MAX_REPORTED_FAILURES = 1000


@dataclass(frozen=True)
class SparkReport:
    read: int  # records read
    failed: int  # records that could not be read or prepared
    stored_before: int  # documents in the store before the job
    stored_after: int
    failures: tuple[FileFailure, ...]  # the first MAX_REPORTED_FAILURES
    seconds: float

    @property
    def ingested(self) -> int:
        return self.stored_after - self.stored_before

    @property
    def duplicates(self) -> int:
        return self.read - self.failed - self.ingested


def record_document(path: str, lineno: int, line: str | bytes) -> RawDocument | FileFailure:
    """One JSONL line (or a Parquet row as JSON) as ``hoidap ingest`` reads it."""
    data = line.encode("utf-8") if isinstance(line, str) else line
    try:
        return _parse_jsonl_line(data, Path(path), lineno)
    except Exception as e:  # reported per record, as hoidap.ingest.read does
        return FileFailure(f"{path}#L{lineno}", f"line {lineno}: {e}")


def prepare_records(rows: Iterable[tuple[str, int, str]]) -> Iterator[PreparedArticle | FileFailure]:
    """The library's stages over (path, line number, line) rows: the job's map step."""
    for path, lineno, line in rows:
        yield prepare_one(record_document(path, lineno, line))


def _chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def embed_prepared(batch: Sequence[PreparedArticle]) -> dict[str, np.ndarray]:
    """The sentence vectors of prepared articles by doc_id (``dense.embed_articles``)."""
    from hoidap.search.embed import embed_articles

    unique = list({p.article.doc_id: p.article for p in batch}.values())
    return {a.doc_id: v for a, v in zip(unique, embed_articles(unique), strict=True)}


def load_partition(url: str, rows: Iterable[tuple[str, int, str]],
                   embed: bool = False) -> Iterator[tuple[int, list[FileFailure]]]:
    """Executor side: prepare a partition's records (and embed them) and COPY them into PostgreSQL.

    Yields one (records, failures) pair for the whole partition.
    """
    from hoidap.backends.postgres.store import PgStore
    from hoidap.backends.postgres.vectors import PgDense

    store = PgStore(url)
    vectors = PgDense(store) if embed else None
    n, failures = 0, []
    try:
        for chunk in _chunks(prepare_records(rows), LOAD_BATCH):
            n += len(chunk)
            batch = [p for p in chunk if isinstance(p, PreparedArticle)]
            failures += [f for f in chunk if isinstance(f, FileFailure)]
            sources = [(p.article.source, p.article.doc_id) for p in batch]
            if vectors is None:
                store.add(batch, sources)
                continue
            # Only what is not stored yet is worth embedding: a task run again after a
            # lost worker finds its committed batches there.
            stored = store.stored([p.article.doc_id for p in batch])
            vectors.add(batch, sources, embed_prepared([p for p in batch if p.article.doc_id not in stored]))
    finally:
        store.close()
    yield n, failures


def prepare_and_embed(rows: Iterable[tuple[str, int, str]]) -> Iterator[
        PreparedArticle | FileFailure | tuple[PreparedArticle, np.ndarray]]:
    """``prepare_records`` with each article's sentence vectors: (article, vectors) pairs."""
    for chunk in _chunks(prepare_records(rows), EMBED_CHUNK):
        batch = [p for p in chunk if isinstance(p, PreparedArticle)]
        vecs = embed_prepared(batch)
        for p in chunk:
            yield (p, vecs[p.article.doc_id]) if isinstance(p, PreparedArticle) else p


def _spark(master: str) -> Any:
    import os

    from pyspark.sql import SparkSession

    # The workers' Python: this one (where hoidap is installed) unless $PYSPARK_PYTHON
    # names the cluster's. pyspark reads the variable, not spark.pyspark.python, here.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("hoidap-ingest").config("spark.ui.enabled", "false")
    if master.startswith("local"):
        # One machine: keep the driver and its block manager on the loopback
        # interface rather than whatever address the host name resolves to.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    return builder.getOrCreate()


def _rows(spark: Any, inputs: Sequence[Path], partitions: int | None) -> Any:
    """(path, line number, JSON line) for every record of every input, as one RDD."""
    sc = spark.sparkContext
    rdds = []
    for path in inputs:
        p = str(path)
        if path.suffix == ".parquet" or path.is_dir() and any(path.glob("*.parquet")):
            rows = spark.read.parquet(p).rdd.map(lambda r: json.dumps(r.asDict(), ensure_ascii=False, default=str))
        else:
            rows = sc.textFile(p, minPartitions=partitions or sc.defaultParallelism)
        rdds.append(rows.zipWithIndex().filter(lambda li: li[0].strip())
                    .map(lambda li, p=p: (p, li[1] + 1, li[0])))
    rdd = sc.union(rdds) if len(rdds) > 1 else rdds[0]
    return rdd.repartition(partitions) if partitions else rdd


def run(inputs: Sequence[str | Path], store: str | None, index_dir: str | Path | None = None,
        master: str = DEFAULT_MASTER, partitions: int | None = None, embed: bool = False) -> SparkReport:
    """Ingest ``inputs`` (JSONL or Parquet files) as a Spark job into ``store`` or ``index_dir``.

    ``embed``: compute the sentence vectors too (the ``dense`` extra on every worker).
    """
    import time

    started = time.perf_counter()
    paths = [Path(p) for p in inputs]
    for p in paths:
        if not p.exists():
            from hoidap.errors import BadInputError

            raise BadInputError(f"{p}: no such file or folder")
    if embed:
        from hoidap.errors import DenseUnavailableError
        from hoidap.search import embed as dense

        if not dense.available():
            raise DenseUnavailableError("embedding needs the dense extra: pip install 'hoidap[dense]'")
    spark = _spark(master)
    try:
        rows = _rows(spark, paths, partitions)
        if store:
            from hoidap.backends.postgres.store import PgStore

            s = PgStore(store)
            before = s.counts()[0]
            if embed:
                from hoidap.backends.postgres.vectors import PgDense

                log.info("embedded %d stored sentences first", PgDense(s).prepare_load())
            results = rows.mapPartitions(lambda it: load_partition(store, it, embed)).collect()
            log.info("merged the postings rows of %d terms", s.compact())
            s.analyze()
            after = s.counts()[0]
            s.close()
            n = sum(r for r, _ in results)
            failures = [f for _, fs in results for f in fs]
        else:
            before, after, n, failures = _load_embedded(rows, Path(index_dir) if index_dir else None, embed)
    finally:
        spark.stop()
    return SparkReport(n, len(failures), before, after, tuple(failures[:MAX_REPORTED_FAILURES]),
                       round(time.perf_counter() - started, 2))


def _load_embedded(rows: Any, index_dir: Path | None, embed: bool) -> tuple[int, int, int, list[FileFailure]]:
    """Prepared articles stream back to the driver, the one writer of SQLite + tantivy (+ dense/):
    ``Engine.ingest_prepared``, the loop of ``hoidap ingest``, with the executors' vectors
    appended to ``DIR/dense/`` after each batch the store commits."""
    from hoidap.backends.embedded.vectors import DenseIndex
    from hoidap.engine import Engine
    from hoidap.search import embed as dense
    from hoidap.settings import Settings

    settings = Settings(store=None, batch_size=LOAD_BATCH)
    if index_dir is not None:
        settings = settings.with_(index_dir=index_dir)
    vectors = DenseIndex(settings.index_dir) if embed else None
    with Engine(settings=settings) as eng:
        if vectors is not None:
            log.info("embedded %d stored sentences first",
                     vectors.catch_up(dense.store_rows(eng.store, vectors.max_sid)))
        before = eng.store.counts()[0]
        pending: dict[str, np.ndarray] = {}  # the vectors of articles read but not yet stored
        read = 0

        def items() -> Iterator[PreparedItem]:
            nonlocal read
            for p in rows.mapPartitions(prepare_and_embed if embed else prepare_records).toLocalIterator():
                read += 1
                if isinstance(p, tuple):
                    p, vecs = p
                    pending[p.article.doc_id] = vecs
                yield PreparedItem(p.source if isinstance(p, FileFailure) else p.article.source, p)

        def stored(batch: Sequence[PreparedArticle]) -> None:
            if vectors is not None:
                _append_vectors(vectors, eng, batch, pending)
            pending.clear()  # every article read so far is stored now, or a copy of a stored one

        report = eng.ingest_prepared(items(), on_stored=stored)
        after = eng.store.counts()[0]
    return before, after, read, list(report.failed)


def _append_vectors(vectors: DenseIndex, eng: Engine, batch: Sequence[PreparedArticle],
                    by_doc: dict[str, np.ndarray]) -> None:
    """The executors' vectors of a batch's sentences, just stored, appended to ``DIR/dense/``."""
    rows = sorted((s.sid, by_doc[p.article.doc_id][s.index])
                  for p in batch for s in eng.store.sentences_of(p.article.doc_id))
    if rows:
        vectors.append_vectors(np.array([sid for sid, _ in rows], dtype=np.int64),
                               np.stack([v for _, v in rows]))
