"""BM25 as PostgreSQL postings tables, scored exactly like the embedded tantivy index.

The embedded keyword index (``hoidap.index``) is tantivy; this module is its
PostgreSQL twin for ``hoidap.pgstore``. Same documents, same fields (``acc``,
``plain``, and for documents the bigram fields ``acc2``/``plain2``), same
tokens, same formula and parameters, so both stores rank alike:

    score(q, d) = sum over clauses (field, term, boost) matching d of
        boost * idf(df, N) * (K1 + 1) * tf / (tf + K1 * (1 - B + B * norm(len) / avgdl))

with tantivy's K1 = 1.2, B = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))
(tantivy ``src/query/bm25.rs``), ``avgdl`` = the field's tokens / documents,
and ``norm`` tantivy's one-byte field-length code decoded back (Lucene's
``SmallFloat.intToByte4``, tantivy ``src/fieldnorm/code.rs``): lengths up to
40 are exact, longer ones rounded down to 4 significant bits.

Storage: ``lexicon`` (one row per kind, field and term, with its document
frequency), ``postings`` (one row per term and ingest batch, and per shard when
sharded: parallel arrays of keys, term frequencies and decoded field lengths,
so a batch appends rows and never rewrites a long list) and ``field_stats`` (documents and tokens per kind
and field). The store writes all three in the transaction that adds the
articles (``postings_for``), so the index can never lag behind the store.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hoidap.index import BIGRAM_FIELDS, FIELDS, KeywordHit, bigrams
from hoidap.normalize import strip_diacritics

if TYPE_CHECKING:
    from hoidap.pgstore import PgStore

# tantivy's BM25 parameters (src/query/bm25.rs: K1 = 1.2, B = 0.75), fixed there.
K1 = 1.2
B = 0.75
C0 = K1 * (1 - B)  # the length-free part of K1 * (1 - B + B * len / avgdl)
KIND_IDS = {"sentences": 0, "documents": 1}
# How long a reader keeps the collection statistics before reading them again
# (one query saved per search): other processes' ingests are seen within this,
# as the server's tantivy readers see commits at their next reload. An engine
# sees its own ingests at once (``sync`` reloads).
STATS_SECONDS = 1.0
FIELD_IDS = {f: i for i, f in enumerate(FIELDS)}


class KeywordPart(Protocol):
    """What retrieval and ranking ask of one keyword index (sentences or documents)."""

    def search(self, weighted_terms: list[tuple[str, str, float]], k: int,
               documents: Sequence[int] | None = None) -> list[KeywordHit]: ...
    def num_docs(self) -> int: ...
    def doc_freq(self, field: str, term: str) -> int: ...
    def doc_freqs(self, pairs: list[tuple[str, str]]) -> list[int]: ...
    def max_key(self) -> int: ...
    def reload(self) -> None: ...


class KeywordSearch(Protocol):
    """The keyword index as the engine uses it: ``hoidap.index.KeywordIndex`` or ``PgIndex``."""

    root: Path
    sentences: KeywordPart
    documents: KeywordPart

    def sync(self, sentence_rows: Iterator[tuple[int, int, str, str]] | None = None,
             document_rows: Iterator[tuple[int, str]] | None = None) -> tuple[int, int]: ...
    def same_statement(self, dup_key: str, limit: int) -> list[int]: ...
    def reload(self) -> None: ...


# -- the formula -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def fieldnorm_table() -> tuple[int, ...]:
    """The 256 field lengths a one-byte fieldnorm code decodes to.

    Lucene ``SmallFloat.byte4ToInt`` (as tantivy ``FIELD_NORMS_TABLE``): codes
    below 24 are the length itself; above, a 3-bit mantissa with an implicit
    leading bit, shifted by the exponent, plus 24.
    """
    free = 24  # 255 - longToInt4(Integer.MAX_VALUE) = 255 - 231
    out = []
    for code in range(256):
        if code < free:
            out.append(code)
            continue
        i = code - free
        bits, shift = i & 0x07, (i >> 3) - 1
        out.append(free + (bits if shift == -1 else (bits | 0x08) << shift))
    return tuple(out)


def quantized_length(n_tokens: int) -> int:
    """A field length as tantivy scores it: rounded down to the nearest table value."""
    table = fieldnorm_table()
    return table[bisect_right(table, n_tokens) - 1]


def idf(df: int, n: int) -> float:
    """tantivy's BM25 idf (src/query/bm25.rs), Lucene's non-negative form of Robertson-Sparck Jones."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def bm25(tf: int, length: int, avgdl: float, df: int, n: int) -> float:
    """One term's BM25 in one document (Robertson & Zaragoza 2009, eq. 3.15, tantivy's constants)."""
    return idf(df, n) * (K1 + 1) * tf / (tf + K1 * (1 - B + B * quantized_length(length) / avgdl))


