"""Checks that an answer is about what the question names, before it is given.

Retrieval and the reader find the closest statement; these checks catch the closest
statement about something else, and the engine then abstains ("not found", with the
nearest sentences) rather than answer about the wrong thing:

* ``missing_numbers``: a number the question names ("Hội nghị Ngoại giao lần thứ 32",
  "năm 2012") that the answer's article never states: the article is about another
  edition, year or amount. Numbers are compared by their digits ("40000" = "40.000"),
  a range by each end ("1920-1930"); one-digit numbers are left out ("lần thứ 2" is
  often "lần thứ hai"). An ordinal names an edition, so it must be stated as one:
  "lần thứ 32" is missing from an article that has "Chỉ thị 32-CT/TW" but not "thứ 32".
* ``unknown_terms``: the question's topic terms that no sentence of the collection holds
  ("Giá vàng hôm nay bao nhiêu?" of a collection that never says "vàng"). Not a gate by
  itself (a typo is unknown too: 3% of ViNewsQA fold A's questions have one, 23% of the same
  questions asked of VietNews articles): a feature of the reader's calibrated confidence.
* ``deputy_for_office``: the question asks who holds an office ("Ai là Thủ tướng?") and
  the answer is named under the deputy's ("Phó Thủ tướng ... Phạm Bình Minh"). The
  offices are the gazetteer's titles (``data/entities_gazetteer.json``).

Measured on ViNewsQA dev and ViQuAD 1.0 dev fold A (crc32 of the title even; all
answerable, so any abstention costs there): of the answered questions naming a number
(86 and 197), the article missed one in 2 and 12; those answers scored F1 0.58 and 0.27
(mostly wrong: the year asked is not the article's), a cost of under 0.3 F1 points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from hoidap.search.query import Query
from hoidap.text.lexicons import first_words, gazetteer
from hoidap.text.normalize import tokenize
from hoidap.text.tokens import TokenSentence

# A number as written: digits with thousands or decimal separators, dates and ranges.
_NUMBER_RE = re.compile(r"\d+(?:[.,/-]\d+)*")
_GROUPED_RE = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?!\d)")
_DIGITS_RE = re.compile(r"\d+")
_ORDINAL_RE = re.compile(r"\bthứ\s+(\d+)\b", re.IGNORECASE)
# Numbers this short are often written in words in the text ("thứ 2" / "thứ hai").
MIN_DIGITS = 2
# How far before the answer the office that introduces it is looked for (characters).
OFFICE_CHARS = 80
_DEPUTY = "phó"


def _stated(text: str) -> frozenset[str]:
    """Every number of ``text`` by its digits: each digit run, and each thousands-grouped
    number joined ("40.000" -> "40000")."""
    runs = set(_DIGITS_RE.findall(text))
    runs.update(re.sub(r"[.,]", "", m) for m in _GROUPED_RE.findall(text))
    return frozenset(runs)


def missing_numbers(question: str, article: str) -> tuple[str, ...]:
    """The numbers of ``question`` (of ``MIN_DIGITS`` digits or more) ``article`` never states."""
    have = _stated(article)
    ordinals = {m.group(1) for m in _ORDINAL_RE.finditer(article)}
    missing = [n for n in (m.group(1) for m in _ORDINAL_RE.finditer(question))
               if len(n) >= MIN_DIGITS and n not in ordinals]
    for written in _NUMBER_RE.findall(question):
        joined = re.sub(r"[.,]", "", written)
        if joined in have:
            continue
        for part in re.split(r"[/-]", written):
            digits = re.sub(r"[.,]", "", part)
            if len(digits) >= MIN_DIGITS and digits not in have and not set(_DIGITS_RE.findall(part)) <= have:
                missing.append(part)
    return tuple(missing)


def _offices(text: str) -> list[tuple[str, ...]]:
    """Every gazetteer title in ``text``, in order, the longest at each position."""
    gz = gazetteer()
    s = TokenSentence(text, tokenize(text))
    firsts, unbroken = first_words(gz.titles), [False] * len(s)

    def key(i: int, j: int) -> tuple[str, ...]:
        return tuple(s.norm(k) for k in range(i, j))  # the gazetteer's keys are these forms

    found = []
    i = 0
    while i < len(s):
        n = s.longest_entry(i, gz.titles, firsts, unbroken, gz.longest, key)
        if n:
            found.append(key(i, i + n))
        i += max(n, 1)
    return found


def deputy_for_office(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``question`` asks for an office (a title not itself a deputy's) and, in
    ``sentence``, the answer ``sentence[start:end]`` is named under that office's deputy:
    the first office of the answer itself, else the office nearest before it."""
    asked = {t for t in _offices(question) if t[0] != _DEPUTY}
    if not asked:
        return False
    named = _offices(sentence[start:end])[:1] or _offices(sentence[max(0, start - OFFICE_CHARS) : start])[-1:]
    if not named:
        return False
    title = named[0]
    return title[0] == _DEPUTY and title[1:] in asked


def unknown_terms(query: Query,
                  doc_freqs: Callable[[list[tuple[str, str]]], Mapping[tuple[str, str], int]],
                  document_freqs: Callable[[list[tuple[str, str]]], Mapping[tuple[str, str], int]] | None = None,
                  ) -> tuple[str, ...]:
    """The topic terms of ``query`` in no sentence of the collection (``doc_freqs``: sentence
    document frequencies of (field, term) pairs, as ``rank.sentence_dfs``).

    A term is known where the collection writes it with the syllable beside it as one word
    ("ô tô" / "ôtô", "vắc xin" / "vắcxin"), and, given ``document_freqs`` (the articles' own
    frequencies, titles included), where only a title holds it ("truy quét" in the headline
    alone): a paraphrase of the article, not a topic the collection lacks. Both were refusing
    right answers in small collections (a new held-out news set, design half)."""
    field, terms = ("acc", query.norm) if query.marked else ("plain", query.plain)
    unique = list(dict.fromkeys(terms))
    if not unique:
        return ()
    dfs = doc_freqs([(field, t) for t in unique])
    unknown = [t for t in unique if dfs[(field, t)] == 0]
    if not unknown:
        return ()
    words = [tok.norm if field == "acc" else tok.plain for tok in tokenize(query.text)] if query.text else []
    joined = {t: [a + b for a, b in zip(words, words[1:], strict=False) if t in (a, b)] for t in unknown}
    wanted = list(dict.fromkeys(j for js in joined.values() for j in js))
    if wanted:
        jdfs = doc_freqs([(field, j) for j in wanted])
        unknown = [t for t in unknown if not any(jdfs[(field, j)] for j in joined[t])]
    if unknown and document_freqs is not None:
        ddfs = document_freqs([(field, t) for t in unknown])
        unknown = [t for t in unknown if ddfs[(field, t)] == 0]
    return tuple(unknown)
