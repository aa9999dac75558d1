"""BM25 as PostgreSQL postings tables, scored exactly like the embedded tantivy index.

The embedded keyword index (``hoidap.backends.embedded.keyword``) is tantivy; this module is its
PostgreSQL twin for ``hoidap.backends.postgres.store``. Same documents, same fields (``acc``,
``plain``, and for documents the bigram fields ``acc2``/``plain2``), same
tokens, same formula and parameters, so both stores rank alike
(``hoidap.search.bm25``) over the fields of ``hoidap.search.fields``.

Storage: ``lexicon`` (one row per kind, field and term, with its document
frequency), ``postings`` (one row per term and ingest batch, and per shard when
sharded, until ``PgStore.compact`` merges a term's rows into one: its keys,
term frequencies and fieldnorm codes as little-endian arrays in ``bytea``,
so a batch appends rows and never rewrites a long list) and ``field_stats``
(documents and tokens per kind and field). The store writes all three in the
transaction that adds the articles (``postings_for``), so the index can never
lag behind the store. Queries fetch the kept terms' rows and score them here
with numpy (``score_postings``): the server does index lookups, the arithmetic
runs where the question is asked, as it does for the embedded index.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from hoidap.backends.postgres.postings import CODE_DTYPE, FIELD_IDS, KEY_DTYPE, KIND_IDS, TF_DTYPE
from hoidap.models import DeletedDocument, KeywordHit
from hoidap.protocols import Clause
from hoidap.search.bm25 import K1, B, fieldnorm_table, idf
from hoidap.search.fields import BIGRAM_FIELDS
from hoidap.settings import Settings
from hoidap.text.normalize import strip_diacritics

if TYPE_CHECKING:
    from hoidap.backends.postgres.store import PgStore

C0 = K1 * (1 - B)  # the length-free part of K1 * (1 - B + B * len / avgdl)


# -- the query side --------------------------------------------------------------------

# Per clause come its term id, w = boost * idf * (K1 + 1), and the length
# normalisation split as K1 * (1 - B + B * len / avgdl) = C0 + c1 * len. Each term's
# part is rounded to a multiple of 2^-32 (SCORE_UNIT) before the parts are summed, so
# a sum is exact whatever order the rows come in (a sharded store's come from its
# shards in any order; summing floats in another order can change the last bit of a
# score and with it the order of tied keys).
SCORE_UNIT = 4294967296.0


@lru_cache(maxsize=1)
def _lengths() -> np.ndarray:
    return np.asarray(fieldnorm_table(), dtype=np.float64)


# Term frequencies below this are scored from a per-clause table of every (tf, fieldnorm
# code) part, one gather per posting instead of the arithmetic (score_postings went
# 11.8 -> 4 ms on the 242,000 postings of a median question at 500,000 articles);
# news documents rarely repeat a term 16 times, and larger tfs are computed directly.
IMPACT_TFS = 16
# Fewer postings than the table has parts (IMPACT_TFS x 256) are scored by the
# arithmetic itself, which the table would only repeat: a median question at 500,000
# articles scores ~27 lists or parts of lists, most of them short (60 captured
# questions: 2.55 -> 2.36 ms; 1,024 2.44, 8,192 2.36).
DIRECT_PARTS = IMPACT_TFS * 256


def _parts(w: float, c1: float, tfs: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each posting's part of one clause, rounded to SCORE_UNITs (the formula of ``score_rows``)."""
    if len(tfs) < DIRECT_PARTS:
        tf = tfs.astype(np.float64)
        return np.rint(w * tf / (tf + C0 + c1 * _lengths()[codes]) * SCORE_UNIT)
    grid = np.arange(IMPACT_TFS, dtype=np.float64)[:, None]
    table = np.rint(w * grid / (grid + C0 + c1 * _lengths()[None, :]) * SCORE_UNIT).ravel()
    parts = table[np.minimum(tfs, IMPACT_TFS - 1).astype(np.intp) * 256 + codes]
    big = np.flatnonzero(tfs >= IMPACT_TFS)
    if len(big):
        tf = tfs[big].astype(np.float64)
        parts[big] = np.rint(w * tf / (tf + C0 + c1 * _lengths()[codes[big]]) * SCORE_UNIT)
    return parts


def _bound(w: float, c1: float, tfs: np.ndarray, codes: np.ndarray) -> float:
    """A clause's largest part over its postings, in SCORE_UNITs, plus one: the part grows
    with tf and shrinks with length, and the unit absorbs a last-bit difference of the
    rounding (``_parts``)."""
    tf, length = float(tfs.max()), float(_lengths()[int(codes.min())])
    return float(np.rint(w * tf / (tf + C0 + c1 * length) * SCORE_UNIT)) + 1.0


