"""Figures in the articles, parsed, and compared across sources.

A figure is a number with what it counts: "trên 151 triệu liều vắc xin" is the
value 151,000,000, the range (151e6, unbounded) from the qualifier "trên", the
counted noun phrase "liều vắc xin" and the sentence that states it. Figures
are read from the stored sentences only, so nothing from a removed
related-article block, caption or menu is ever a figure.

Rules, not a model: Vietnamese number formats ("1.200" thousands, "2,5"
decimal, "151 triệu", "189/193"), qualifiers turned into ranges, dates,
ordinals, codes and years left out ("lần thứ 31", "22-NQ/TW", "năm 2021",
"14/12"), then the noun phrase after the number. The word lists live in
``data/facts_lexicon.json``.

Two figures from different documents are about the same quantity when their
units fall in one class ("quốc gia", "nước", "đối tác", "thị trường" are all
polities; "USD" is money) and the key words around them overlap (the
modifiers that say *which* count it is: "thương mại", "ngoại giao",
"vắc xin"). Each such group is labelled ``agree``, ``compatible`` or
``conflict`` by intersecting the ranges.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from hoidap.models import Article, Citation, Conflict, Figure
from hoidap.normalize import Token, fold_token, tokenize

# A number token as ``normalize.TOKEN_RE`` cuts it: digits with . , / : inside.
_NUMBER_RE = re.compile(r"\d+(?:[.,/:]\d+)*")
# The longest noun phrase read after a number, in syllables. Six covers
# "quốc gia thành viên Liên hợp quốc" and "tổ chức nhân dân và phi chính phủ"
# while stopping before the verb phrase that usually follows.
MAX_PHRASE_SYLLABLES = 8
# After a noun the lexicon does not know, at most this many syllables: enough
# for "thanh thiếu niên" or "xe chữa cháy", short of the verb that follows.
UNKNOWN_HEAD_SYLLABLES = 3
# Figures whose key words overlap this much (overlap coefficient: shared /
# smaller set) are about the same quantity. 0.5 lets "kinh tế - thương mại"
# match "thương mại" while "đối tác toàn diện" and "thương mại" stay apart.
SAME_QUANTITY_OVERLAP = 0.5
# "khoảng N" is read as N ± 10 % and "gần N" as [0.9 N, N): the usual
# rounding of news copy ("khoảng 400 tỷ USD" for 396 or 405).
APPROX_SPREAD = 0.1
# Plain integers in this range with no unit or counted noun after them are years.
YEAR_RANGE = (1900, 2100)
# Punctuation that ends a phrase (a comma between two figures, a bracket).
_HARD_PUNCT = re.compile(r"[,;:.!?()\[\]\"“”‘’«»…]")
_DATE_FULL_RE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_YEAR_IN_TEXT_RE = re.compile(
    r"(?:(?:ngày|hôm)\s+(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?)"
    r"|(?:tháng\s+(\d{1,2})[/.-](\d{4}))"
    r"|(?:(?:quý\s+\w+|tháng\s+\d{1,2})\s*/\s*(\d{4}))"
    r"|(?:năm\s+(\d{4}))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Lexicon:
    """The word lists of ``data/facts_lexicon.json``, folded for matching."""

    scales: dict[str, float]
    currencies: dict[str, str]
    measures: frozenset[str]
    qualifiers: dict[str, str]
    comparatives: frozenset[str]
    temporal: tuple[tuple[str, ...], ...]
    vague: dict[str, float]
    label_words: frozenset[str]
    date_words: frozenset[str]
    np_stop: frozenset[str]
    np_stop_keep_first: frozenset[str]
    np_start_stop: frozenset[str]  # words that cannot start a counted noun ("1 số" is "một số")
    closed_units: frozenset[str]  # time units: the phrase ends there ("26 tuổi")
    time_of_day: frozenset[str]  # "7 giờ sáng", "7 giờ 23 phút" are clock times
    clock_words: frozenset[str]  # "lúc 20 giờ", "đến hơn 20 giờ": clock times too
    classifiers: frozenset[str]  # "chiếc", "con", ...: the head of "8 chiếc xe"
    linking: frozenset[str]  # verbs and adverbs between a subject and its money/percent figure
    measure_nouns: frozenset[str]  # what a money/percent figure can measure ("kim ngạch", "tỷ lệ")
    subject_verbs: frozenset[str]
    head_nouns: frozenset[str]
    noun_class: dict[str, str]
    synonyms: dict[str, str]
    generic: frozenset[str]
    longest: int  # the longest multi-syllable entry, in syllables


def _fold_phrase(p: str) -> str:
    return " ".join(fold_token(w) for w in p.split())


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw: dict[str, Any] = json.loads(
        resources.files("hoidap").joinpath("data/facts_lexicon.json").read_text(encoding="utf-8")
    )
    f = _fold_phrase
    classes = {f(n): cls for cls, nouns in raw["noun_classes"].items() for n in nouns}
    entries = [*raw["scales"], *raw["currencies"], *raw["measures"], *raw["qualifiers"],
               *raw["vague"], *raw["label_words"], *raw["np_stop"], *raw["head_nouns"]]
    return Lexicon(
        scales={f(k): float(v) for k, v in raw["scales"].items()},
        currencies={f(k): v for k, v in raw["currencies"].items()},
        measures=frozenset(f(m) for m in raw["measures"]),
        qualifiers={f(k): v for k, v in raw["qualifiers"].items()},
        comparatives=frozenset(f(w) for w in raw["comparatives"]),
        temporal=tuple(tuple(f(p).split()) for p in raw["temporal_qualifiers"]),
        vague={f(k): float(v) for k, v in raw["vague"].items()},
        label_words=frozenset(f(w) for w in raw["label_words"]),
        date_words=frozenset(f(w) for w in raw["date_words"]),
        np_stop=frozenset(f(w) for w in raw["np_stop"]),
        np_stop_keep_first=frozenset(f(w) for w in raw["np_stop_keep_first"]),
        np_start_stop=frozenset(f(w) for w in raw["np_start_stop"]),
        closed_units=frozenset(f(w) for w in raw["closed_units"]),
        time_of_day=frozenset(f(w) for w in raw["time_of_day"]),
        clock_words=frozenset(f(w) for w in raw["clock_words"]),
        classifiers=frozenset(f(w) for w in raw["classifiers"]),
        linking=frozenset(f(w) for w in raw["linking"]),
        measure_nouns=frozenset(f(w) for w in raw["measure_nouns"]),
        subject_verbs=frozenset(f(w) for w in raw["subject_verbs"]),
        head_nouns=frozenset(f(w) for w in raw["head_nouns"]),
        noun_class=classes,
        synonyms={f(k): f(v) for k, v in raw["synonyms"].items()},
        generic=frozenset(f(w) for w in raw["generic_context"]),
        longest=max(len(e.split()) for e in entries),
    )


# -- numbers -------------------------------------------------------------------
def parse_number(text: str) -> float:
    """A Vietnamese-formatted number: "1.200" -> 1200, "2,5" -> 2.5, "1.234,5" -> 1234.5.

    Dots group thousands and a comma marks decimals (Vietnamese style); a dot
    not followed by groups of exactly three digits is a decimal point ("2.5"),
    and several comma groups of three are thousands ("1,200,000").
    """
    t = text.strip()
    if "." in t and "," in t:
        dec = "," if t.rfind(",") > t.rfind(".") else "."
        grp = "." if dec == "," else ","
        return float(t.replace(grp, "").replace(dec, "."))
    for sep in (".", ","):
        if sep in t:
            head, *groups = t.split(sep)
            thousands = all(len(g) == 3 for g in groups) and 1 <= len(head) <= 3
            if thousands and (sep == "." or len(groups) > 1):
                return float(t.replace(sep, ""))
            if len(groups) == 1:
                return float(f"{head}.{groups[0]}")
            raise ValueError(f"not a number: {text!r}")
    return float(t)


def qualifier_range(value: float, kind: str | None) -> tuple[float | None, float | None, bool, bool]:
    """``(low, high, low_strict, high_strict)`` for a value and a qualifier kind.

    ``None`` is unbounded: "hơn 230" is (230, ∞), "gần 50" is [45, 50),
    "khoảng 400" is [360, 440], "ít nhất 5" is [5, ∞), "dưới 10" is [0, 10).
    """
    if kind == "above":
        return value, None, True, False
    if kind == "at_least":
        return value, None, False, False
    if kind == "near_below":
        return value * (1 - APPROX_SPREAD), value, False, True
    if kind == "about":
        return value * (1 - APPROX_SPREAD), value * (1 + APPROX_SPREAD), False, False
    if kind == "below":
        return 0.0, value, False, True
    if kind == "at_most":
        return 0.0, value, False, False
    return value, value, False, False


# -- one sentence --------------------------------------------------------------
@dataclass
class _Sent:
    text: str
    toks: list[Token]
    hard: list[bool] = field(default_factory=list)  # hard punctuation before token k

    def __post_init__(self) -> None:
        self.hard = [bool(_HARD_PUNCT.search(self.gap(k))) for k in range(len(self.toks) + 1)]

    def gap(self, i: int) -> str:
        """The characters before token ``i`` (after token ``i - 1``)."""
        a = self.toks[i - 1].end if i > 0 else 0
        b = self.toks[i].start if i < len(self.toks) else len(self.text)
        return self.text[a:b]

    def raw(self, i: int) -> str:
        return self.text[self.toks[i].start : self.toks[i].end]

    def norm(self, i: int) -> str:
        return self.toks[i].norm if 0 <= i < len(self.toks) else ""

    def phrase_at(self, i: int, keys: frozenset[str] | dict[str, Any], longest: int) -> int:
        """Length (in tokens) of the longest entry starting at token ``i``, 0 if none."""
        if i >= len(self.toks) or self.toks[i].norm not in _firsts(keys):
            return 0
        for n in range(min(longest, len(self.toks) - i), 0, -1):
            if any(self.hard[k] for k in range(i + 1, i + n)):
                continue
            if " ".join(self.toks[k].norm for k in range(i, i + n)) in keys:
                return n
        return 0

    def phrase_before(self, i: int, keys: frozenset[str] | dict[str, Any], longest: int) -> int:
        """Length of the longest entry ending just before token ``i`` (same clause), 0 if none."""
        if i == 0 or self.toks[i - 1].norm not in _lasts(keys):
            return 0
        for n in range(min(longest, i), 0, -1):
            if any(self.hard[k] for k in range(i - n + 1, i + 1)):
                continue
            if " ".join(self.toks[k].norm for k in range(i - n, i)) in keys:
                return n
        return 0

    def clause_start(self, i: int) -> int:
        """The first token of the clause holding token ``i`` (after , ; : or a bracket)."""
        j = i
        while j > 0 and not self.hard[j]:
            j -= 1
        return j

    def clause_end(self, i: int) -> int:
        j = i + 1
        while j < len(self.toks) and not self.hard[j]:
            j += 1
        return j


_EDGE_CACHE: dict[tuple[int, int], frozenset[str]] = {}


def _firsts(keys: frozenset[str] | dict[str, Any]) -> frozenset[str]:
    return _edge(keys, 0)


def _lasts(keys: frozenset[str] | dict[str, Any]) -> frozenset[str]:
    return _edge(keys, -1)


def _edge(keys: frozenset[str] | dict[str, Any], pos: int) -> frozenset[str]:
    """First (or last) words of a lexicon's entries; cached, the lexicon lives for the process."""
    key = (id(keys), pos)
    if key not in _EDGE_CACHE:
        _EDGE_CACHE[key] = frozenset(k.split()[pos] for k in keys)
    return _EDGE_CACHE[key]


