"""Briefing: one cited page from many articles about an event.

Extractive: every line of a briefing is a sentence of an article, cited with
the original offsets of every document that states it (near-duplicates are
merged by ``evidence``, so a syndicated sentence appears once with all its
sources). Three steps:

1. Salience. Each body sentence gets a learned linear score of ``FEATURES``,
   built from the ``SIGNALS``: TF-IDF cosine to the centroid of all the
   sentences, cross-document support (how many documents share its word pairs;
   how much of it the other articles restate), overlap with the titles (all
   and its own article's) and with the articles' first sentences, its position
   in its article and its article's place in the list, its length, its
   density of figures, names, content words, commas and quotes, and marks of
   captions and fragments. Each signal enters three times: as is, standardised
   over the briefing's sentences (what counts is how a sentence compares with
   its neighbours) and divided by the number of articles (with two or three
   articles, titles and leads say more and cross-document support less). For a
   query, plus ``W_QUERY`` times the share of query words it holds.
2. Selection by maximal marginal relevance (Carbonell & Goldstein 1998):
   salience minus the word-pair overlap with what is already chosen; a
   near-duplicate of a chosen sentence is never chosen.
3. Order: by the date of the article (undated last); within a date, the article
   whose best chosen sentence is most salient first (news writing's inverted
   pyramid; the order articles were stored in says nothing); each article's
   sentences in its own narrative order. Out of fold (``benchmarks/rouge_brief.py``),
   against storage order: ViMs ROUGE-1/2/L 0.5768 / 0.4009 / 0.3679 -> 0.5777 /
   0.4031 / 0.3715, AbMuSu 0.5432 / 0.3827 / 0.3658 -> 0.5467 / 0.3874 / 0.3640
   (decided by that reasoning and its criterion declared before the run).

The model (``data/brief_model.json``, loaded once at import; scored in plain
Python) is a ridge regression trained by ``scripts/train_brief.py`` on the two
Vietnamese multi-document summarisation sets, ViMs and AbMuSu train (every
cluster of both): a sentence's label is whether an oracle extract of its
cluster (sentences picked by their ROUGE-2 precision against the human
summaries) holds it; the MMR redundancy penalty is chosen by cross-validation
on the training clusters. Because the shipped model has seen those sets,
``benchmarks/rouge_brief.py`` never scores it on them: it retrains the model
by the same procedure once per fold of a 5-fold split by cluster and briefs
each cluster with the model that did not see it (out-of-fold figures).
``W_QUERY`` is a fixed weight (no training data has queries). Before v2 the
model was trained on VietNews pseudo-clusters (single-document abstracts):
ROUGE-2 0.367 on ViMs, 0.372 on AbMuSu, against 0.402 and 0.382 out-of-fold now.
"""

from __future__ import annotations

import gc
import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hoidap.errors import HoidapError
from hoidap.models import Article, Briefing, BriefSentence, Conflict, Facts, Figure, Hit
from hoidap.protocols import Statements, Store
from hoidap.search.evidence import NEAR_DUPLICATE_JACCARD, cite, group_hits, jaccard
from hoidap.shipped import trained_model
from hoidap.text.lexicons import function_words
from hoidap.text.normalize import has_diacritics, statement_key, strip_diacritics, terms

# The per-sentence salience signals, in the order of ``_signals()``'s rows.
SIGNALS = (
    "centroid",  # TF-IDF cosine to the centroid of all the candidate sentences
    "support",  # word pairs shared with other documents, per syllable and document
    "title_words",  # share of the sentence's content words found in a title
    "title_pairs",  # share of the titles' word pairs found in the sentence
    "lead",  # 1 / (1 + position in the article)
    "relpos",  # position / (candidates in the article - 1)
    "log_length",  # log of the syllable count
    "digits",  # share of syllables that start with a digit (figures, dates)
    "capitals",  # share of capitalised tokens after the first (names)
    "content",  # share of syllables that are not stopwords
    "commas",  # commas per syllable
    "quote",  # holds a quotation mark
    "cover",  # mean over the other articles of the best share of its content pairs one of their sentences holds
    "max_cover",  # the best such share in any other article (a restatement elsewhere)
    "first",  # the first candidate of its article
    "article_rank",  # 1 / (1 + the article's position in the briefed list)
    "lead_pairs",  # its content pairs found in the articles' first sentences, per pair and article
    "length",  # syllable count
    "attribution",  # opens with "Theo", "Ảnh", "Video", "Nguồn", "Clip" (credits, captions, hearsay)
    "unfinished",  # does not end with . ! ? a quote or an ellipsis (a caption or a fragment)
    "own_title_words",  # share of its content words in its own article's title
    "own_title_pairs",  # share of its own title's word pairs it holds
    "own_lead_pairs",  # share of its word pairs found in its article's first sentence (1 for that one)
    "lowercase_start",  # starts with neither a capital nor a digit (a split fragment)
    "articles",  # number of articles briefed
)
# The model's inputs: each signal as is, standardised within the briefing (what matters is how a
# sentence compares with the others of the same articles), and divided by the number of articles
# (with few articles, titles and leads say more and cross-document support less).
FEATURES = (*SIGNALS, *(f"z:{n}" for n in SIGNALS), *(f"{n}/articles" for n in SIGNALS))