def score_postings(rows: Sequence[tuple[int, int, bytes, bytes, bytes]], clauses: Sequence[tuple[int, float, float]],
                   k: int, documents: Sequence[int] | None = None) -> list[KeywordHit]:
    """The ``k`` best keys of postings rows ``(tid, n, keys, tfs, codes)`` by BM25, ties by key.

    ``clauses``: (tid, w, c1) each; a term asked twice counts twice, as in tantivy's
    boolean query. The same arithmetic, in the same order, as ``score_rows`` (IEEE
    doubles; numpy's ``rint`` and Python's ``round`` both round half to even), so
    the two agree to the bit.

    Exact MaxScore (Turtle & Flood 1995): lists are scored shortest first (the rare
    terms), and once the bounds of the lists left sum below the k-th best sum so far,
    a key none of the scored lists holds can no longer reach the k best, so the
    long lists (the frequent terms) are read only at the keys already found. At
    500,000 articles that skips ~80% of a median question's 240,000 postings:
    4.0 -> 2.4 ms on 60 captured questions. A key is in a term's postings once (each
    batch lists it once and documents are never added twice), which the in-place
    sums rely on.
    """
    by_tid: dict[int, list[tuple[int, int, bytes, bytes, bytes]]] = {}
    for r in rows:
        if r[1]:
            by_tid.setdefault(r[0], []).append(r)
    inside = None if documents is None else np.asarray(documents, dtype=np.int64)
    lists = []
    for tid, w, c1 in clauses:
        found = by_tid.get(tid, [])
        if not found:
            continue
        keys = np.concatenate([np.frombuffer(r[2], KEY_DTYPE) for r in found]).astype(np.intp)
        tfs = np.concatenate([np.frombuffer(r[3], TF_DTYPE) for r in found])
        codes = np.concatenate([np.frombuffer(r[4], CODE_DTYPE) for r in found])
        if inside is not None:
            keep = np.isin(keys, inside)
            keys, tfs, codes = keys[keep], tfs[keep], codes[keep]
        if len(keys):
            lists.append((keys, tfs, codes, w, c1))
    if not lists:
        return []
    lists.sort(key=lambda entry: len(entry[0]))
    bounds = [_bound(w, c1, tfs, codes) for _, tfs, codes, w, c1 in lists]
    size = max(int(entry[0].max()) for entry in lists) + 1
    sums, seen = np.zeros(size), np.zeros(size, dtype=bool)
    found_keys: list[np.ndarray] = []
    scored, left, bound_scored = len(lists), sum(bounds), 0.0
    for i, (keys, tfs, codes, w, c1) in enumerate(lists):
        sums[keys] += _parts(w, c1, tfs, codes)
        new = keys[~seen[keys]]
        seen[new] = True
        found_keys.append(new)
        left -= bounds[i]
        bound_scored += bounds[i]
        # The k-th best sum is at most bound_scored: compare with it only when that could pass.
        if i + 1 < len(lists) and left < bound_scored:
            found_keys = [np.concatenate(found_keys)]
            if len(found_keys[0]) >= k and left < np.partition(sums[found_keys[0]], -k)[-k]:
                scored = i + 1
                break
    for keys, tfs, codes, w, c1 in lists[scored:]:
        at = np.flatnonzero(seen[keys])
        sums[keys[at]] += _parts(w, c1, tfs[at], codes[at])
    keys = np.concatenate(found_keys)
    keys = keys[sums[keys] > 0]  # as a bincount would: every part is >= 1 unit in practice
    return _top(keys, sums[keys], k)


def _top(keys: np.ndarray, sums: np.ndarray, k: int) -> list[KeywordHit]:
    """The ``k`` keys of highest sum (in SCORE_UNITs), ties by key, as tantivy orders them."""
    if len(keys) > k:
        kth = np.partition(sums, len(sums) - k)[len(sums) - k]
        keep = sums >= kth  # the k best and everything tied with the k-th
        keys, sums = keys[keep], sums[keep]
    order = np.lexsort((keys, -sums))[:k]
    return [KeywordHit(int(keys[i]), float(sums[i] / SCORE_UNIT)) for i in order]


RowClause = tuple[str, str, float, float]  # (field, term, w, c1), with C0: see SCORE_UNIT


