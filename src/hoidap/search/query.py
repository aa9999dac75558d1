"""A question as a query: its topic terms and bigrams, and the BM25 clauses they make.

Question words ("bao nhiêu", "ai", ...) say what kind of answer is wanted, not
what the topic is, so they stay out of the query. Diacritic-free queries search
the ``plain`` field only; queries with diacritics search the accented field and,
with a lower weight, the plain one, so exact-diacritic matches rank first but
unmarked text is still found.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoidap.protocols import Clause
from hoidap.text.lexicons import function_words
from hoidap.text.normalize import has_diacritics, strip_diacritics, tokenize

# Weight of the diacritic-free field when the query has marks. Low enough that
# an exact match always outranks a mark-less one on the same terms.
PLAIN_WEIGHT = 0.3
# Weight of the bigram fields in the document score (benchmarks/retrieval_fields.py,
# tuned on viquad1_dev by MRR@10; 0.3-0.6 all within 0.01 evidence@1 on ViNewsQA).
BIGRAM_WEIGHT = 0.5
# Question words, matched on diacritic-free syllables: they say what kind of
# answer is wanted, not what the topic is, so they stay out of the query (and
# no bigram spans them). Function words stay: BM25 already weighs them little,
# and removing them measured no better.
# Longest phrases first (data/function_words.json keeps them so).
QUESTION_PHRASES = tuple(tuple(strip_diacritics(p).split()) for p in function_words("question_phrases"))
QUESTION_WORDS = frozenset(w for p in QUESTION_PHRASES for w in p)


@dataclass(frozen=True)
class Query:
    """A parsed question: its topic terms and bigrams, accented and plain."""

    norm: tuple[str, ...]
    plain: tuple[str, ...]
    marked: bool  # whether the user typed diacritics
    bigrams: tuple[tuple[str, str], ...] = ()  # (accented, plain) "a_b" pairs
    text: str = ""  # the question as typed (what the vector index embeds)


def _question_mask(plain: list[str]) -> list[bool]:
    """True for tokens that belong to a question phrase (longest phrases first)."""
    mask = [False] * len(plain)
    for phrase in QUESTION_PHRASES:
        n = len(phrase)
        for i in range(len(plain) - n + 1):
            if tuple(plain[i : i + n]) == phrase and not any(mask[i : i + n]):
                mask[i : i + n] = [True] * n
    return mask


def parse_query(question: str) -> Query:
    toks = tokenize(question)
    mask = _question_mask([t.plain for t in toks])
    if all(mask):  # a question made only of question words: search with all of them
        mask = [False] * len(toks)
    runs: list[list[int]] = [[]]
    for i, masked in enumerate(mask):
        if masked:
            runs.append([])
        else:
            runs[-1].append(i)
    pairs = tuple(
        (f"{toks[a].norm}_{toks[b].norm}", f"{toks[a].plain}_{toks[b].plain}")
        for run in runs for a, b in zip(run, run[1:], strict=False)
    )
    kept = [t for t, m in zip(toks, mask, strict=True) if not m]
    return Query(tuple(t.norm for t in kept), tuple(t.plain for t in kept), has_diacritics(question), pairs,
                 question)


def clauses(q: Query) -> list[Clause]:
    if not q.marked:
        return [("plain", t, 1.0) for t in q.plain] + [("plain2", p, BIGRAM_WEIGHT) for _, p in q.bigrams]
    return (
        [("acc", t, 1.0) for t in q.norm]
        + [("plain", t, PLAIN_WEIGHT) for t in q.plain]
        + [("acc2", a, BIGRAM_WEIGHT) for a, _ in q.bigrams]
        + [("plain2", p, BIGRAM_WEIGHT * PLAIN_WEIGHT) for _, p in q.bigrams]
    )