def _is_number(raw: str) -> bool:
    return bool(_NUMBER_RE.fullmatch(raw))


def _is_word(s: _Sent, i: int) -> bool:
    """A token with a letter in it ("quốc", "12C"), not a bare number."""
    return 0 <= i < len(s.toks) and not s.raw(i).isdigit() and not _is_number(s.raw(i))


def _compound(s: _Sent, i: int, lex: Lexicon) -> bool:
    """Part of a date, score, time, plate or name rather than a count.

    "9-12-2015" and "24-4" (the number after a dash glued to another number),
    "7 giờ 23 phút" and "21 giờ hôm qua" (clock times), "04429" (a leading
    zero), "iOS 15", "J-League 2" (a capitalised name just before).
    """
    raw = s.raw(i)
    if len(raw) > 1 and raw[0] == "0" and raw[1].isdigit():
        return True
    if i > 0 and s.gap(i) in ("-", "–", "/", ".") and _is_number(s.raw(i - 1)):
        return True
    if s.norm(i + 1) == "giờ" and i + 2 < len(s.toks) and not s.hard[i + 1] and not s.hard[i + 2] \
            and (_is_number(s.raw(i + 2)) or s.norm(i + 2) in lex.time_of_day):
        return True
    # "Đến khoảng hơn 20 giờ": a clock time after "lúc", "đến", "vào" ... within the clause.
    if s.norm(i + 1) == "giờ" and not s.hard[i + 1] and any(
            s.norm(k) in lex.clock_words for k in range(max(s.clause_start(i), i - 3), i)):
        return True
    prev = s.raw(i - 1) if i > 0 else ""
    return i > 1 and not s.hard[i] and any(c.isupper() for c in prev) and _is_word(s, i - 1)