MODEL = trained_model("brief_model.json", FEATURES)
# A query's words dominate the other features when the user asked for a topic
# (a fixed weight: no training data has queries).
W_QUERY = 2.0
# MMR: the penalty per unit of word-pair overlap with an already chosen sentence.
REDUNDANCY = float(MODEL["redundancy"])
# MMR: the bonus of a sentence whose article already has one chosen (in the model's salience
# units): a briefing that follows one article's account a little longer reads as a story, where
# sentences gathered one from each article read as a list. Chosen on the design half of both
# summarisation sets (clusters of even index; ``benchmarks/rouge_brief.py``, out-of-fold models),
# ROUGE-2 / ROUGE-L, ViMs and AbMuSu: 0 0.4016 / 0.3727 and 0.3860 / 0.3623; 0.05 0.4010 / 0.3753
# and 0.3862 / 0.3637; **0.1** 0.4027 / 0.3791 and 0.3844 / 0.3637; 0.15 0.4015 / 0.3798 and
# 0.3840 / 0.3641; 0.2 0.3962 / 0.3772 and 0.3848 / 0.3652 (lead's ROUGE-L on ViMs 0.3775).
# A bonus for the sentence right after a chosen one (0.05-0.4) or for the first article only
# (0.1, 0.2) measured lower on both. The other half only reported (CHANGELOG).
CONTINUITY = 0.1
# Sentences shorter than this (in syllables) are headings or fragments, not news.
MIN_SENTENCE_SYLLABLES = 6
DEFAULT_MAX_SENTENCES = 8
# Key figures: a figure in one of an article's first sentences is its headline fact.
LEAD_SENTENCES = 3
# A briefing reads at most this many articles (the best for the query, else
# the first stored); beyond that one page cannot say anything useful about all.
MAX_DOCUMENTS = 200
# For --query: sentences fetched, and the share of the best hit's score an
# article's best sentence needs to be briefed.
QUERY_HITS = 200
QUERY_DOC_RATIO = 0.5
# A hit is about the query's topic only if its sentence holds at least this share of
# the query's content words (compared without diacritics for an unaccented query):
# a sentence on the topic names most of a short topic query, one on another topic
# shares a generic word ("Anh", "ngoại") at most. Set by that reasoning, not tuned;
# checked on the seeds ("bóng đá ngoại hạng Anh" over foreign affairs: no article).
QUERY_MIN_COVER = 0.5

# Syllables that carry no topic: never a centroid term, and a word pair made of
# two of them earns no support (data/function_words.json).
STOPWORDS = frozenset(function_words("topic_stopwords"))

_TOKEN_RE = re.compile(r"[^\W_]+")
_QUOTES = ('"', "“", "”")
_ATTRIBUTION_RE = re.compile(r"(?i)\s*(theo|ảnh|video|nguồn|clip)\b")
_ENDINGS = frozenset('.!?"”…\'')


@dataclass(frozen=True)
class _Candidate:
    doc: int  # position of the article in the briefed list
    article: Article
    index: int  # the sentence's position in its article
    start: int
    end: int
    text: str
    terms: tuple[str, ...]
    pairs: frozenset[tuple[str, str]]
    words: frozenset[str]
    plain: frozenset[str]  # diacritic-free terms, as ``evidence`` compares sentences
    dup_key: str


