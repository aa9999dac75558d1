"""Choosing the answer among candidate sentences, and how sure to be.

Confidence rests on one absolute signal, ``coverage``: the IDF-weighted share
of the question's topic terms that the evidence sentence contains. BM25 scores
are relative to the collection and query, so they order candidates but cannot
say "the collection does not answer this" (a gold-price question asked of
diplomacy news still gets a top sentence, covering none of its rare terms).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hoidap.answer import extract, question_kind
from hoidap.index import KeywordIndex
from hoidap.models import Hit
from hoidap.normalize import tokenize
from hoidap.retrieve import QUESTION_WORDS, Query, parse_query

# Candidate groups (distinct statements) examined for an answer span, and the
# bonus per unit of extraction score added to a candidate's fused retrieval
# score: extraction quality may reorder close candidates, never overturn a
# clear retrieval winner. Chosen by a grid on viquad1_dev (k 1/3/5/8, bonus
# 0-1.2): k=5, bonus=0.3 lifted F1 0.4375 -> 0.4473 and evidence@1
# 0.7939 -> 0.7987 (ViNewsQA, not tuned on: F1 0.474 -> 0.481).
CANDIDATE_GROUPS = 5
EXTRACTION_BONUS = 0.3
# Confidence = support * (BASE + (1 - BASE) * extraction score): a sentence
# covering the question fully is evidence even when no typed span was found.
EXTRACTION_BASE = 0.6
# Support mixes single-term coverage with coverage of the question's adjacent
# term pairs: off-topic questions match stray syllables ("giá" inside "đánh
# giá"), on-topic ones match phrases. 0.3 gave the best balanced accuracy
# (0.856 vs 0.842 for terms alone) separating ViNewsQA questions asked of their
# own collection from the same questions asked of ViQuAD's (off-topic).
BIGRAM_WEIGHT = 0.3
# A question with several content phrases of which the evidence repeats none
# matches only stray syllables ("Giá vàng hôm nay" vs "Hôm qua ... đánh
# giá"): its support is scaled down. 0.75 raised the balanced accuracy above
# from 0.858 to 0.862 for -0.003 ViNewsQA F1 (0.6 measured no better).
MIN_PHRASES = 2
NO_PHRASE_FACTOR = 0.75


@dataclass(frozen=True)
class Choice:
    group: int  # index of the chosen group of hits
    text: str  # the short answer
    confidence: float
    kind: str


def idf(df: int, n: int) -> float:
    """BM25 inverse document frequency (Robertson & Zaragoza 2009, eq. 3.3; Lucene's +1 form)."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def coverage(query: Query, text: str, index: KeywordIndex) -> float:
    """IDF-weighted share of the query's distinct terms found in ``text`` (0..1)."""
    toks = tokenize(text)
    field, q_terms = ("acc", query.norm) if query.marked else ("plain", query.plain)
    have = {t.norm for t in toks} if query.marked else {t.plain for t in toks}
    if query.marked:  # a term typed with marks also counts when the text lacks them
        have |= {t.plain for t in toks}
        q_terms_plain = dict(zip(query.norm, query.plain, strict=True))
    n = max(index.sentences.num_docs(), 1)
    total = got = 0.0
    for term in dict.fromkeys(q_terms):
        w = idf(index.sentences.doc_freq(field, term), n)
        total += w
        if term in have:
            got += w
        elif query.marked and q_terms_plain[term] in have:
            got += 0.5 * w
    return got / total if total else 0.0


def bigram_coverage(question: str, text: str, index: KeywordIndex) -> float:
    """IDF-weighted share of the question's adjacent term pairs found adjacent in ``text``."""
    q = [t.plain for t in tokenize(question)]
    s = [t.plain for t in tokenize(text)]
    have = set(zip(s, s[1:], strict=False))
    n = max(index.sentences.num_docs(), 1)
    total = got = 0.0
    for a, b in dict.fromkeys(zip(q, q[1:], strict=False)):
        if a in QUESTION_WORDS and b in QUESTION_WORDS:
            continue
        w = idf(index.sentences.doc_freq("plain", a), n) + idf(index.sentences.doc_freq("plain", b), n)
        total += w
        if (a, b) in have:
            got += w
    return got / total if total else 0.0


def support(question: str, query: Query, text: str, index: KeywordIndex) -> float:
    """How much of the question ``text`` states (0..1): the basis of confidence."""
    pairs = bigram_coverage(question, text, index)
    value = (1 - BIGRAM_WEIGHT) * coverage(query, text, index) + BIGRAM_WEIGHT * pairs
    if pairs == 0.0 and len(query.bigrams) >= MIN_PHRASES:
        value *= NO_PHRASE_FACTOR
    return value


def choose(question: str, groups: Sequence[Sequence[Hit]], index: KeywordIndex) -> Choice | None:
    """The best answer span among the top candidate statements, or None with no candidates."""
    if not groups:
        return None
    query = parse_query(question)
    kind = question_kind(question)
    best: tuple[float, int, str, float, float] | None = None
    for gi, group in enumerate(groups[:CANDIDATE_GROUPS]):
        head = group[0]
        ex = extract(question, head.text)
        ex_score = ex.score if ex else 0.0
        span = head.text[ex.start : ex.end] if ex else head.text
        rank_score = head.score + EXTRACTION_BONUS * ex_score
        if best is None or rank_score > best[0]:
            best = (rank_score, gi, span, ex_score, support(question, query, head.text, index))
    assert best is not None
    _, gi, span, ex_score, cov = best
    confidence = cov * (EXTRACTION_BASE + (1 - EXTRACTION_BASE) * ex_score)
    return Choice(gi, span.strip(), min(1.0, confidence), kind)
