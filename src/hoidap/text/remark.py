"""Marks for a question typed without them, read from the sentences it is asked of.

"Viet Nam tung hai lan dang cai APEC vao nhung nam nao?" finds its article (retrieval matches
unmarked syllables), but the stages after it read marked text best: the question's kind
("nhiệm kỳ nào" is a period, "Phó Viện trưởng ... nào" a person) and the trained reader, which
read unmarked questions worse than the rules did (``qa.answer.READS_UNMARKED``). So the
question is given back its marks before it is read:

1. question phrases of two syllables or more ("bao nhieu" -> "bao nhiêu", "nhu the nao" ->
   "như thế nào"), from ``function_words.json``;
2. every other syllable takes the marked form that a syllable bigram language model finds
   likeliest for the whole question (Viterbi over each syllable's marked forms): "nhung nam
   nao" -> "những năm nào", "mac benh" -> "mắc bệnh". The model's counts (``data/remark_lm.npz``,
   ``scripts/train_remark.py``: 10.8 million syllables of news, and the questions of the training
   QA sets weighted 20, for the words questions use and news does not: "thứ mấy", not "thứ
   máy") are interpolated with the counts
   of the sentences the question found, weighted ``CACHE_WEIGHT`` (a cache model: Kuhn & De Mori,
   IEEE PAMI 1990), so the collection's names and terms win where it writes them ("Hội đồng Nhân
   quyền"); unseen bigrams back off to the unigram (stupid backoff: Brants et al., EMNLP 2007);
3. a syllable neither the model nor the sentences ever wrote stays as typed ("iPhone", "xyz").

A question typed with some marks but fewer than ``PARTLY_MARKED`` of its syllables marked ("Ai la
Bộ trưởng Ngoai giao?") is decoded the same way, each syllable typed with marks keeping them; in one
typed with more, a syllable typed without marks keeps that form unless the model finds a marked
one ``KEEP_TYPED`` times likelier (a mark or two missed: "Ai la Bộ trưởng Ngoại giao?").

Only syllables are changed: case as typed, punctuation and spacing kept. The sentences are
the ones retrieval and the ranker already hold, so the cost is linear in the question and
in those sentences, not in the article. Measured in the CHANGELOG (issue 19).
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from hoidap.text.lexicons import function_words
from hoidap.text.normalize import fold_token, has_diacritics, nfc, strip_diacritics

# The weight of a count in the sentences found against one in the model's corpus. Chosen on the
# questions of ViNewsQA dev and ViQuAD 1.0 dev fold A (never reported), asked without marks of
# their whole set (``hoidap eval squad --unmarked``'s setting): questions restored exactly for
# weights 10 / 50 / 200 / 1000 / 5000, ViNewsQA 0.777 / 0.791 / 0.808 / 0.801 / 0.745 (F1 of the
# answers 0.590 / 0.592 / 0.594 / 0.596 / 0.597); ViQuAD 1.0 at 200 / 1000: 0.792 / 0.785 (F1
# 0.608 / 0.608). The sentences found alone (the previous rules) restored 0.565 and 0.469.
CACHE_WEIGHT = 200.0
# Stupid backoff's factor for a bigram never counted (Brants et al. 2007; their value, not tuned).
BACKOFF = 0.4
# Question phrases shorter than this are left to the model: forcing a lone "dau" to "đâu" turned
# "đầu", "dấu" and "đau" wrong (ViNewsQA fold A at weight 50: 0.745 restored exactly, 0.791 without).
MIN_PHRASE = 2
# A count the model lacks, so that an unknown syllable still has a (low) probability.
FLOOR = 0.5
# A question with fewer of its syllables typed with marks than this share was typed in a hurry:
# the syllables typed without marks take them as an unmarked question's do, those typed with marks
# keep them. Above it the question is read as typed: many syllables have no marks ("ai", "ba",
# "giao"), so a question typed with every mark has 53% to 100% of its syllables marked (1st
# percentile and maximum over the 2,497 questions of ViNewsQA dev; median 86%). Chosen on ViNewsQA
# and ViQuAD 1.0 dev fold A, questions as written and with each syllable stripped of its marks with
# probability 0.5 (``hoidap eval squad --unmarked 0.5``): F1 as written / half stripped, ViNewsQA,
# read as typed 0.6138 / 0.3792; share 0.5: 0.6138 / 0.5480; 0.6: 0.6138 / 0.5879 (1 question
# changed); 0.7: 0.6133 / 0.5990 (8 changed). ViQuAD 1.0 at 0.6: 0.6268 / 0.6038 (read as typed:
# 0.6268 / 0.3376). Written questions lose nothing up to 0.6.
PARTLY_MARKED = 0.6
# In a question typed with most of its marks, how much likelier (the model's probability of the
# whole question) a marked form must make it before it replaces a syllable typed without marks
# ("la" -> "là" in "Ai la Bộ trưởng Ngoại giao?", where "Ai" and "giao" stay). Chosen on ViNewsQA and
# ViQuAD 1.0 dev fold A, questions as written / with each syllable stripped with probability 0.2
# (``--unmarked 0.2``, a few marks missed), F1: read as typed 0.6138 / 0.5474 and 0.6268 / 0.5515;
# bonus 10: 0.6132 / 0.6115 and 0.6271 / 0.6230; 100: 0.6132 / 0.6078 and 0.6271 / 0.6211; 1000 on
# ViQuAD: 0.6270 / 0.6120; none (every such syllable decoded freely): 0.6110 / 0.6109 on ViNewsQA.
KEEP_TYPED = 10.0

_SYLLABLE = re.compile(r"\w+")

Run = tuple[str, ...]


@dataclass(frozen=True)
class SyllableModel:
    """Unigram and bigram counts of marked syllables (lower case, canonical tone placement)."""

    vocab: dict[str, int]  # syllable -> row
    unigrams: np.ndarray  # counts, by row
    keys: np.ndarray  # a * len(vocab) + b, sorted
    bigrams: np.ndarray  # counts, by key
    forms: dict[str, tuple[str, ...]]  # plain form -> the marked syllables written for it
    total: int

    def bigram_counts(self, prev: Sequence[str], nxt: Sequence[str]) -> np.ndarray:
        """Counts of every (p, n) pair, ``len(prev) x len(nxt)``: one sorted search per step."""
        a = np.array([self.vocab.get(w, -1) for w in prev], dtype=np.int64)
        b = np.array([self.vocab.get(w, -1) for w in nxt], dtype=np.int64)
        wanted = (a[:, None] * len(self.vocab) + b[None, :]).ravel()
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = (self.keys[at] == wanted) & (np.repeat(a, len(b)) >= 0) & (np.tile(b, len(a)) >= 0)
        return np.where(found, self.bigrams[at], 0).reshape(len(a), len(b)).astype(np.float64)

    def unigram(self, word: str) -> float:
        row = self.vocab.get(word)
        return float(self.unigrams[row]) if row is not None else 0.0


@cache
def syllable_model() -> SyllableModel:
    """``data/remark_lm.npz``, loaded once per process."""
    raw = resources.files("hoidap").joinpath("data", "remark_lm.npz").read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        vocab = [str(w) for w in z["vocab"]]
        unigrams, keys, bigrams = z["unigrams"], z["bigram_keys"], z["bigram_counts"]
    forms: defaultdict[str, list[str]] = defaultdict(list)
    for w in vocab:
        forms[strip_diacritics(w)].append(w)
    return SyllableModel({w: k for k, w in enumerate(vocab)}, unigrams, keys, bigrams,
                         {p: tuple(f) for p, f in forms.items()}, int(unigrams.sum()))


def _plain(word: str) -> str:
    return strip_diacritics(word).lower()


def _cased(marked: str, typed: str) -> str:
    """``marked`` (lower case) in the case the user typed the syllable."""
    if len(typed) > 1 and typed.isupper():
        return marked.upper()
    return marked[:1].upper() + marked[1:] if typed[:1].isupper() else marked


@cache
def _forced_phrases() -> tuple[dict[Run, Run], int]:
    """The question phrases of ``MIN_PHRASE`` syllables or more, plain -> marked ("bao nhieu" ->
    "bao nhiêu"), and the longest's length."""
    phrases = {tuple(strip_diacritics(p).split()): tuple(p.split())
               for p in function_words("question_phrases") if len(p.split()) >= MIN_PHRASE}
    return phrases, max(map(len, phrases), default=0)