def _candidates(articles: Sequence[Article]) -> list[_Candidate]:
    out = []
    for d, art in enumerate(articles):
        for s in art.sentences:
            ts = tuple(terms(s.text))
            # A question, or a sentence that dangles on ":" (its list or quote follows in
            # the next lines), says nothing alone.
            if len(ts) < MIN_SENTENCE_SYLLABLES or s.text.rstrip().endswith(("?", ":")):
                continue
            out.append(_Candidate(
                d, art, s.index, s.start, s.end, s.text, ts, frozenset(zip(ts, ts[1:], strict=False)),
                frozenset(ts), frozenset(strip_diacritics(t) for t in ts), statement_key(" ".join(ts)),
            ))
    return out


def _signals(cands: Sequence[_Candidate], articles: Sequence[Article]) -> list[list[float]]:
    """One row of ``SIGNALS`` per candidate."""
    n = len(cands)
    ndocs = max(1, len(articles))
    # Centroid cosine with sentence-level IDF.
    sf = Counter(w for c in cands for w in c.words)
    idf = {w: math.log(n / k) for w, k in sf.items()}
    centroid: defaultdict[str, float] = defaultdict(float)
    for c in cands:
        for t in c.terms:
            if t not in STOPWORDS:
                centroid[t] += idf[t]
    cnorm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    # Titles, all and each article's own.
    title_words: set[str] = set()
    title_pairs: set[tuple[str, str]] = set()
    own_titles = []
    for art in articles:
        tt = terms(art.title or "")
        own_titles.append(({t for t in tt if t not in STOPWORDS}, set(zip(tt, tt[1:], strict=False))))
        title_words |= own_titles[-1][0]
        title_pairs |= own_titles[-1][1]
    doc_len = Counter(c.doc for c in cands)
    # Content pairs (not two stopwords), their sentences, and each article's first candidate.
    content_pairs = [frozenset(p for p in c.pairs if not (p[0] in STOPWORDS and p[1] in STOPWORDS))
                     for c in cands]
    # Each pair's sentences, by article: a sentence is compared only with other articles'
    # (walking its own article's holders too made one long article cost the square of its length).
    # Its number of articles is the pair's cross-document support (a pass over every sentence per
    # article, which this replaced, cost the number of articles times the number of sentences).
    holders: defaultdict[tuple[str, str], dict[int, list[int]]] = defaultdict(dict)
    if ndocs > 1:  # one article: no pair is held by another, every cross-document signal is 0
        for i, cp in enumerate(content_pairs):
            for p in cp:
                holders[p].setdefault(cands[i].doc, []).append(i)
    first: dict[int, int] = {}
    for i, c in enumerate(cands):
        first.setdefault(c.doc, i)
    lead_pairs = Counter(p for i in first.values() for p in content_pairs[i])
    rows = []
    for i, c in enumerate(cands):
        tf = Counter(t for t in c.terms if t not in STOPWORDS)
        dot = sum(k * idf[t] * centroid[t] for t, k in tf.items())
        snorm = math.sqrt(sum((k * idf[t]) ** 2 for t, k in tf.items())) or 1.0
        cp = content_pairs[i]
        support = sum(len(holders[p]) for p in cp if len(holders[p]) >= 2) if ndocs > 1 else 0
        content = c.words - STOPWORDS
        nterms = len(c.terms)
        raw = _TOKEN_RE.findall(c.text)
        caps = sum(1 for t in raw[1:] if t[:1].isupper())
        # Best share of this sentence's content pairs held by one sentence of each other article
        # (through the pairs' holders: only sentences sharing a pair are compared).
        shared: Counter[int] = Counter()
        for p in cp if ndocs > 1 else ():
            # In sentence order, as one list of all holders was walked (the sums below then add
            # in the same order, to the bit).
            shared.update(heapq.merge(*(js for d, js in holders[p].items() if d != c.doc)))
        best: dict[int, float] = {}
        for j, k in shared.items():
            d = cands[j].doc
            if d != c.doc and k > best.get(d, 0):
                best[d] = k
        best = {d: k / len(cp) for d, k in best.items()}
        own_words, own_pairs = own_titles[c.doc]
        lead = cands[first[c.doc]]
        rows.append([
            dot / snorm / cnorm,
            support / nterms / ndocs,
            len(content & title_words) / len(content) if content else 0.0,
            len(c.pairs & title_pairs) / len(title_pairs) if title_pairs else 0.0,
            1.0 / (1 + c.index),
            c.index / max(1, doc_len[c.doc] - 1),
            math.log(nterms),
            sum(1 for t in c.terms if t[:1].isdigit()) / nterms,
            caps / max(1, len(raw) - 1),
            len(content) / nterms,
            c.text.count(",") / nterms,
            1.0 if any(q in c.text for q in _QUOTES) else 0.0,
            sum(best.values()) / max(1, ndocs - 1),
            max(best.values(), default=0.0),
            1.0 if first[c.doc] == i else 0.0,
            1.0 / (1 + c.doc),
            sum(lead_pairs[p] for p in cp) / max(1, len(cp)) / len(first),
            float(nterms),
            1.0 if _ATTRIBUTION_RE.match(c.text) else 0.0,
            0.0 if c.text.rstrip()[-1:] in _ENDINGS else 1.0,
            len(content & own_words) / len(content) if content else 0.0,
            len(c.pairs & own_pairs) / len(own_pairs) if own_pairs else 0.0,
            1.0 if lead is c else len(c.pairs & lead.pairs) / max(1, len(c.pairs)),
            0.0 if c.text[:1].isupper() or c.text[:1].isdigit() else 1.0,
            float(ndocs),
        ])
    return rows


