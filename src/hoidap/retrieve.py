"""Retrieval: from a question to ranked sentences.

Two BM25 searches (sentences, and whole documents) are fused: a sentence's
score is a weighted sum of its own normalised BM25 and its document's, because
a question is usually answered by one sentence of the article that matches it
as a whole. Diacritic-free queries search the ``plain`` field only; queries
with diacritics search the accented field and, with a lower weight, the plain
one, so exact-diacritic matches rank first but unmarked text is still found.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoidap.index import KeywordIndex
from hoidap.models import Hit
from hoidap.normalize import has_diacritics, strip_diacritics, tokenize
from hoidap.store import Store

# Weight of the diacritic-free field when the query has marks. Low enough that
# an exact match always outranks a mark-less one on the same terms.
PLAIN_WEIGHT = 0.3
# Candidates fetched from each index before fusion.
SENTENCE_CANDIDATES = 200
DOCUMENT_CANDIDATES = 50
# Share of the document score in a sentence's fused score (the rest is the
# sentence's own). Tuned on viquad1_dev (open collection, evidence@1).
DOCUMENT_WEIGHT = 0.5

# Question words and function words that carry no topic: kept out of the
# query so that "bao nhiêu" or "là gì" do not pull in every sentence with them.
QUESTION_WORDS = frozenset(
    strip_diacritics(w)
    for w in ["ai", "gì", "nào", "đâu", "sao", "bao", "nhiêu", "mấy", "khi", "lúc", "thế", "nào", "vì", "tại", "là", "của", "và", "các", "những", "được", "có", "không", "hay", "hoặc", "thì", "mà", "với", "cho", "này", "đó", "ấy", "hả", "nhỉ", "vậy", "chưa"]
)


@dataclass(frozen=True)
class Query:
    """A parsed question: its topic terms, accented and plain."""

    norm: tuple[str, ...]
    plain: tuple[str, ...]
    marked: bool  # whether the user typed diacritics


def parse_query(question: str) -> Query:
    toks = [t for t in tokenize(question) if t.plain not in QUESTION_WORDS]
    if not toks:  # a question made only of function words: search with all of them
        toks = tokenize(question)
    return Query(tuple(t.norm for t in toks), tuple(t.plain for t in toks), has_diacritics(question))


def _clauses(q: Query) -> list[tuple[str, str, float]]:
    if not q.marked:
        return [("plain", t, 1.0) for t in q.plain]
    return [("acc", t, 1.0) for t in q.norm] + [("plain", t, PLAIN_WEIGHT) for t in q.plain]


def _normalised(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


def search(index: KeywordIndex, store: Store, question: str, k: int) -> list[Hit]:
    """The ``k`` best sentences for ``question``, best first."""
    q = parse_query(question)
    clauses = _clauses(q)
    sent_hits = index.sentences.search(clauses, SENTENCE_CANDIDATES)
    doc_hits = index.documents.search(clauses, DOCUMENT_CANDIDATES)
    if not sent_hits:
        return []
    s_norm = _normalised({h.key: h.score for h in sent_hits})
    d_norm = _normalised({h.key: h.score for h in doc_hits})
    rows = store.sentences([h.key for h in sent_hits])
    scored = sorted(
        (((1 - DOCUMENT_WEIGHT) * s_norm.get(r.sid, 0.0) + DOCUMENT_WEIGHT * d_norm.get(r.dno, 0.0), r)
         for r in rows),
        key=lambda pair: (-pair[0], pair[1].sid),
    )
    return [Hit(r.sid, r.doc_id, r.start, r.end, r.text, score, r.dup_key) for score, r in scored[:k]]