def _glued(s: _Sent, i: int) -> bool:
    """Token ``i`` is part of a code or name: "COVID-19", "22-NQ/TW", "MS-804"."""
    before = s.gap(i)
    if i > 0 and before in ("-", "–", "") and _is_word(s, i - 1):
        return True
    after = s.gap(i + 1) if i + 1 < len(s.toks) else ""
    return after in ("-", "–") and _is_word(s, i + 1) and s.raw(i + 1)[:1].isupper()


def _looks_like_date(s: _Sent, i: int, lex: Lexicon) -> bool:
    raw = s.raw(i)
    if ":" in raw:  # 10:30
        return True
    sep = "/" if "/" in raw else ("." if raw.count(".") == 1 and len(raw.split(".")[1]) != 3 else "")
    parts = raw.split(sep) if sep else [raw]
    prev_is_date_word = s.phrase_before(i, lex.date_words, 2) > 0
    if sep == "/" and len(parts) >= 3:
        return True
    if sep and len(parts) == 2 and all(p.isdigit() for p in parts):
        a, b = int(parts[0]), int(parts[1])
        if len(parts[1]) == 4 and YEAR_RANGE[0] <= b <= YEAR_RANGE[1]:
            return True  # 7/2022
        if prev_is_date_word and 1 <= a <= 31 and 1 <= b <= 12:
            return True  # ngày 14/12, ngày 19.5
        if sep == "/" and 1 <= a <= 31 and 1 <= b <= 12:
            nxt = i + 1
            # "(23/7)", "14/12," or "14/12 Hà Nội": a date. "1/6 mức": a fraction.
            return not (nxt < len(s.toks) and not _HARD_PUNCT.search(s.gap(nxt))
                        and _is_word(s, nxt) and s.raw(nxt)[:1].islower())
    return False