def features(cands: Sequence[_Candidate], articles: Sequence[Article]) -> list[list[float]]:
    """One row of ``FEATURES`` per candidate (the model's input; no query term): the signals,
    the signals standardised over the candidates, the signals divided by the number of articles."""
    rows = _signals(cands, articles)
    if not rows:
        return []
    cols = list(zip(*rows, strict=True))
    means = [sum(col) / len(col) for col in cols]
    sds = [math.sqrt(sum((x - m) ** 2 for x in col) / len(col)) or 1.0 for col, m in zip(cols, means, strict=True)]
    ndocs = max(1, len(articles))
    return [row + [(x - m) / sd for x, m, sd in zip(row, means, sds, strict=True)] + [x / ndocs for x in row]
            for row in rows]


def _salience(cands: Sequence[_Candidate], articles: Sequence[Article], query: str | None,
              model: dict[str, Any] | None = None) -> list[float]:
    """The model's predicted relevance, plus ``W_QUERY`` times the share of query words held."""
    m = MODEL if model is None else model
    mean, scale, coef = m["mean"], m["scale"], m["coef"]
    intercept = float(m["intercept"])
    q_words = {t for t in terms(query or "") if t not in STOPWORDS}
    out = []
    for c, row in zip(cands, features(cands, articles), strict=True):
        score = intercept + sum(w * (x - mu) / s for w, x, mu, s in zip(coef, row, mean, scale, strict=True))
        if q_words:
            score += W_QUERY * len(q_words & c.words) / len(q_words)
        out.append(score)
    return out


def _same_statement(a: _Candidate, b: _Candidate) -> bool:
    """``evidence``'s rule: the same words whatever the marks, or term sets this similar."""
    return a.dup_key == b.dup_key or jaccard(a.plain, b.plain) >= NEAR_DUPLICATE_JACCARD


def _restates(a: _Candidate, b: _Candidate) -> bool:
    """``a`` says again what ``b`` says: the same statement, or one sentence nearly inside the
    other (a lead that a later sentence repeats with more detail)."""
    if _same_statement(a, b):
        return True
    small = min(len(a.plain), len(b.plain))
    return small > 0 and len(a.plain & b.plain) / small >= NEAR_DUPLICATE_JACCARD


def _select(cands: Sequence[_Candidate], scores: Sequence[float], max_sentences: int | None,
            max_words: int | None, redundancy: float | None = None, continuity: float = CONTINUITY) -> list[int]:
    """MMR until ``max_sentences`` are chosen or ``max_words`` syllables are reached, with
    ``continuity`` added for a sentence of an article already chosen from.

    The sentence that reaches ``max_words`` is kept whole (a length-limited
    evaluation, like ROUGE's ``-l``, cuts it).
    """
    penalty = REDUNDANCY if redundancy is None else redundancy
    chosen: list[int] = []
    docs: set[int] = set()
    words = 0
    left = set(range(len(cands)))
    while left and (max_sentences is None or len(chosen) < max_sentences) \
            and (max_words is None or words < max_words):
        best, best_v = -1, -math.inf
        for i in left:
            c = cands[i]
            overlap = max((len(c.pairs & cands[j].pairs) / len(c.pairs) for j in chosen), default=0.0) \
                if c.pairs else 0.0
            v = scores[i] - penalty * overlap + (continuity if c.doc in docs else 0.0)
            if v > best_v or (v == best_v and i < best):
                best, best_v = i, v
        left.discard(best)
        chosen.append(best)
        docs.add(cands[best].doc)
        words += len(cands[best].terms)
        left -= {i for i in left if _restates(cands[i], cands[best])}
    return chosen


