"""Retrieval: from a question to ranked sentences.

Two BM25 searches are fused: whole documents first, then the sentences of the
best documents; a sentence's score is a weighted sum of its own normalised BM25
and its document's, because a question is usually answered by one sentence of
the article that matches it as a whole. Frequent terms are left out of a query
where they cost time and say little (``prune``). Diacritic-free queries search
the ``plain`` field only; queries with diacritics search the accented field and,
with a lower weight, the plain one, so exact-diacritic matches rank first but
unmarked text is still found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hoidap.models import Hit
from hoidap.protocols import Clause, KeywordIndex, KeywordPart, Store, VectorIndex
from hoidap.search.fields import BIGRAM_FIELDS
from hoidap.search.fusion import max_normalised, ranked, score_fusion
from hoidap.search.query import Query, clauses

# Candidates fetched from each index before fusion.
SENTENCE_CANDIDATES = 200
DOCUMENT_CANDIDATES = 50
# Share of the document score in a sentence's fused score (the rest is the
# sentence's own), each normalised by its maximum over the query's candidates.
# Tuned on viquad1_dev (0.6-0.8 give ViNewsQA evidence@1 0.80-0.81).
DOCUMENT_WEIGHT = 0.7
# Candidates each side brings to hybrid fusion (benchmarks/dense_retrieval.py measured
# the fusion weight with 100; more would change the min-max normalisation).
HYBRID_CANDIDATES = 100

# Frequent-term pruning leaves alone a term with at most this many postings,
# whatever its share: scoring a list this short costs well under a millisecond, so
# pruning it would trade answers for nothing, and collections of up to ~10,000
# sentences (every evaluation set) are searched exactly.
PRUNE_MIN_POSTINGS = 10_000


def prune(clauses: list[Clause], dfs: list[int], n: int, max_share: float,
          min_postings: int = PRUNE_MIN_POSTINGS) -> list[Clause]:
    """Drop the clauses whose term is in more than ``max_share`` of the ``n`` rows (and in more
    than ``min_postings``); keep at least the rarest.

    ``dfs[i]`` is the document frequency of ``clauses[i]``'s term. Scoring reads
    most postings of a frequent term (block-max WAND skips little when a question
    has a dozen terms of similar weight), so at 500,000 articles the terms in a
    tenth of the rows cost most of a question's time, while their idf adds little
    (idf(0.1 n) = 2.3, against 10-13 for the rare terms that decide the ranking).
    Measured with ViNewsQA's 500 articles inside the 500,000 (Settings.max_term_share):
    evidence@1 0.722 -> 0.720 at 0.1 and search p50 17.9 -> 6.6 ms. The same rule,
    from each index's own statistics, runs for the embedded and the PostgreSQL
    stores (``plan``), so both score the same clauses.
    """
    limit = max(max_share * n, min_postings)
    kept = [c for c, df in zip(clauses, dfs, strict=True) if df <= limit]
    if kept or not clauses:
        return kept
    rarest = min(dfs)
    return [c for c, df in zip(clauses, dfs, strict=True) if df == rarest]


@dataclass(frozen=True)
class Plan:
    """What a question searches: its query, the clauses of the sentence and of the
    document query, and the sentence-index document frequencies read on the way
    (the answer ranker weighs the question's terms with them: ``rank.question_terms``)."""

    query: Query
    sentences: list[Clause]
    documents: list[Clause]
    sentence_dfs: dict[tuple[str, str], int] = field(default_factory=dict)


def _pruned(part: KeywordPart, clauses: list[Clause], max_share: float | None, min_postings: int,
            read: dict[tuple[str, str], int] | None = None) -> list[Clause]:
    if max_share is None or not clauses:
        return clauses
    pairs = [(f, t) for f, t, _ in clauses]
    dfs = part.doc_freqs(pairs)
    if read is not None:
        read.update(zip(pairs, dfs, strict=True))
    return prune(clauses, dfs, part.num_docs(), max_share, min_postings)


def plan(index: KeywordIndex, query: Query, max_share: float | None = None,
         min_postings: int = PRUNE_MIN_POSTINGS) -> Plan:
    """The clauses of the sentence query and of the document query for ``query``.

    Sentences have no bigram fields; ``max_share`` prunes frequent terms per
    index (``prune``; None: keep every clause).
    """
    every = clauses(query)
    sentence = [c for c in every if c[0] not in BIGRAM_FIELDS]
    # Documents first: their clauses include the sentences', whose statistics a
    # PostgreSQL store then reads in the same query (PgPart.sibling).
    documents = _pruned(index.documents, every, max_share, min_postings)
    read: dict[tuple[str, str], int] = {}
    return Plan(query, _pruned(index.sentences, sentence, max_share, min_postings, read), documents, read)


def search(index: KeywordIndex, store: Store, query: Query, k: int,
           dense: VectorIndex | None = None, retriever: str = "bm25", dense_weight: float = 0.4,
           max_term_share: float | None = None) -> list[Hit]:
    """The ``k`` best sentences for ``query`` (``parse_query``), best first: ``search_planned``
    of its ``plan``."""
    return search_planned(index, store, plan(index, query, max_term_share), k, dense, retriever, dense_weight)


def search_planned(index: KeywordIndex, store: Store, p: Plan, k: int, dense: VectorIndex | None = None,
                   retriever: str = "bm25", dense_weight: float = 0.4,
                   documents: Sequence[int] | None = None) -> list[Hit]:
    """The ``k`` best sentences for a planned query, best first.

    ``retriever`` is "bm25", "dense" or "hybrid" (Settings.retriever); the last two
    need ``dense``. A hit's ``sentence_score`` and ``document_score`` stay the BM25
    ones whatever the retriever (0 for a sentence only the vectors found), so the
    answer ranker reads the same features. ``documents`` (document numbers: a
    ``Filters``' ``Store.allowed_documents``) restricts the search to those documents
    inside the document query, so the best documents are the best allowed ones; the
    vectors, which cannot search within documents, are filtered after their search.
    """
    if retriever != "bm25" and dense is None:
        raise ValueError(f"retriever {retriever!r} needs a dense index")
    sent_clauses, doc_clauses = p.sentences, p.documents
    doc_hits = index.documents.search(doc_clauses, DOCUMENT_CANDIDATES, documents=documents)
    # Sentences are searched within the best documents only: a sentence elsewhere
    # could only enter the top k on its own 30% share of the fused score. At 500,000
    # articles this is 6x cheaper than searching all 7.5 M sentences and finds the
    # answer's article more often (ViNewsQA asked inside them: evidence@1 0.710 ->
    # 0.720, evidence@5 0.765 -> 0.781); on ViNewsQA alone evidence@1 is unchanged.
    # Fusion needs only each candidate's document, which this lookup gives; the rows
    # (text, offsets) are read for the k sentences returned.
    best = [h.key for h in doc_hits]
    dno = store.document_sentences(best)
    sent_hits = index.sentences.search(sent_clauses, SENTENCE_CANDIDATES, documents=best)
    s_norm = max_normalised({h.key: h.score for h in sent_hits})
    d_norm = max_normalised({h.key: h.score for h in doc_hits})
    fused = {sid: (1 - DOCUMENT_WEIGHT) * s_norm.get(sid, 0.0) + DOCUMENT_WEIGHT * d_norm.get(d, 0.0)
             for sid, d in dno.items()}
    if dense is not None and retriever != "bm25":
        vectors = dict(dense.search(p.query.text, HYBRID_CANDIDATES))
        if retriever == "dense":
            fused = vectors
        else:
            best = ranked(fused)[:HYBRID_CANDIDATES]
            fused = score_fusion({sid: fused[sid] for sid in best}, vectors, dense_weight)
        dno.update(store.sentence_documents([sid for sid in fused if sid not in dno]))
        if documents is not None:
            allowed = set(documents)
            dno = {sid: d for sid, d in dno.items() if d in allowed}
    # Only sentences the store has (the keyword index never runs ahead of it, but
    # vectors may), best first, ties by sentence number.
    top = [sid for sid in ranked(fused) if sid in dno][:k]
    rows = {r.sid: r for r in store.sentences(top)}
    return [Hit(r.sid, r.doc_id, r.start, r.end, r.text, fused[sid], r.dup_key,
                s_norm.get(sid, 0.0), d_norm.get(r.dno, 0.0), r.index)
            for sid in top if (r := rows.get(sid)) is not None]
