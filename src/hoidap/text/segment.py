"""Sentence splitting with offsets, and optional word segmentation.

Sentences are found inside the body paragraphs that cleaning kept, so every
sentence is a span of the original text. The splitter is a small rule set
rather than underthesea's ``sent_tokenize`` because that one returns strings,
not offsets, and offsets are what citations need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from hoidap.models import Span

# A sentence ends at . ! ? … (possibly repeated, possibly followed by closing
# quotes or brackets) when whitespace and then an upper-case letter, a digit, an
# opening quote or a bullet follow.
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s+[\"“‘«(\[\-–•]?[^\W_a-zđ])")
# Tokens that end in "." without ending a sentence: titles and common
# abbreviations in Vietnamese news ("TP. Hồ Chí Minh", "PGS.TS. Nguyễn ...").
ABBREVIATIONS = frozenset(
    ["tp", "tt", "ths", "ts", "pgs", "gs", "bs", "ks", "ls", "ncs", "mr", "mrs", "ms", "dr", "st", "no", "vs", "v.v", "tr", "ubnd", "hđnd"]
)
# Sentences shorter than this many characters are merged into the next one:
# they are usually list numbering ("1.") or a stray fragment, not evidence.
MIN_SENTENCE_CHARS = 12
_WORD_BEFORE_RE = re.compile(r"([^\s.]+)\.?$")


def _ends_with_abbreviation(text: str) -> bool:
    m = _WORD_BEFORE_RE.search(text)
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str, span: Span) -> list[Span]:
    """Split ``text[span.start:span.end]`` into sentence spans of ``text``."""
    chunk = text[span.start : span.end]
    out: list[Span] = []
    begin = 0
    for m in _BOUNDARY_RE.finditer(chunk):
        end = m.end()
        piece = chunk[begin:end]
        if m.group().startswith(".") and _ends_with_abbreviation(chunk[begin : m.start() + 1]):
            continue
        if len(piece.strip()) < MIN_SENTENCE_CHARS:
            continue
        out.append(Span(span.start + begin, span.start + end))
        begin = end
    out.append(Span(span.start + begin, span.end))
    return [_strip(text, s) for s in out if text[s.start : s.end].strip()]


def _strip(text: str, span: Span) -> Span:
    piece = text[span.start : span.end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    return Span(span.start + lead, span.end - trail)


def split_paragraphs(text: str, paragraphs: Iterable[Span]) -> list[Span]:
    """All sentence spans of the given body paragraphs, in order."""
    return [s for p in paragraphs for s in split_sentences(text, p)]


def words(text: str) -> list[str]:
    """underthesea word segmentation ("Việt Nam" as one word), for the word-level index field."""
    from underthesea import word_tokenize  # lazy: importing underthesea costs ~1 s

    return [w for w in word_tokenize(text) if w.strip()]


@lru_cache(maxsize=1024)
def _word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """The (start, end) of each multi-syllable word of ``text``, by underthesea's segmentation."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for w in words(text):
        at = text.find(w, pos)
        if at < 0:
            continue
        if " " in w:
            spans.append((at, at + len(w)))
        pos = at + len(w)
    return tuple(spans)


@lru_cache(maxsize=1024)
def _word_ends(text: str) -> dict[int, int]:
    """For each character offset inside a multi-syllable word of ``text``, where the word ends."""
    return {k: b for a, b in _word_spans(text) for k in range(a + 1, b)}


def word_end(text: str, end: int) -> int:
    """``end`` run on to the end of the word it falls inside ("hội viên cá|" -> "hội viên
    cá nhân"), by underthesea's segmentation; ``end`` itself at a word boundary.

    For spans cut by a syllable count or a capitalisation pattern; segmentation runs
    only when the next character is a lower-case letter after a space, the one way a
    span can end inside a word.
    """
    if end + 1 >= len(text) or text[end] != " " or not text[end + 1].islower():
        return end
    return _word_ends(text).get(end, end)


def word_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The word of several syllables (underthesea's segmentation) that ``text[start:end]``, one
    syllable, is part of: "xây" in "xây dựng" -> "xây dựng"; else ``(start, end)``."""
    return next(((a, b) for a, b in _word_spans(text) if a <= start and end <= b), (start, end))