def _labelled(s: _Sent, i: int, lex: Lexicon) -> bool:
    """A number that names rather than counts: "lần thứ 31", "Điều 5", "tháng 7", "Quận 1"."""
    if i == 0 or _HARD_PUNCT.search(s.gap(i)):
        return False
    return s.phrase_before(i, lex.label_words, 3) > 0


@dataclass(frozen=True)
class _Parsed:
    """A figure inside one sentence, with offsets relative to the sentence text."""

    value: float
    low: float | None
    high: float | None
    low_strict: bool
    high_strict: bool
    qualifier: str | None
    unit: str | None
    head: str | None  # the counted noun's head, folded ("quốc gia")
    counts: str | None
    start: int
    end: int
    of: float | None
    context: tuple[str, ...]
    date: str | None
    as_of_now: bool  # "đến nay": the figure is as of the article's date


def _qualifier(s: _Sent, i: int, lex: Lexicon) -> tuple[str | None, str | None, int]:
    """(qualifier as written, its kind, its first token) just before the number at ``i``."""
    n = s.phrase_before(i, lex.qualifiers, 3)
    if not n:
        return None, None, i
    first = i - n
    words = " ".join(s.toks[k].norm for k in range(first, i))
    kind = lex.qualifiers[words]
    # "cao hơn 2 độ" is a difference of 2, not "more than 2".
    if words in ("hơn", "quá") and first > 0 and not _HARD_PUNCT.search(s.gap(first)) \
            and s.norm(first - 1) in lex.comparatives:
        return None, None, i
    written = s.text[s.toks[first].start : s.toks[i - 1].end]
    return written, kind, first


