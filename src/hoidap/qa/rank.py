"""Choosing the answer sentence, and how sure to be.

Retrieval finds the article; which of its sentences answers is decided by a
small learned model (``data/rank_model.json``, gradient-boosted trees over the
``FEATURES`` of every sentence of that article: lexical overlap with the
question, its own BM25, position, the answer span found in it and the
question kind), trained on ViQuAD by ``scripts/train_rank.py`` and scored here
in plain Python (no scikit-learn at run time). It replaced a hand rule (fused
retrieval score + 0.3 x extraction score over the top 5 retrieved
statements), which chose a sentence holding the answer for 58% of ViNewsQA
questions whose article was right; the model reads the whole article because
the answer sentence is often not among the retrieved sentences at all.

Confidence rests on one absolute signal, ``support``: the IDF-weighted share
of the question's topic terms and term pairs that the sentence contains. BM25
scores are relative to the collection and query, so they order candidates but
cannot say "the collection does not answer this" (a gold-price question asked
of diplomacy news still gets a top sentence, covering none of its rare terms).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from hoidap.models import Hit, StoredSentence
from hoidap.protocols import KeywordIndex
from hoidap.qa.extract import KINDS, extract
from hoidap.qa.question import Question
from hoidap.search.bm25 import idf
from hoidap.search.query import QUESTION_WORDS, Query
from hoidap.shipped import trained_model
from hoidap.text.normalize import tokenize, tokens_of

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
# The article is the one holding the best of the top CANDIDATE_GROUPS retrieved
# statements by fused score + EXTRACTION_BONUS x extraction score (the rule the
# sentence model replaced; tuned on viquad1_dev, ViNewsQA evidence@1 0.807 vs
# 0.801 for the top retrieved sentence's article).
CANDIDATE_GROUPS = 5
EXTRACTION_BONUS = 0.3
# Longest articles read whole; beyond, only their retrieved sentences and the
# first ones (news puts the facts first). 200 covers every ViNewsQA article.
MAX_SENTENCES = 200

# The ranker's margin reported for an article of one sentence (no runner-up).
MARGIN_ALONE = 5.0

_NUMERIC = frozenset(("number", "date"))
_NAMES = frozenset(("person", "place"))
_DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True)
class Choice:
    hit: Hit  # the sentence the answer comes from (cited first)
    text: str  # the short answer
    confidence: float  # calibrated: the probability that the answer is right
    support: float  # how much of the question the sentence states (rank.confidence)
    kind: str
    # The article's sentences the ranker read, best first (the trained reader reads the first few).
    ranked: tuple[StoredSentence, ...] = ()
    no_answer: float | None = None  # the trained reader's no-answer score, when it read
    # Whether ``confidence`` is the reader's calibrated one (``Reader.confidence``), gated by
    # ``Settings.min_reader_confidence`` instead of the rules' support and confidence gates.
    by_reader: bool = False


@dataclass(frozen=True)
class QuestionTerms:
    """A question's terms with their sentence-level IDF, computed once per question."""

    query: Query
    terms: dict[str, float]  # topic term (accented when typed so, else plain) -> IDF
    plain_of: dict[str, str]  # topic term -> its plain form
    pairs: dict[tuple[str, str], float]  # adjacent plain pairs -> summed IDF
    plain: tuple[str, ...]  # every plain syllable of the question, question words included


def question_terms(question: Question, index: KeywordIndex,
                   dfs: Mapping[tuple[str, str], int] | None = None) -> QuestionTerms:
    """The question's terms and pairs weighted by their sentence IDF. ``dfs``: sentence
    document frequencies already read (``retrieve.Plan.sentence_dfs``); the others are
    read in one call."""
    query = question.query
    part = index.sentences
    n = max(part.num_docs(), 1)
    field, q_terms = ("acc", query.norm) if query.marked else ("plain", query.plain)
    q = tuple(t.plain for t in tokenize(question.text))
    pair_list = [(a, b) for a, b in dict.fromkeys(zip(q, q[1:], strict=False))
                 if not (a in QUESTION_WORDS and b in QUESTION_WORDS)]
    wanted = [(field, t) for t in q_terms] + [("plain", t) for p in pair_list for t in p]
    known = sentence_dfs(index, wanted, dfs)
    terms = {t: idf(known[(field, t)], n) for t in dict.fromkeys(q_terms)}
    plain_of = dict(zip(q_terms, query.plain, strict=True))
    pairs = {(a, b): idf(known[("plain", a)], n) + idf(known[("plain", b)], n) for a, b in pair_list}
    return QuestionTerms(query, terms, plain_of, pairs, q)