# -- postings of a batch ---------------------------------------------------------------


def field_tokens(terms: str, with_bigrams: bool) -> dict[str, list[str]]:
    """The tokens of each field for one row, exactly as ``hoidap.index`` feeds tantivy."""
    plain = strip_diacritics(terms)
    out = {"acc": terms.split(), "plain": plain.split()}
    if with_bigrams:
        out["acc2"] = bigrams(terms.split()).split()
        out["plain2"] = bigrams(plain.split()).split()
    return out


@dataclass
class Postings:
    """One batch's postings of one kind: (field, term) -> parallel key / tf / length lists.

    ``dno``: a document of the rows, stored with the postings rows as their
    distribution key; in a sharded store (``hoidap.pgshard``) every row of a
    ``Postings`` belongs to the shard of this document.
    """

    kind: str
    lists: dict[tuple[str, str], tuple[list[int], list[int], list[int]]] = field(default_factory=dict)
    tokens: Counter[str] = field(default_factory=Counter)
    docs: int = 0
    dno: int | None = None


def postings_for(kind: str, rows: Iterable[tuple[int, str]], dno: int | None = None) -> Postings:
    """The postings of ``(key, space-joined accented terms)`` rows of one kind."""
    out = Postings(kind, dno=dno)
    with_bigrams = kind == "documents"
    for key, terms in rows:
        out.docs += 1
        for fname, toks in field_tokens(terms, with_bigrams).items():
            out.tokens[fname] += len(toks)
            length = quantized_length(len(toks))
            for term, tf in Counter(toks).items():
                keys, tfs, lens = out.lists.setdefault((fname, term), ([], [], []))
                keys.append(key)
                tfs.append(tf)
                lens.append(length)
    return out


# -- the query side --------------------------------------------------------------------

# Scoring in the database. Per clause come its term id, w = boost * idf * (K1 + 1),
# and the length normalisation split as K1 * (1 - B + B * len / avgdl) = c0 + c1 * len
# (all float8: numeric arithmetic would be several times slower). Each clause's
# postings rows are fetched by index (OFFSET 0 keeps the planner from turning the
# lookups into a scan of the whole table when its statistics are stale), unnested
# and summed per key. Each term's part is rounded to a multiple of 2^-32 first, so
# the sum is exact whatever order the rows come in (a sharded store's come from
# its shards in any order; summing floats in another order can change the last
# bit of a score and with it the order of tied keys).
_SCORE_SQL = """
SELECT u.key, SUM(round(c.w * u.tf / (u.tf + c.c0 + c.c1 * u.len) * 4294967296.0)) / 4294967296.0 AS score
FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::float8[]) AS c(tid, w, c0, c1)
CROSS JOIN LATERAL (SELECT keys, tfs, lens FROM postings p WHERE p.tid = c.tid OFFSET 0) AS p
CROSS JOIN LATERAL unnest(p.keys, p.tfs, p.lens) AS u(key, tf, len)
{where}
GROUP BY u.key
ORDER BY score DESC, u.key
LIMIT %s
"""

# Scores are summed in units of 2^-32 (``_SCORE_SQL``).
SCORE_UNIT = 4294967296.0

Clause = tuple[str, str, float, float]  # (field, term, w, c1) as _SCORE_SQL gets them, with C0