def _noun_phrase(s: _Sent, j: int, lex: Lexicon) -> int:
    """End token (exclusive) of the noun phrase starting at ``j`` (``j`` if none).

    After a time unit ("35 năm", "26 tuổi") the phrase is the unit alone; after
    a known head noun it may run to ``MAX_PHRASE_SYLLABLES``, after an unknown
    one to ``UNKNOWN_HEAD_SYLLABLES`` (the verb that follows is not read as
    part of the noun), finishing a capitalised name it has started.
    """
    if j < len(s.toks) and s.norm(j) in lex.closed_units:
        return j + 1
    if j < len(s.toks) and (s.norm(j) in lex.np_start_stop or s.norm(j) in lex.np_stop):
        return j
    limit = MAX_PHRASE_SYLLABLES if s.phrase_at(j, lex.head_nouns, 3) else UNKNOWN_HEAD_SYLLABLES
    k = j
    used_and = False
    while k < len(s.toks) and (k - j < limit or (s.raw(k)[:1].isupper() and s.raw(k - 1)[:1].isupper())):
        if k > j and _HARD_PUNCT.search(s.gap(k)):
            break
        if not _is_word(s, k):
            break
        w = s.norm(k)
        two = f"{w} {s.norm(k + 1)}" if k + 1 < len(s.toks) else ""
        if k == j and (w in lex.np_stop_keep_first or two in lex.np_stop_keep_first):
            k += 2 if two in lex.np_stop_keep_first else 1
            continue
        if w == "và" and not used_and and 0 < k - j <= 3 and k + 1 < len(s.toks) \
                and not s.hard[k + 1] and s.phrase_at(k + 1, lex.head_nouns, 3):
            used_and = True
            k += 1
            continue
        if w in lex.np_stop or two in lex.np_stop or s.gap(k).strip() == "/":
            break
        k += 1
    if k > j and s.norm(k - 1) == "và":
        k -= 1
    return k


def _head(s: _Sent, j: int, end: int, lex: Lexicon) -> str | None:
    """The counted noun: a known head ("quốc gia"), a classifier ("chiếc"), else the first two syllables."""
    if end <= j:
        return None
    n = s.phrase_at(j, lex.head_nouns, 3)
    if n and j + n <= end:
        return " ".join(s.toks[k].norm for k in range(j, j + n))
    if s.norm(j) in lex.classifiers or end - j == 1:
        return s.norm(j)
    return f"{s.norm(j)} {s.norm(j + 1)}"


def _synonymised(words: list[str], lex: Lexicon) -> list[str]:
    """Folded words with multi-word synonyms replaced ("vaccine" -> "vắc xin")."""
    text = " ".join(words)
    for k, v in lex.synonyms.items():
        if k in text:
            text = re.sub(rf"(?<!\S){re.escape(k)}(?!\S)", v, text)
    return text.split()


def _context(s: _Sent, lo: int, hi: int, skip: set[int], lex: Lexicon) -> tuple[str, ...]:
    """Key words of tokens ``[lo, hi)``: compounds as adjacent pairs ("thương mại"), lone words alone.

    Words are folded with synonyms unified ("vaccine" -> "vắc xin"); generic
    words, the class nouns and ``skip`` (the figure itself) are dropped, and a
    dropped word or a hyphen splits a run, so "nghị viện" and "viện trợ" share
    nothing while "kinh tế - thương mại" and "thương mại" share "thương mại".
    """
    heads = {w for n in lex.noun_class for w in n.split()}
    runs: list[list[str]] = [[]]
    for k in range(lo, hi):
        if k in skip or not _is_word(s, k) or (k > lo and s.gap(k).strip()):
            runs.append([])
        if k not in skip and _is_word(s, k):
            runs[-1].append(s.norm(k))
    items: list[str] = []
    for run in runs:
        kept: list[list[str]] = [[]]
        for w in _synonymised(run, lex):
            if w in lex.generic or w in heads:
                kept.append([])
            else:
                kept[-1].append(w)
        for part in kept:
            if len(part) == 1:
                items.append(part[0])
            items += [f"{a} {b}" for a, b in zip(part, part[1:], strict=False)]
    return tuple(dict.fromkeys(items))


def _relation(s: _Sent, first: int, lex: Lexicon) -> str | None:
    """ "có quan hệ thương mại với N ..." -> "quan hệ thương mại" (the relation the count is of)."""
    if first == 0 or s.norm(first - 1) != "với" or _HARD_PUNCT.search(s.gap(first)):
        return None
    c0 = s.clause_start(first - 1)
    for k in range(first - 2, c0 - 1, -1):
        if s.norm(k) == "quan" and s.norm(k + 1) == "hệ" or s.norm(k) in ("hợp", "liên") and k + 1 < first - 1:
            return s.text[s.toks[k].start : s.toks[first - 2].end]
    return None