# Tokens of sentence rows are matched by a 64-bit polynomial hash of their code
# points (mod 2^64, numpy's wrapping arithmetic) plus their length: a question's
# ~800 sentences hold ~30,000 tokens, and splitting them into Python strings and
# looking each up took 4 of score_rows' 5 ms at 500,000 articles. Two different
# tokens of equal length share a hash with probability ~2^-64 (an odd multiplier;
# the known weak inputs of such hashes are thousands of characters long).
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
_HASH_INVERSE = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))
_SPACE, _NEWLINE = 32, 10
_powers: list[np.ndarray] = []  # [base^i, base^-i] for i < their length, grown as needed


def _hash_powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    if not _powers or len(_powers[0]) < n:
        size = max(n, 2 * len(_powers[0]) if _powers else 4096)
        _powers[:] = [np.cumprod(np.r_[np.uint64(1), np.full(size - 1, b, dtype=np.uint64)])
                      for b in (_HASH_BASE, _HASH_INVERSE)]
    return _powers[0], _powers[1]


@dataclass(frozen=True)
class _Tokens:
    """The tokens of rows joined by newlines: each one's hash, length and row."""

    hashes: np.ndarray
    lengths: np.ndarray
    rows: np.ndarray


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


Bounds = tuple[np.ndarray, np.ndarray, np.ndarray]  # each token's start, end and row


def _bounds(codes: np.ndarray) -> Bounds:
    """Maximal runs of code points other than space and newline (``str.split()`` on text
    whose only whitespace they are), with the newline-separated row of each."""
    gap = (codes == _SPACE) | (codes == _NEWLINE)
    inside = np.r_[False, ~gap, False]
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    starts, ends = edges[0::2], edges[1::2]
    return starts, ends, np.cumsum(codes == _NEWLINE)[starts]


def _tokens(codes: np.ndarray, bounds: Bounds | None = None) -> _Tokens:
    """The tokens (``_bounds``, unless given: those of text of the same layout) hashed."""
    starts, ends, rows = _bounds(codes) if bounds is None else bounds
    n = len(codes)
    powers, inverses = _hash_powers(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codes.astype(np.uint64) * powers[:n], out=prefix[1:])
    hashes = (prefix[ends] - prefix[starts]) * inverses[starts]
    return _Tokens(hashes, ends - starts, rows)


def _term_hash(term: str) -> int:
    codes = _code_points(term)
    powers, _ = _hash_powers(len(codes) + 1)
    return int(np.sum(codes.astype(np.uint64) * powers[: len(codes)], dtype=np.uint64))


@lru_cache(maxsize=1)
def _plain_code_table() -> np.ndarray:
    """Code point -> its plain code point (strip_diacritics) below U+2000, which holds every
    Vietnamese letter; 0 where stripping removes the character or gives several."""
    table = np.zeros(0x2000, dtype="<u4")
    for code in range(0x2000):
        plain = strip_diacritics(chr(code))
        table[code] = ord(plain) if len(plain) == 1 else 0
    return table


def _plain_codes(codes: np.ndarray, text: str) -> tuple[np.ndarray, bool]:
    """The code points of ``strip_diacritics(text)``, and whether they are one per code point
    of ``text`` (a table lookup, spaces and newlines kept: the same token bounds), which
    they are unless a character strips to none or several (then the text is stripped)."""
    table = _plain_code_table()
    if len(codes) and int(codes.max()) < len(table):
        plain = table[codes]
        if int(plain.min()) > 0:
            return plain, True
    return _code_points(strip_diacritics(text)), False


@lru_cache(maxsize=1)
def _unprintable_table() -> np.ndarray:
    """Code point -> not ``str.isprintable()``, below U+2000 (every Vietnamese letter)."""
    return np.array([not chr(code).isprintable() for code in range(0x2000)], dtype=bool)


def _printable_rows(codes: np.ndarray, texts: list[str]) -> bool:
    """``" ".join(texts).isprintable()`` (no whitespace but spaces) from the code points
    of the texts joined by newlines: a table lookup, 0.3 -> 0.1 ms for a question's rows."""
    table = _unprintable_table()
    if len(codes) and int(codes.max()) < len(table):
        return int(np.count_nonzero(table[codes])) == len(texts) - 1  # the newlines alone
    return " ".join(texts).isprintable()