def sentence_dfs(index: KeywordIndex, pairs: Sequence[tuple[str, str]],
                 known: Mapping[tuple[str, str], int] | None = None) -> dict[tuple[str, str], int]:
    """Sentence document frequencies of ``pairs`` (field, term): those in ``known`` (read on the
    way, ``retrieve.Plan.sentence_dfs``) as they are, the others read in one call."""
    got = {w: known[w] for w in pairs if known and w in known}
    missing = [w for w in dict.fromkeys(pairs) if w not in got]
    if missing:
        got.update(zip(missing, index.sentences.doc_freqs(missing), strict=True))
    return got


def document_dfs(index: KeywordIndex, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Article document frequencies of ``pairs`` (field, term): the articles' own index, titles
    included (``sentence_dfs``'s twin for whole documents)."""
    return dict(zip(pairs, index.documents.doc_freqs(list(pairs)), strict=True))


def term_coverage(qt: QuestionTerms, norms: set[str], plains: set[str]) -> float:
    """IDF-weighted share of the question's distinct topic terms found in a sentence (0..1).

    A term typed with marks counts half when the sentence has it only without them.
    """
    total = sum(qt.terms.values())
    if not total:
        return 0.0
    got = 0.0
    for term, w in qt.terms.items():
        if qt.query.marked:
            got += w if term in norms else 0.5 * w if qt.plain_of[term] in plains else 0.0
        elif term in plains:
            got += w
    return got / total


def pair_coverage(qt: QuestionTerms, pairs: set[tuple[str, str]]) -> float:
    """IDF-weighted share of the question's adjacent term pairs found adjacent in a sentence."""
    total = sum(qt.pairs.values())
    return sum(w for p, w in qt.pairs.items() if p in pairs) / total if total else 0.0


def combine_support(cov: float, pairs: float, query: Query) -> float:
    value = (1 - BIGRAM_WEIGHT) * cov + BIGRAM_WEIGHT * pairs
    if pairs == 0.0 and len(query.bigrams) >= MIN_PHRASES:
        value *= NO_PHRASE_FACTOR
    return value


def confidence(support_: float, extraction: float) -> float:
    """The hand-set confidence the calibrated one replaced (kept as one of its features)."""
    return min(1.0, support_ * (EXTRACTION_BASE + (1 - EXTRACTION_BASE) * extraction))


# -- the learned sentence ranker ---------------------------------------------

# Features of one sentence, in the model's order. "*_vs_best" is the value minus
# the best value among the article's sentences; "prev_"/"next_" the neighbours'.
_BASE = (
    "coverage", "pair_coverage", "support", "trigram_coverage", "longest_run", "compactness",
    "missing_idf", "log_matched", "bm25", "retrieved",
    "log_position", "first", "relative_position", "log_length",
    "extraction", "no_extraction", "span_share", "span_digit", "sentence_digit", "span_capital",
)
_RELATIVE = ("coverage", "pair_coverage", "trigram_coverage", "longest_run", "bm25", "extraction")
FEATURES = (
    *_BASE,
    *(f"kind_{k}" for k in KINDS),
    "numeric_x_sentence_digit", "name_x_span_capital", "numeric_x_extraction", "name_x_extraction",
    *(f"{f}_vs_best" for f in _RELATIVE),
    "prev_coverage", "next_coverage", "log_sentences",
)


@dataclass(frozen=True)
class Candidate:
    """One sentence of the article, its answer span and its features (see ``FEATURES``)."""

    sentence: StoredSentence
    span: str  # the extracted answer, or the sentence when none was found
    extraction: float  # the extractor's score, 0 when it found no span
    support: float
    features: tuple[float, ...]


def candidates(question: Question, sentences: Sequence[StoredSentence], bm25: dict[int, float],
               index: KeywordIndex, dfs: Mapping[tuple[str, str], int] | None = None) -> list[Candidate]:
    """Every sentence of one article as a ranker candidate. ``bm25``: sid -> normalised sentence BM25;
    ``dfs``: ``question_terms``."""
    qt = question_terms(question, index, dfs)
    kind = question.kind
    numeric, name = float(kind in _NUMERIC), float(kind in _NAMES)
    onehot = [float(kind == k) for k in KINDS]
    q_content = [t for t in qt.plain if t not in QUESTION_WORDS]
    q_tri = set(zip(qt.plain, qt.plain[1:], qt.plain[2:], strict=False))
    plain_idf = {qt.plain_of[t]: w for t, w in qt.terms.items()}
    max_idf = max(plain_idf.values(), default=1.0) or 1.0
    n_sent = len(sentences)
    rows = []
    for s in sentences:
        text = s.text
        toks = tokens_of(text)
        plain = [t.plain for t in toks]
        have = set(plain)
        cov = term_coverage(qt, {t.norm for t in toks}, have)
        pairs = pair_coverage(qt, set(zip(plain, plain[1:], strict=False)))
        ex = extract(question.text, text)
        ex_score = ex.score if ex else 0.0
        span = text[ex.start : ex.end] if ex else text
        words = span.split()[0 if ex and ex.start else 1 :]  # a sentence's first word is capitalised anyway
        span_cap = float(bool(ex) and any(w[:1].isupper() for w in words))
        sent_digit = float(bool(_DIGIT_RE.search(text)))
        n_words = max(len(plain), 1)
        tri = set(zip(plain, plain[1:], plain[2:], strict=False))
        base = (
            cov, pairs, combine_support(cov, pairs, qt.query),
            len(q_tri & tri) / len(q_tri) if q_tri else 0.0,
            longest_run(qt.plain, plain) / max(len(q_content), 1),
            compactness(set(plain_idf), plain),
            max((w for t, w in plain_idf.items() if t not in have), default=0.0) / max_idf,
            math.log1p(sum(t in have for t in plain_idf)),
            bm25.get(s.sid, 0.0), float(s.sid in bm25),
            math.log1p(s.index), float(s.index == 0), s.index / max(n_sent - 1, 1), math.log(n_words),
            ex_score, float(ex is None), len(span.split()) / n_words if ex else 1.0,
            float(bool(ex) and bool(_DIGIT_RE.search(span))), sent_digit, span_cap,
        )
        rows.append((s, span.strip(), ex_score, [*base, *onehot, numeric * sent_digit, name * span_cap,
                                                 numeric * ex_score, name * ex_score]))
    where = {f: _BASE.index(f) for f in _RELATIVE}
    best = {f: max((r[3][j] for r in rows), default=0.0) for f, j in where.items()}
    cov_i = _BASE.index("coverage")
    out = []
    for i, (s, span, ex_score, f) in enumerate(rows):
        prev_cov = rows[i - 1][3][cov_i] if i > 0 else 0.0
        next_cov = rows[i + 1][3][cov_i] if i + 1 < len(rows) else 0.0
        feats = (*f, *(f[where[k]] - best[k] for k in _RELATIVE), prev_cov, next_cov, math.log(n_sent))
        out.append(Candidate(s, span, ex_score, f[_BASE.index("support")], feats))
    return out


def compactness(terms: set[str], s: Sequence[str]) -> float:
    """Matched question terms over the length of the shortest stretch of ``s`` holding them all."""
    pos = [i for i, t in enumerate(s) if t in terms]
    want = len({s[i] for i in pos})
    if not want:
        return 0.0
    best = len(s)
    count: dict[str, int] = {}
    lo = 0
    for hi in pos:
        count[s[hi]] = count.get(s[hi], 0) + 1
        while len(count) == want:
            best = min(best, hi - pos[lo] + 1)
            t = s[pos[lo]]
            count[t] -= 1
            if not count[t]:
                del count[t]
            lo += 1
    return want / best


def longest_run(q: Sequence[str], s: Sequence[str]) -> int:
    """Length of the longest run of question syllables found contiguous in the sentence."""
    best = 0
    prev = [0] * (len(s) + 1)
    for a in q:
        cur = [0] * (len(s) + 1)
        for j, b in enumerate(s):
            if a == b:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


@lru_cache(maxsize=1)
def model() -> dict[str, Any]:
    """``data/rank_model.json``, read once."""
    return trained_model("rank_model.json", FEATURES)


def score_with(init: float, trees: Sequence[dict[str, list[Any]]], features: Sequence[float]) -> float:
    """A boosted-trees score: ``init`` plus the value of the leaf each tree sends ``features`` to."""
    total = init
    for t in trees:
        node = 0
        left, right, feature, threshold = t["left"], t["right"], t["feature"], t["threshold"]
        while left[node] != -1:
            node = left[node] if features[feature[node]] <= threshold[node] else right[node]
        total += t["value"][node]
    return float(total)


@dataclass(frozen=True)
class Forest:
    """Boosted trees as flat arrays, every tree walked at once (``scores``)."""

    init: float
    roots: np.ndarray  # each tree's first node
    left: np.ndarray  # a leaf's children are itself
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    depth: int


def forest(init: float, trees: Sequence[dict[str, list[Any]]]) -> Forest:
    """``trees`` (as ``score_with`` reads them) flattened into one ``Forest``."""
    sizes = [len(t["left"]) for t in trees]
    roots = np.cumsum([0, *sizes[:-1]])
    node = np.arange(sum(sizes))
    left = np.concatenate([np.asarray(t["left"]) for t in trees]) + np.repeat(roots, sizes)
    right = np.concatenate([np.asarray(t["right"]) for t in trees]) + np.repeat(roots, sizes)
    leaf = np.concatenate([np.asarray(t["left"]) == -1 for t in trees])
    left, right = np.where(leaf, node, left), np.where(leaf, node, right)
    feature = np.where(leaf, 0, np.concatenate([np.asarray(t["feature"]) for t in trees]))
    depth, level = 0, roots
    while len(inner := level[~leaf[level]]):
        level, depth = np.concatenate([left[inner], right[inner]]), depth + 1
    return Forest(float(init), roots, left, right, feature,
                  np.concatenate([np.asarray(t["threshold"], dtype=np.float64) for t in trees]),
                  np.concatenate([np.asarray(t["value"], dtype=np.float64) for t in trees]), depth)


@lru_cache(maxsize=1)
def model_forest() -> Forest:
    m = model()
    return forest(m["init"], m["trees"])


def scores(f: Forest, rows: Sequence[Sequence[float]]) -> list[float]:
    """``score_with`` of each row, equal to the bit: the trees' leaf values are added to
    ``init`` one after another (a cumulative sum), as the loop adds them. A question's
    ~15 candidates through 150 trees: ~0.1 ms, against ~0.6 ms one candidate at a time."""
    if not rows:
        return []
    x = np.asarray(rows, dtype=np.float64)
    at = np.broadcast_to(f.roots, (len(x), len(f.roots)))
    which = np.arange(len(x))[:, None]
    for _ in range(f.depth):
        at = np.where(x[which, f.feature[at]] <= f.threshold[at], f.left[at], f.right[at])
    totals = np.cumsum(np.concatenate([np.full((len(x), 1), f.init), f.value[at]], axis=1), axis=1)
    return [float(v) for v in totals[:, -1]]


# What the calibrated confidence reads of the chosen sentence: how much of the
# question it states, the answer span, and how clearly the ranker preferred it.
CONFIDENCE_FEATURES = (
    "hand_confidence", "support", "coverage", "pair_coverage", "missing_idf", "log_matched", "bm25",
    "extraction", "no_extraction", "logit", "margin", *(f"kind_{k}" for k in KINDS),
)


def confidence_features(best: Candidate, logit: float, margin: float) -> tuple[float, ...]:
    f = dict(zip(FEATURES, best.features, strict=True))
    return (confidence(best.support, best.extraction), best.support, f["coverage"], f["pair_coverage"],
            f["missing_idf"], f["log_matched"], f["bm25"], best.extraction, f["no_extraction"],
            logit, margin, *(f[f"kind_{k}"] for k in KINDS))


def logistic(c: Mapping[str, Any], features: Sequence[float]) -> float:
    """The probability of a logistic model over standardised features, as the training scripts
    write it (``intercept``, ``coef``, ``mean``, ``scale``)."""
    z = c["intercept"] + sum(w * (x - m) / sd for w, x, m, sd in
                             zip(c["coef"], features, c["mean"], c["scale"], strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def calibrated(features: Sequence[float]) -> float:
    """P(the answer is right) by the logistic model of ``rank_model.json`` (Platt 1999 style)."""
    return logistic(model()["confidence"], features)


def ranking(cands: Sequence[Candidate], bm25: dict[int, float], scorer: Any = None) -> list[tuple[float, int]]:
    """(score, index into ``cands``) of every candidate, best first; ties by BM25, then position."""
    logits = [scorer(c.features) for c in cands] if scorer else scores(model_forest(), [c.features for c in cands])
    scored = sorted(((logit, bm25.get(c.sentence.sid, 0.0), -c.sentence.index, i)
                     for i, (logit, c) in enumerate(zip(logits, cands, strict=True))), reverse=True)
    return [(logit, i) for logit, _, _, i in scored]


def best_candidate(cands: Sequence[Candidate], bm25: dict[int, float],
                   scorer: Any = None) -> tuple[Candidate, float, float]:
    """The top-scored candidate, its score and its margin over the next one."""
    order = ranking(cands, bm25, scorer)
    top = order[0][0]
    margin = top - order[1][0] if len(order) > 1 else MARGIN_ALONE
    return cands[order[0][1]], top, margin


def article_sentences(hits: Sequence[Hit], sentences: Sequence[StoredSentence]) -> list[StoredSentence]:
    """The sentences of the top article the ranker reads: all of them, up to ``MAX_SENTENCES``."""
    if len(sentences) <= MAX_SENTENCES:
        return list(sentences)
    retrieved = {h.sentence_id for h in hits}
    return [s for s in sentences if s.index < MAX_SENTENCES // 2 or s.sid in retrieved][:MAX_SENTENCES]


def choose_document(question: Question, groups: Sequence[Sequence[Hit]]) -> str | None:
    """The article to answer from: retrieval score, helped by a typed answer span in its statement."""
    best: tuple[float, int, str] | None = None
    for i, group in enumerate(groups[:CANDIDATE_GROUPS]):
        head = group[0]
        ex = extract(question.text, head.text)
        key = (head.score + EXTRACTION_BONUS * (ex.score if ex else 0.0), -i, head.doc_id)
        best = key if best is None or key > best else best
    return best[2] if best else None


def hit_of(s: StoredSentence, hits: Sequence[Hit]) -> Hit:
    """The retrieval hit of a sentence, or one made for it (a sentence retrieval did not return)."""
    found = next((h for h in hits if h.sentence_id == s.sid), None)
    return found or Hit(s.sid, s.doc_id, s.start, s.end, s.text, 0.0, s.dup_key, 0.0, 0.0, s.index)


def choose(question: Question, hits: Sequence[Hit], sentences: Sequence[StoredSentence],
           index: KeywordIndex, dfs: Mapping[tuple[str, str], int] | None = None) -> Choice | None:
    """The best answer among ``sentences`` (those of the top article), or None without any."""
    if not sentences:
        return None
    bm25 = {h.sentence_id: h.sentence_score for h in hits}
    cands = candidates(question, article_sentences(hits, sentences), bm25, index, dfs)
    order = ranking(cands, bm25)
    # A sentence that asks (an interviewer's "xin Bộ trưởng cho biết ...?") states nothing:
    # the best sentence that does not end in "?" answers, when there is one. (ViQuAD fold B,
    # which has no such sentences, unchanged; the seeds' interview answered from its question.)
    statements = [o for o in order if not cands[o[1]].sentence.text.rstrip().endswith("?")]
    if statements:
        order = statements + [o for o in order if o not in statements]
    best, logit = cands[order[0][1]], order[0][0]
    margin = logit - order[1][0] if len(order) > 1 else MARGIN_ALONE
    hit = hit_of(best.sentence, hits)
    feats = confidence_features(best, logit, margin)
    return Choice(hit, best.span, calibrated(feats), feats[0], question.kind,
                  tuple(cands[i].sentence for _, i in order))