def _subject(s: _Sent, first: int, lex: Lexicon) -> str | None:
    """What a money or percent figure measures, read backwards from it:
    "kim ngạch thương mại của Việt Nam vẫn vượt mốc 600 tỷ USD" -> "kim ngạch thương mại của Việt Nam".

    Linking verbs and adverbs just before the figure are skipped; the run of
    words before them (through "của") is the subject only if it holds a
    measure noun ("kim ngạch", "tỷ lệ", "giá", ...). Otherwise ``None``: no
    subject is better than a wrong one.
    """
    k = first - 1
    while k >= 0 and not s.hard[k + 1] and (s.norm(k) in lex.linking or s.norm(k) in lex.np_stop):
        k -= 1
    end = k + 1
    while k >= 0 and not s.hard[k + 1] and end - k <= MAX_PHRASE_SYLLABLES and _is_word(s, k) \
            and (s.norm(k) == "của" or (s.norm(k) not in lex.np_stop and s.norm(k) not in lex.linking)):
        k -= 1
    start = k + 1
    while start < end and s.norm(start) == "của":
        start += 1
    words = [s.norm(p) for p in range(start, end)]
    pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
    if end <= start or not (set(words) | pairs) & lex.measure_nouns:
        return None
    return s.text[s.toks[start].start : s.toks[end - 1].end]


def explicit_date(text: str, start: int, clause_end: int, year: str | None) -> str | None:
    """The last date stated before ``start``, else the first one after it in the same clause, as ISO."""
    before: str | None = None
    after: str | None = None
    for m in _YEAR_IN_TEXT_RE.finditer(text):
        d, mo, y, mo2, y2, y3, y4 = m.groups()
        if d and mo:
            yy = y or year
            iso = f"{yy}-{int(mo):02d}-{int(d):02d}" if yy else None
        elif mo2 and y2:
            iso = f"{y2}-{int(mo2):02d}"
        else:
            iso = y3 or y4
        if iso is None:
            continue
        if m.start() < start:
            before = iso
        elif m.start() < clause_end and after is None:
            after = iso
    return before or after


