"""Vietnamese numbers in a sentence: formats, qualifiers, and numbers that are not counts.

"1.200" is 1200 and "2,5" is 2.5 (dots group thousands, a comma marks decimals);
a qualifier before a number ("hơn", "khoảng", "ít nhất") turns it into a range;
dates, clock times, codes, labels and ordinals ("14/12", "7 giờ 23", "22-NQ/TW",
"lần thứ 31") are numbers that name rather than count. ``Sent`` is the token view
of one sentence that ``facts`` parses figures from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hoidap.text.lexicons import Lexicon
from hoidap.text.normalize import Token
from hoidap.text.tokens import TokenSentence

# A number token as ``normalize.TOKEN_RE`` cuts it: digits with . , / : inside.
NUMBER_RE = re.compile(r"\d+(?:[.,/:]\d+)*")
# "khoảng N" is read as N ± 10 % and "gần N" as [0.9 N, N): the usual
# rounding of news copy ("khoảng 400 tỷ USD" for 396 or 405).
APPROX_SPREAD = 0.1
# Plain integers in this range with no unit or counted noun after them are years.
YEAR_RANGE = (1900, 2100)
# Punctuation that ends a phrase (a comma between two figures, a bracket).
HARD_PUNCT = re.compile(r"[,;:.!?()\[\]\"“”‘’«»…]")


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
class Sent(TokenSentence):
    hard: list[bool] = field(default_factory=list)  # hard punctuation before token k

    def __post_init__(self) -> None:
        self.hard = [bool(HARD_PUNCT.search(self.gap(k))) for k in range(len(self.toks) + 1)]

    def _phrase(self, i: int, j: int) -> str:
        return " ".join(self.toks[k].norm for k in range(i, j))

    def phrase_at(self, i: int, keys: frozenset[str] | dict[str, Any], longest: int) -> int:
        """Length (in tokens) of the longest entry starting at token ``i`` (same clause), 0 if none."""
        return self.longest_entry(i, keys, _firsts(keys), self.hard, longest, self._phrase)

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


def is_number(raw: str) -> bool:
    return bool(NUMBER_RE.fullmatch(raw))


def is_word(s: Sent, i: int) -> bool:
    """A token with a letter in it ("quốc", "12C"), not a bare number."""
    return 0 <= i < len(s.toks) and not s.raw(i).isdigit() and not is_number(s.raw(i))


def is_compound(s: Sent, i: int, lex: Lexicon) -> bool:
    """Part of a date, score, time, plate or name rather than a count.

    "9-12-2015" and "24-4" (the number after a dash glued to another number),
    "7 giờ 23 phút" and "21 giờ hôm qua" (clock times), "04429" (a leading
    zero), "iOS 15", "J-League 2" (a capitalised name just before).
    """
    raw = s.raw(i)
    if len(raw) > 1 and raw[0] == "0" and raw[1].isdigit():
        return True
    if i > 0 and s.gap(i) in ("-", "–", "/", ".") and is_number(s.raw(i - 1)):
        return True
    if s.norm(i + 1) == "giờ" and i + 2 < len(s.toks) and not s.hard[i + 1] and not s.hard[i + 2] \
            and (is_number(s.raw(i + 2)) or s.norm(i + 2) in lex.time_of_day):
        return True
    # "Đến khoảng hơn 20 giờ": a clock time after "lúc", "đến", "vào" ... within the clause.
    if s.norm(i + 1) == "giờ" and not s.hard[i + 1] and any(
            s.norm(k) in lex.clock_words for k in range(max(s.clause_start(i), i - 3), i)):
        return True
    prev = s.raw(i - 1) if i > 0 else ""
    return i > 1 and not s.hard[i] and any(c.isupper() for c in prev) and is_word(s, i - 1)


def is_glued(s: Sent, i: int) -> bool:
    """Token ``i`` is part of a code or name: "COVID-19", "22-NQ/TW", "MS-804"."""
    before = s.gap(i)
    if i > 0 and before in ("-", "–", "") and is_word(s, i - 1):
        return True
    after = s.gap(i + 1) if i + 1 < len(s.toks) else ""
    return after in ("-", "–") and is_word(s, i + 1) and s.raw(i + 1)[:1].isupper()


def looks_like_date(s: Sent, i: int, lex: Lexicon) -> bool:
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
            return not (nxt < len(s.toks) and not HARD_PUNCT.search(s.gap(nxt))
                        and is_word(s, nxt) and s.raw(nxt)[:1].islower())
    return False


def is_labelled(s: Sent, i: int, lex: Lexicon) -> bool:
    """A number that names rather than counts: "lần thứ 31", "Điều 5", "tháng 7", "Quận 1".
    A label word that is also a verb, written in lower case and followed by a counted noun,
    counts: "điều 15 xe cứu hỏa tới hiện trường" (dispatched 15 fire engines)."""
    if i == 0 or HARD_PUNCT.search(s.gap(i)):
        return False
    n = s.phrase_before(i, lex.label_words, 3)
    if n == 1 and s.norm(i - 1) in VERB_LABELS and s.raw(i - 1).islower() and i + 1 < len(s.toks) \
            and not s.hard[i + 1] and s.raw(i + 1).isalpha() and s.norm(i + 1) not in lex.np_stop \
            and s.norm(i + 1) not in lex.label_words:
        return False
    return n > 0


# Verbs of change, after which "hơn" qualifies the change ("tăng hơn 500%": by more than 500%).
CHANGE_VERBS = frozenset({"tăng", "giảm"})
# The word that makes an adjective a dimension's noun: "chiều dài", "chiều cao" ("nhiệt độ cao hơn 2 độ" stays a difference).
DIMENSION_NOUNS = frozenset({"chiều"})
# Label words that are verbs too ("điều" = dispatch): in lower case before a counted noun they count.
VERB_LABELS = frozenset({"điều"})
# Words after "20g" that make it a time of day.
CLOCK_FOLLOWERS = frozenset({"sáng", "trưa", "chiều", "tối", "đêm", "hôm", "rạng", "ngày", "cùng"})
# A number with its unit written on ("300km", "20kg", "5ha"): split so the unit is read as one.
_GLUED_UNIT_RE = re.compile(r"^(\d+(?:[.,]\d+)*)([^\W\d_]+\d?)$")


def split_glued_units(toks: Sequence[Token], lex: Lexicon) -> list[Token]:
    """Tokens with "300km" split into "300" and "km" where the letters are a unit of measure
    (a tokeniser keeps them one token; "8.500m2" it already splits)."""
    out: list[Token] = []
    for k, t in enumerate(toks):
        m = _GLUED_UNIT_RE.match(t.norm)
        # "20g tối", "lúc 8g": a clock time ("g" for giờ), not grams.
        clock = m is not None and m.group(2) == "g" and (
            k + 1 < len(toks) and toks[k + 1].norm in CLOCK_FOLLOWERS or k > 0 and toks[k - 1].norm == "lúc")
        if m and m.group(2) in lex.measures and not clock:
            cut = t.start + len(m.group(1))
            out += [Token(t.start, cut, m.group(1), m.group(1)), Token(cut, t.end, m.group(2), m.group(2))]
        else:
            out.append(t)
    return out



def qualifier_before(s: Sent, i: int, lex: Lexicon) -> tuple[str | None, str | None, int]:
    """(qualifier as written, its kind, its first token) just before the number at ``i``."""
    n = s.phrase_before(i, lex.qualifiers, 3)
    if not n:
        return None, None, i
    first = i - n
    words = " ".join(s.toks[k].norm for k in range(first, i))
    kind = lex.qualifiers[words]
    # "cao hơn 2 độ" is a difference of 2, not "more than 2"; after a verb of change the
    # qualifier stays ("tăng hơn 500%": a rise of more than 500%), and after a dimension's
    # noun ("chiều dài hơn 76km": a length of more than 76 km).
    if words in ("hơn", "quá") and first > 0 and not HARD_PUNCT.search(s.gap(first)) \
            and s.norm(first - 1) in lex.comparatives and s.norm(first - 1) not in CHANGE_VERBS \
            and not (first > 1 and s.norm(first - 2) in DIMENSION_NOUNS):
        return None, None, i
    written = s.text[s.toks[first].start : s.toks[i - 1].end]
    return written, kind, first