def _term_frequencies(tokens: _Tokens, n_rows: int, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A rows x terms matrix of how often each term is a token of each row, and each
    row's number of tokens."""
    counts = np.bincount(tokens.rows, minlength=n_rows)
    wanted = np.asarray([_term_hash(t) for t in terms], dtype=np.uint64)
    order = np.argsort(wanted)
    at = np.minimum(np.searchsorted(wanted[order], tokens.hashes), len(terms) - 1)
    column = order[at]
    lengths = np.asarray([len(t) for t in terms], dtype=np.int64)
    hit = (wanted[column] == tokens.hashes) & (lengths[column] == tokens.lengths)
    tf = np.bincount(tokens.rows[hit] * len(terms) + column[hit],
                     minlength=n_rows * len(terms)).reshape(n_rows, len(terms))
    return tf, counts


def score_rows(rows: Iterable[tuple[int, str]], clauses: list[RowClause], k: int) -> list[KeywordHit]:
    """The ``k`` best of sentence ``(key, terms)`` rows by BM25 computed from their own tokens.

    The same arithmetic as ``score_postings``, in the same order, so the scores are
    equal to the bit; rows matching no clause are left out. Tokens are found and
    matched with numpy over the rows' code points (``_tokens``): the ~800 sentences
    of retrieval's 50 documents at 500,000 articles took 8 ms with a Counter per
    row, 4.9 ms with one dict lookup per token, and 2.0-2.3 ms this way.
    """
    rows = list(rows)
    # A term that is not one token matches nothing, as in the postings.
    clauses = [c for c in clauses if c[1].split() == [c[1]]]
    if not rows or not clauses:
        return []
    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    texts = [r[1] for r in rows]
    joined = "\n".join(texts)
    acc_codes = _code_points(joined)
    if not _printable_rows(acc_codes, texts):  # whitespace other than spaces: split() decides the tokens
        texts = [" ".join(t.split()) for t in texts]
        joined = "\n".join(texts)
        acc_codes = _code_points(joined)
    acc_bounds = _bounds(acc_codes)
    plain_codes, same_bounds = (_plain_codes(acc_codes, joined) if any(c[0] == "plain" for c in clauses)
                                else (acc_codes, True))
    sums = np.zeros(len(rows))
    matched = np.zeros(len(rows), dtype=bool)
    for fname in dict.fromkeys(f for f, _, _, _ in clauses):
        column = {t: j for j, t in enumerate(dict.fromkeys(t for f, t, _, _ in clauses if f == fname))}
        tokens = (_tokens(acc_codes, acc_bounds) if fname == "acc"
                  else _tokens(plain_codes, acc_bounds if same_bounds else None))
        tf_matrix, counts = _term_frequencies(tokens, len(rows), list(column))
        lengths = _lengths()[np.searchsorted(fieldnorm_table(), counts, side="right") - 1]
        for f, t, w, c1 in clauses:
            if f == fname:
                tf = tf_matrix[:, column[t]].astype(np.float64)
                sums += np.where(tf > 0, np.rint(w * tf / (tf + C0 + c1 * lengths) * SCORE_UNIT), 0.0)
                matched |= tf > 0
    return _top(keys[matched], sums[matched], k)


class PgPart:
    """One kind (sentences or documents) of the PostgreSQL keyword index."""

    def __init__(self, store: PgStore, kind: str, settings: Settings) -> None:
        self.settings = settings
        self.store = store
        self.kind = kind
        self.kind_id = KIND_IDS[kind]
        self.with_bigrams = kind == "documents"
        # Statistics as of the last refresh: like a tantivy searcher, one
        # question is scored and ranked against one consistent snapshot.
        self._docs = -1
        self._loaded = 0.0
        self._tokens: dict[str, int] = {}
        self._terms: dict[tuple[str, str], tuple[int, int]] = {}  # (field, term) -> (tid, df)
        # The other kind, whose missing terms are looked up in the same query (a question
        # asks the documents and then the sentences for the same words): set by PgIndex.
        self.sibling: PgPart | None = None

    def reload(self) -> None:
        self._loaded = time.monotonic()
        docs, tokens = self.store.field_stats(self.kind_id)
        if docs != self._docs:
            self._terms.clear()
        self._docs, self._tokens = docs, tokens

    def _missing(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The pairs not in the cache, which is emptied first when they would overfill it."""
        missing = [p for p in dict.fromkeys(pairs) if p not in self._terms]
        if len(self._terms) + len(missing) > self.settings.pg_term_cache:  # a long-running server: keep it bounded
            self._terms.clear()
            missing = list(dict.fromkeys(pairs))
        return missing

    def _lookup(self, pairs: Sequence[tuple[str, str]]) -> None:
        missing = self._missing(pairs)
        if not missing:
            return
        parts = [(self, missing)]
        if (other := self.sibling) is not None:
            if other._docs < 0:
                other.reload()  # first, or its first reload would empty what is read for it now
            theirs = other._missing([p for p in pairs if other.with_bigrams or p[0] not in BIGRAM_FIELDS])
            if theirs:
                parts.append((other, theirs))
        found = self.store.lookup_terms([(part.kind_id, FIELD_IDS[f], t) for part, ps in parts for f, t in ps])
        for part, ps in parts:
            for f, t in ps:
                part._terms[(f, t)] = found.get((part.kind_id, FIELD_IDS[f], t), (0, 0))

    def num_docs(self) -> int:
        if self._docs < 0:
            self.reload()
        return self._docs

    def doc_freq(self, field_name: str, term: str) -> int:
        if self._docs < 0:
            self.reload()
        self._lookup([(field_name, term)])
        return self._terms[(field_name, term)][1]

    def doc_freqs(self, pairs: list[tuple[str, str]]) -> list[int]:
        """``doc_freq`` of each (field, term), the missing ones looked up in one query."""
        if self._docs < 0:
            self.reload()
        self._lookup(pairs)
        return [self._terms[p][1] for p in pairs]

    def max_key(self) -> int:
        return 0  # postings are written with the rows: there is never anything to catch up

    def search(self, weighted_terms: list[Clause], k: int,
               documents: Sequence[int] | None = None) -> list[KeywordHit]:
        """BM25 over (field, term, weight) clauses, as ``hoidap.backends.embedded.keyword._Part.search``."""
        if not self.with_bigrams:
            weighted_terms = [c for c in weighted_terms if c[0] not in BIGRAM_FIELDS]
        if time.monotonic() - self._loaded > self.settings.pg_stats_seconds:
            self.reload()
        n = self._docs
        if not weighted_terms or n <= 0:
            return []
        self._lookup([(f, t) for f, t, _ in weighted_terms])
        tids, ws, c1s, kept = [], [], [], []
        for f, t, w in weighted_terms:
            tid, df = self._terms[(f, t)]
            if df == 0:
                continue
            tids.append(tid)
            ws.append(w * idf(df, n) * (K1 + 1))
            c1s.append(K1 * B / (self._tokens.get(f, 0) / n or 1.0))
            kept.append((f, t))
        if not tids or (documents is not None and not documents):
            return []
        if documents is not None and self.kind == "sentences":
            # The sentences of a few documents (~800 for retrieval's 50) are scored from
            # their own terms: ~100 KB read, where the postings of the query's terms run
            # to millions of entries at 500,000 articles.
            rows = self.store.sentence_terms(documents)
            return score_rows(rows, [(f, t, w, c1) for (f, t), w, c1 in zip(kept, ws, c1s, strict=True)], k)
        clauses = list(zip(tids, ws, c1s, strict=True))
        return score_postings(self.store.postings(list(dict.fromkeys(tids))), clauses, k, documents)


# glibc's malloc gives freed memory above its trim threshold back to the OS, and a
# question's numpy temporaries (~20 MB for 240,000 postings) were page-faulted back in at
# every question: 6 of score_postings' 11 ms at 500,000 articles. Keeping up to this much
# freed heap, and serving allocations below it from the heap, removes that.
KEEP_FREED_BYTES = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc malloc.h


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds to KEEP_FREED_BYTES (once; False where there is no glibc)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
                    and libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20))
    except (OSError, AttributeError):
        return False


class PgIndex:
    """The keyword index of a ``PgStore``: sentence and document BM25 over its postings."""

    def __init__(self, store: PgStore, settings: Settings | None = None) -> None:
        settings = settings or store.settings
        keep_freed_memory()
        self.store = store
        self.sentences = PgPart(store, "sentences", settings)
        self.documents = PgPart(store, "documents", settings)
        self.sentences.sibling, self.documents.sibling = self.documents, self.sentences

    def sync(self, sentence_rows: Iterator[tuple[int, int, str, str]] | None = None,
             document_rows: Iterator[tuple[int, str]] | None = None) -> tuple[int, int]:
        self.reload()  # the store wrote postings in the same transaction as the rows
        return 0, 0

    def same_statement(self, dup_key: str, limit: int) -> list[int]:
        """Sentence ids sharing ``dup_key``, in order: the store's own index on it answers."""
        return self.store.same_statements([dup_key], limit).get(dup_key, [])

    def same_statements(self, dup_keys: Sequence[str], limit: int) -> dict[str, list[int]]:
        """``same_statement`` of each key, in one query."""
        return self.store.same_statements(dup_keys, limit)

    def delete(self, documents: Sequence[DeletedDocument]) -> None:
        """Nothing left to delete: the store deleted the postings with the rows; statistics reread."""
        self.reload()

    def reload(self) -> None:
        self.sentences.reload()
        self.documents.reload()

    def generation(self) -> tuple[int, ...]:
        """Always the same: every query reads the database's committed state, and the
        statistics refresh themselves (``Settings.pg_stats_seconds``)."""
        return ()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Nothing to hold: the store writes postings in each batch's own transaction."""
        yield