def _parse_sentence(text: str, lex: Lexicon, article_year: str | None) -> list[_Parsed]:
    s = _Sent(text, tokenize(text))
    out: list[_Parsed] = []
    temporal = any(
        tuple(s.norm(k + m) for m in range(len(p))) == p
        for k in range(len(s.toks)) for p in lex.temporal
    )
    i = 0
    n = len(s.toks)
    while i < n:
        raw = s.raw(i)
        vague = s.phrase_at(i, lex.vague, 3) if s.norm(i) == "hàng" else 0
        if not vague and not _is_number(raw):
            i += 1
            continue
        if not vague and (_glued(s, i) or _looks_like_date(s, i, lex) or _labelled(s, i, lex)
                          or _compound(s, i, lex)):
            i += 1
            continue
        qual, kind, first = _qualifier(s, i, lex)
        of: float | None = None
        num2: float | None = None
        j = i + 1
        if vague:
            scale_word = " ".join(s.norm(k) for k in range(i, i + vague))
            value = lex.vague[scale_word]
            qual, kind, first = s.text[s.toks[i].start : s.toks[i + vague - 1].end], "vague", i
            j = i + vague
        else:
            try:
                if "/" in raw:
                    a, b = raw.split("/", 1)
                    value, of = parse_number(a), parse_number(b)
                    if "/" in b or of == 0:
                        i += 1
                        continue
                else:
                    value = parse_number(raw)
            except ValueError:
                i += 1
                continue
            # A range: "5-10 năm", "từ 10 đến 20 triệu đồng".
            if j < n and _is_number(s.raw(j)) and s.gap(j).strip() in ("-", "–") and "/" not in s.raw(j):
                try:
                    num2 = parse_number(s.raw(j))
                    j += 1
                except ValueError:
                    num2 = None
            elif j + 1 < n and s.norm(j) in ("đến", "tới") and _is_number(s.raw(j + 1)) \
                    and not s.hard[j] and not s.hard[j + 1] and "/" not in s.raw(j + 1):
                try:
                    num2 = parse_number(s.raw(j + 1))
                    j += 2
                except ValueError:
                    num2 = None
        # Scales: "151 triệu", "1,5 nghìn tỷ".
        mult = 1.0
        while j < n and not _HARD_PUNCT.search(s.gap(j)) and s.norm(j) in lex.scales and not vague:
            mult *= lex.scales[s.norm(j)]
            j += 1
        value *= mult
        if num2 is not None:
            num2 *= mult
        # Unit: "%" right after, a currency or a measure.
        unit: str | None = None
        gap_after = s.gap(j) if j <= n else ""
        after_text = s.text[s.toks[j - 1].end :]
        if re.match(r"\s?%", after_text):
            unit = "%"
        elif j < n and not _HARD_PUNCT.search(gap_after):
            u = s.phrase_at(j, lex.currencies, 3)
            if u:
                unit = lex.currencies[" ".join(s.norm(k) for k in range(j, j + u))]
                j += u
            else:
                u = s.phrase_at(j, lex.measures, 2)
                if u:
                    unit = s.text[s.toks[j].start : s.toks[j + u - 1].end]
                    j += u
        # A rate: "đồng/lít", "đồng/môn thi/thí sinh".
        while unit and unit != "%" and j < n and s.gap(j) == "/":
            k = j + 1
            if k < n and not s.hard[k] and s.gap(k) == " " and s.norm(k) not in lex.np_stop \
                    and _is_word(s, k):
                k += 1
            unit += "/" + s.text[s.toks[j].start : s.toks[k - 1].end]
            j = k
        # What it counts: the noun phrase after the number (or after a measure: "1.000 tấn trái cây").
        np_start = j
        np_end = j
        money = unit is not None and unit.split("/")[0] in lex.currencies.values()
        if not money and j < n and not s.hard[j] and not (s.raw(j)[:1].isupper() and not s.raw(j).isupper()):
            np_end = _noun_phrase(s, j, lex)
        # A figure needs something it counts or measures; a bare number is left out.
        if unit is None and np_end == np_start and mult == 1.0:
            i += 1
            continue
        plain_int = not vague and raw.isdigit() and of is None
        if plain_int and YEAR_RANGE[0] <= value <= YEAR_RANGE[1] and mult == 1.0 and unit is None \
                and _head(s, np_start, np_end, lex) not in lex.head_nouns:
            i += 1
            continue  # "2021 kim ngạch": a year
        head = _head(s, np_start, np_end, lex) if unit is None else None
        np_text = s.text[s.toks[np_start].start : s.toks[np_end - 1].end] if np_end > np_start else None
        relation = _relation(s, first, lex)
        if np_text and relation:
            counts: str | None = f"{np_text} có {relation}"
        elif np_text:
            counts = np_text
        else:
            counts = _subject(s, first, lex)
        low: float | None
        high: float | None
        if kind == "vague":
            low, high, ls, hs = value, value * 10, False, True
        elif num2 is not None:
            low, high, ls, hs = min(value, num2), max(value, num2), False, False
        else:
            low, high, ls, hs = qualifier_range(value, kind)
        # Key words: the clause around the figure, without the figure's own numbers and head.
        c0, c1 = s.clause_start(first), s.clause_end(max(np_end - 1, i))
        skip = set(range(first, np_start))
        if head:
            skip |= {k for k in range(np_start, np_end) if s.norm(k) in head.split()}
        context = _context(s, c0, c1, skip, lex)
        start = s.toks[first].start
        end = s.toks[np_end - 1].end if np_end > np_start else (
            s.toks[j - 1].end + (len(re.match(r"\s?%", after_text).group()) if unit == "%" else 0)  # type: ignore[union-attr]
        )
        clause_end_char = s.toks[c1 - 1].end if c1 > 0 else len(text)
        date = explicit_date(text, start, clause_end_char, article_year)
        out.append(_Parsed(
            value=value, low=low, high=high, low_strict=ls, high_strict=hs,
            qualifier=qual if kind != "exact" else qual, unit=unit or head, head=head,
            counts=counts, start=start, end=end, of=of, context=context, date=date,
            as_of_now=temporal,
        ))
        i = max(j, i + 1)
    return out


# -- articles ------------------------------------------------------------------
def sentence_citation(article: Article, start: int, end: int, text: str) -> Citation:
    return Citation(article.doc_id, article.source, article.title, text, start, end,
                    article.outlet, article.date)


def _article_day(article: Article) -> str | None:
    return article.date[:10] if article.date else None