def _date_key(art: Article) -> tuple[int, str]:
    return (0, art.date[:10]) if art.date else (1, "")


def on_topic(hits: Sequence[Hit], query: str) -> list[Hit]:
    """The hits whose sentence holds ``QUERY_MIN_COVER`` of the query's content words."""
    # Without diacritics only when the query has none: "hạng" and "hàng" are different words.
    fold = (lambda t: t) if has_diacritics(query) else strip_diacritics
    q = [fold(t) for t in terms(query)]
    words = {t for t in q if t not in STOPWORDS}
    if not words:
        return list(hits)
    # Most Vietnamese words are two syllables: a sentence on the topic holds one of the
    # query's syllable pairs too ("bóng đá"), not only syllables scattered over other words.
    pairs = set(zip(q, q[1:], strict=False)) if len(words) > 1 else set()
    need = QUERY_MIN_COVER * len(words)
    out = []
    for h in hits:
        ts = [fold(t) for t in terms(h.text)]
        if len(words & set(ts)) >= need and (not pairs or pairs & set(zip(ts, ts[1:], strict=False))):
            out.append(h)
    return out


def choose_articles(store: Store, doc_ids: Sequence[str] | None, hits: Sequence[Hit] | None,
                    query: str | None = None) -> list[Article]:
    """The articles to brief: ``doc_ids`` as given, else those with a hit on the query's
    topic (``on_topic``), else all."""
    if doc_ids:
        return [store.document(d) for d in dict.fromkeys(doc_ids)]
    if hits is not None:
        hits = on_topic(hits, query or "")
        if not hits:
            return []
        best: dict[str, float] = {}
        for h in hits:
            best[h.doc_id] = max(best.get(h.doc_id, 0.0), h.score)
        top = max(best.values())
        chosen = [d for d, s in sorted(best.items(), key=lambda kv: -kv[1]) if s >= QUERY_DOC_RATIO * top]
        return [store.document(d) for d in chosen[:MAX_DOCUMENTS]]
    return [store.document(i.doc_id) for i in store.documents()[:MAX_DOCUMENTS]]


def facts_of(articles: Sequence[Article]) -> Facts:
    """Figures, entities and cross-source comparisons of the articles."""
    from hoidap.briefing.conflicts import compare
    from hoidap.briefing.entities import extract_entities
    from hoidap.briefing.facts import extract_dates, extract_figures

    with _collector_paused():
        figures = extract_figures(articles)
        # Event dates are compared like figures ("24/8" vs "23/8") but are not listed as figures.
        compared = compare(figures + extract_dates(articles))
        return Facts(tuple(figures), tuple(extract_entities(articles)), tuple(compared))