def score_rows(rows: Iterable[tuple[int, str]], clauses: list[Clause], k: int) -> list[KeywordHit]:
    """The ``k`` best of sentence ``(key, terms)`` rows by BM25 computed from their own tokens.

    The same arithmetic as ``_SCORE_SQL`` over postings, in the same order (PostgreSQL's
    float8 and Python's float are both IEEE doubles, and both round a float half to
    even), so the scores are equal to the bit; rows matching no clause are left out.
    """
    by_field: dict[str, list[tuple[str, float, float]]] = {}
    for f, t, w, c1 in clauses:
        by_field.setdefault(f, []).append((t, w, c1))
    scored = []
    for key, terms in rows:
        tokens = field_tokens(terms, with_bigrams=False)
        total, matched = 0.0, False
        for f, terms_of_field in by_field.items():
            toks = tokens.get(f, [])
            tfs, length = Counter(toks), quantized_length(len(toks))
            for t, w, c1 in terms_of_field:
                tf = tfs.get(t, 0)
                if tf:
                    total += round(w * tf / (tf + C0 + c1 * length) * SCORE_UNIT)
                    matched = True
        if matched:
            scored.append((-(total / SCORE_UNIT), key))
    scored.sort()
    return [KeywordHit(int(key), -neg) for neg, key in scored[:k]]


class PgPart:
    """One kind (sentences or documents) of the PostgreSQL keyword index."""

    def __init__(self, store: PgStore, kind: str) -> None:
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

    def reload(self) -> None:
        self._loaded = time.monotonic()
        docs, tokens = self.store.field_stats(self.kind_id)
        if docs != self._docs:
            self._terms.clear()
        self._docs, self._tokens = docs, tokens

    def _lookup(self, pairs: Sequence[tuple[str, str]]) -> None:
        missing = [p for p in dict.fromkeys(pairs) if p not in self._terms]
        if not missing:
            return
        found = self.store.lookup_terms(self.kind_id, [(FIELD_IDS[f], t) for f, t in missing])
        for f, t in missing:
            self._terms[(f, t)] = found.get((FIELD_IDS[f], t), (0, 0))
        if len(self._terms) > 200_000:  # a long-running server: keep the cache bounded
            self._terms.clear()

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

    def search(self, weighted_terms: list[tuple[str, str, float]], k: int,
               documents: Sequence[int] | None = None) -> list[KeywordHit]:
        """BM25 over (field, term, weight) clauses, as ``hoidap.index._Part.search``."""
        if not self.with_bigrams:
            weighted_terms = [c for c in weighted_terms if c[0] not in BIGRAM_FIELDS]
        if time.monotonic() - self._loaded > STATS_SECONDS:
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
            rows = self.store.read("SELECT sid, terms FROM sentences WHERE dno = ANY(%s::bigint[])",
                                   (list(documents),))
            return score_rows(rows, [(f, t, w, c1) for (f, t), w, c1 in zip(kept, ws, c1s, strict=True)], k)
        params: tuple[object, ...] = (tids, ws, [C0] * len(tids), c1s)
        if documents is None:
            rows = self.store.read(_SCORE_SQL.format(where=""), (*params, k))
        else:
            rows = self.store.read(_SCORE_SQL.format(where="WHERE u.key = ANY(%s::bigint[])"),
                                   (*params, list(documents), k))
        return [KeywordHit(int(key), float(score)) for key, score in rows]


class PgIndex:
    """The keyword index of a ``PgStore``: sentence and document BM25 over its postings."""

    def __init__(self, store: PgStore, root: Path) -> None:
        # root: only a place for the server's reload stamps, which never change
        # here (every query reads the database's committed state).
        self.root = root
        self.store = store
        self.sentences = PgPart(store, "sentences")
        self.documents = PgPart(store, "documents")

    def sync(self, sentence_rows: Iterator[tuple[int, int, str, str]] | None = None,
             document_rows: Iterator[tuple[int, str]] | None = None) -> tuple[int, int]:
        self.reload()  # the store wrote postings in the same transaction as the rows
        return 0, 0

    def same_statement(self, dup_key: str, limit: int) -> list[int]:
        """Sentence ids sharing ``dup_key``, in order: the store's own index on it answers."""
        return self.store.same_statement(dup_key, limit)

    def reload(self) -> None:
        self.sentences.reload()
        self.documents.reload()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Nothing to hold: the store writes postings in each batch's own transaction."""
        yield