def _forced(plain: Sequence[str]) -> dict[int, str]:
    """Positions of the question phrases (``MIN_PHRASE`` syllables or more) and their marks."""
    phrases, longest = _forced_phrases()
    out: dict[int, str] = {}
    i = 0
    while i < len(plain):
        n = next((n for n in range(longest, MIN_PHRASE - 1, -1) if tuple(plain[i:i + n]) in phrases), 0)
        for k, word in enumerate(phrases[tuple(plain[i:i + n])] if n else ()):
            out[i + k] = fold_token(word)
        i += max(n, 1)
    return out


def decode(plain: Sequence[str], texts: Iterable[str], model: SyllableModel | None = None,
           typed: dict[int, str] | None = None, keep: float = 1.0) -> list[str]:
    """The likeliest marked syllables (lower case) for the plain ones, under the model's counts
    plus ``CACHE_WEIGHT`` times those of ``texts``; a syllable with no marked form stays, and one
    in ``typed`` (position -> marked form) keeps that form."""
    lm = model or syllable_model()
    uni: Counter[str] = Counter()
    bi: Counter[tuple[str, str]] = Counter()
    seen: defaultdict[str, set[str]] = defaultdict(set)
    for text in texts:
        words = [fold_token(w) for w in _SYLLABLE.findall(nfc(text))]
        uni.update(words)
        bi.update(zip(words, words[1:], strict=False))
        for w in words:
            seen[strip_diacritics(w)].add(w)
    total = lm.total + CACHE_WEIGHT * sum(uni.values())
    forced = _forced(plain) | (typed or {})

    def unigram(w: str) -> float:
        return lm.unigram(w) + CACHE_WEIGHT * uni[w]

    # Viterbi: for each form of the current syllable, the best path to it and its log score.
    paths: dict[str, tuple[float, list[str]]] = {}
    for i, p in enumerate(plain):
        forms = [forced[i]] if i in forced else sorted(set(lm.forms.get(p, ())) | seen.get(p, set())) or [p]
        here = np.array([unigram(w) for w in forms])
        # A syllable left without marks in a question typed with most of them was most likely meant so.
        bonus = np.array([math.log(keep) if w == p and i not in forced else 0.0 for w in forms])
        alone = np.log(BACKOFF * np.maximum(here, FLOOR) / total) + bonus
        if not paths:
            paths = {w: (float(alone[k]), [w]) for k, w in enumerate(forms)}
            continue
        prev = list(paths)
        pair = lm.bigram_counts(prev, forms) + CACHE_WEIGHT * np.array([[bi[(a, b)] for b in forms] for a in prev])
        before = np.array([unigram(a) for a in prev])
        step = np.where(pair > 0, np.log(np.maximum(pair, FLOOR) / np.maximum(before, FLOOR)[:, None]) + bonus[None, :],
                        alone[None, :])
        score = np.array([paths[a][0] for a in prev])[:, None] + step
        best = score.argmax(axis=0)
        paths = {w: (float(score[best[k], k]), paths[prev[best[k]]][1] + [w]) for k, w in enumerate(forms)}
    return max(paths.values(), key=lambda v: v[0])[1] if paths else []