def key_figures(figures: Sequence[Figure], conflicts: Sequence[Conflict],
                articles: Sequence[Article]) -> tuple[Figure, ...]:
    """The figures, most important first: stated by more sources, then in an article's
    lead (its first ``LEAD_SENTENCES``), then with a named measure ("quan hệ thương mại",
    a counted phrase of two words or more); spans of time and counts of times ("35 năm",
    "2 lần") last. Ties keep the articles' order. A figure that another source of its
    comparison states in the same words is left out (the comparison cites both).

    Ranked by what transfers to any cluster (sources, lead, naming), not fitted to a set.
    """
    from hoidap.briefing.claims import NOT_COMPARED

    sources: dict[int, int] = {}
    group: dict[int, int] = {}
    for g, c in enumerate(conflicts):
        n = len({f.citation.doc_id for f in c.members})
        for f in c.members:
            sources[id(f)] = n
            group[id(f)] = g
    lead = {(a.doc_id, s.start) for a in articles for s in a.sentences[:LEAD_SENTENCES]}
    # A headline's figure that its own body states too is listed from the body (the sentence
    # says more than the headline).
    in_body = {(f.citation.doc_id, f.value, f.unit) for f in figures if not f.citation.in_title}

    def key(k: int) -> tuple[int, int, int, int, int]:
        f = figures[k]
        unit = (f.unit or "").lower()
        named = bool(f.measure) or len((f.counts or "").split()) >= 2
        return (int(unit in NOT_COMPARED), -sources.get(id(f), 1),
                -int(f.citation.in_title or (f.citation.doc_id, f.citation.start) in lead), -int(named), k)

    # A figure restated word for word by another source of its comparison is shown once
    # (the comparison lists every source).
    shown: set[tuple[int, str]] = set()
    out = []
    for k in sorted(range(len(figures)), key=key):
        f = figures[k]
        if f.citation.in_title and (f.citation.doc_id, f.value, f.unit) in in_body:
            continue
        if id(f) in group:
            if (group[id(f)], f.text) in shown:
                continue
            shown.add((group[id(f)], f.text))
        out.append(f)
    return tuple(out)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a briefing is built. It allocates a few
    container objects per sentence (terms, pairs, sets, rows) that all live until it returns;
    every full collection walks all of them, so one long document cost more than its length
    (``benchmarks/long_document.py``, brief at 1M / 4M characters against 100k: x12.0 / x57.6
    for x10 / x40 with the collector, x9.4-11.6 / x46.0 without). Nothing here makes reference
    cycles: memory is freed by reference counts as before, and the collector runs on return."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(articles: Sequence[Article], store: Store, statements: Statements, *, query: str | None = None,
          max_sentences: int | None = None, max_words: int | None = None,
          with_facts: bool = True, model: dict[str, Any] | None = None) -> Briefing:
    """The briefing of ``articles`` (see the module docstring).

    ``model`` replaces the shipped salience model (``MODEL``, same keys): the benchmark's
    cross-validation briefs each cluster with a model that never saw it.
    """
    if max_sentences is not None and max_sentences < 1:
        raise HoidapError("max_sentences must be at least 1")
    if max_sentences is None and max_words is None:
        max_sentences = DEFAULT_MAX_SENTENCES
    with _collector_paused():
        return _build(articles, store, statements, query, max_sentences, max_words, with_facts, model)


def _build(articles: Sequence[Article], store: Store, statements: Statements, query: str | None,
           max_sentences: int | None, max_words: int | None, with_facts: bool,
           model: dict[str, Any] | None) -> Briefing:
    by_date = sorted(range(len(articles)), key=lambda d: (_date_key(articles[d]), d))
    ordered = [articles[d] for d in by_date]
    cands = _candidates(ordered)
    scores = _salience(cands, ordered, query, model) if cands else []
    redundancy = None if model is None else float(model["redundancy"])
    chosen = _select(cands, scores, max_sentences, max_words, redundancy) if cands else []
    # A day's articles, most salient first (news writing's inverted pyramid: the order articles were
    # stored in says nothing), each article's sentences in its own order.
    lead: dict[int, float] = {}
    for i in chosen:
        lead[cands[i].doc] = max(lead.get(cands[i].doc, -math.inf), scores[i])
    chosen.sort(key=lambda i: (_date_key(cands[i].article), -lead[cands[i].doc], cands[i].doc, cands[i].index))
    # Citations: each chosen sentence heads a group holding its near-duplicates in other articles.
    hits = [Hit(i, c.article.doc_id, c.start, c.end, c.text, scores[i], c.dup_key) for i, c in enumerate(cands)]
    heads = [hits[i] for i in chosen]
    near = [hits[k] for k, c in enumerate(cands) if k not in set(chosen)
            and any(_same_statement(c, cands[i]) for i in chosen)]
    groups = [g for g in group_hits(heads + near) if g[0].sentence_id in set(chosen)]
    cited = cite(groups, store, statements, len(groups))
    sentences = tuple(BriefSentence(c.sentence, (c,), c.date) for c in cited)
    facts = facts_of(ordered) if with_facts else Facts()
    return Briefing(sentences, key_figures(facts.figures, facts.conflicts, ordered), facts.entities, facts.conflicts,
                    tuple(a.doc_id for a in ordered), query)