def extract_figures(articles: Sequence[Article]) -> list[Figure]:
    """Every figure in the articles' body sentences, in document then text order."""
    lex = lexicon()
    out: list[Figure] = []
    for art in articles:
        year = art.date[:4] if art.date and art.date[:4].isdigit() else None
        for sent in art.sentences:
            cite = sentence_citation(art, sent.start, sent.end, sent.text)
            for p in _parse_sentence(sent.text, lex, year):
                date = p.date or (_article_day(art) if p.as_of_now else None)
                qualifier = p.qualifier
                if qualifier is None and p.as_of_now:
                    qualifier = "đến nay"
                out.append(Figure(
                    value=p.value, low=p.low, high=p.high, qualifier=qualifier, unit=p.unit,
                    counts=p.counts, date=date,
                    text=sent.text[p.start : p.end], start=sent.start + p.start, end=sent.start + p.end,
                    citation=cite, of=p.of, low_strict=p.low_strict, high_strict=p.high_strict,
                    context=p.context,
                ))
    return out


def figures_in_text(text: str, date: str | None = None) -> list[Figure]:
    """Figures of a bare text (one pseudo-document; sentences split by ``segment``)."""
    from hoidap.models import Sentence, Span
    from hoidap.segment import split_sentences

    spans = split_sentences(text, Span(0, len(text)))
    sents = tuple(Sentence("text", k, sp.start, sp.end, text[sp.start : sp.end]) for k, sp in enumerate(spans))
    art = Article("text", "text", None, date, None, text, text, sentences=sents)
    return extract_figures([art])


# -- comparing -----------------------------------------------------------------
def quantity_class(fig: Figure) -> str:
    """The class a figure's unit falls in: "polity", "money:USD", "%", or the head noun."""
    lex = lexicon()
    unit = fig.unit or ""
    if unit in lex.currencies.values():
        return f"money:{unit}"
    folded = _fold_phrase(unit)
    folded = " ".join(_synonymised(folded.split(), lex))
    return lex.noun_class.get(folded, folded)


def same_quantity(a: Figure, b: Figure) -> bool:
    """Whether two figures count the same thing (unit class, key words, dates)."""
    if quantity_class(a) != quantity_class(b) or not a.unit:
        return False
    if a.date and b.date and a.date[:4] != b.date[:4]:
        return False
    ca, cb = set(a.context), set(b.context)
    if not ca or not cb:
        return False
    shared = ca & cb
    return bool(shared) and len(shared) / min(len(ca), len(cb)) >= SAME_QUANTITY_OVERLAP


def _interval(f: Figure) -> tuple[float, float, bool, bool]:
    low = f.low if f.low is not None else float("-inf")
    high = f.high if f.high is not None else float("inf")
    return low, high, f.low_strict, f.high_strict


def intersects(a: Figure, b: Figure) -> bool:
    """Whether the two figures' ranges can both hold (224 and "trên 220" can; 224 and "hơn 230" cannot)."""
    al, ah, als, ahs = _interval(a)
    bl, bh, bls, bhs = _interval(b)
    lo, lo_strict = (al, als) if al > bl else (bl, bls) if bl > al else (al, als or bls)
    hi, hi_strict = (ah, ahs) if ah < bh else (bh, bhs) if bh < ah else (ah, ahs or bhs)
    return lo < hi or (lo == hi and not lo_strict and not hi_strict)


def label(members: Sequence[Figure]) -> str:
    """ "conflict" if two figures from different documents cannot both hold, "agree" if all
    state the same range, else "compatible"."""
    pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]
             if a.citation.doc_id != b.citation.doc_id]
    if any(not intersects(a, b) for a, b in pairs):
        return "conflict"
    if all(_interval(a) == _interval(b) for a, b in pairs):
        return "agree"
    return "compatible"


def compare(figures: Sequence[Figure]) -> list[Conflict]:
    """Groups of figures about the same quantity stated by two documents or more, labelled.

    A figure joins the first group whose first figure is about the same quantity
    (as ``evidence.group_hits`` does for sentences). Conflicts come first.
    """
    groups: list[list[Figure]] = []
    for f in figures:
        for g in groups:
            if same_quantity(g[0], f):
                g.append(f)
                break
        else:
            groups.append([f])
    out = []
    for g in groups:
        if len({f.citation.doc_id for f in g}) < 2:
            continue
        out.append(Conflict(label(g), g[0].counts or g[0].unit or "", tuple(g)))
    order = {"conflict": 0, "compatible": 1, "agree": 2}
    return sorted(out, key=lambda c: order[c.label])