def partly_marked(question: str) -> bool:
    """Whether fewer than ``PARTLY_MARKED`` of the question's syllables were typed with marks
    (none at all included): its other syllables are then given theirs (``remark``)."""
    words = _SYLLABLE.findall(question)
    return _few_marked(sum(has_diacritics(w) for w in words), len(words))


def _few_marked(marked: int, syllables: int) -> bool:
    return syllables > 0 and marked < PARTLY_MARKED * syllables


def remark(question: str, texts: Iterable[str]) -> str:
    """``question`` with the marks its syllables most likely take (``decode``, the sentences found
    as ``texts``), each syllable typed with marks keeping them; in a question typed with most
    marks (not ``partly_marked``), a syllable typed without takes marks only where the model finds
    them ``KEEP_TYPED`` times likelier ("Ai la Bộ trưởng Ngoại giao?": "là"; "Ai", "giao" stay)."""
    spans = [(m.start(), m.end(), m.group()) for m in _SYLLABLE.finditer(question)]
    plain = [_plain(w) for _, _, w in spans]
    typed = {i: fold_token(w) for i, (_, _, w) in enumerate(spans) if has_diacritics(w)}
    if len(typed) == len(spans):
        return question
    marked = decode(plain, texts, typed=typed, keep=1.0 if _few_marked(len(typed), len(spans)) else KEEP_TYPED)
    out, last = [], 0
    for (start, end, as_typed), word, bare in zip(spans, marked, plain, strict=True):
        out.append(question[last:start])
        out.append(as_typed if word in (bare, fold_token(as_typed)) else _cased(word, as_typed))  # "iPhone" stays
        last = end
    out.append(question[last:])
    return "".join(out)
