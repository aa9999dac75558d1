"""Vietnamese normalisation as explicit, ordered steps.

Every matching form the engine uses is derived from one token of the original
text, so offsets always map back to it:

1. Unicode NFC (scraped pages mix precomposed and combining marks).
2. Case folding (``str.lower``; Vietnamese has no special folding cases).
3. One canonical tone-mark placement per syllable ("hoà" and "hòa" both become
   "hòa"), placed by the syllable's structure, so "hoàn", "quý" and "Huỳnh" are
   left as they are.
4. A diacritic-free form ("việt" -> "viet", "đ" -> "d") for queries typed
   without marks.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Tone marks as combining characters (NFD). Vowel-quality marks (breve U+0306,
# circumflex U+0302, horn U+031B) are part of the letter and stay.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
QUALITY_MARKS = frozenset("\u0302\u0306\u031b")
VOWELS = frozenset("aeiouy")

# A token is a formatted number ("1.200", "2,5", "189/193", "14/12/2021") or a
# run of letters/digits. Combining marks are included so NFD input tokenises
# like NFC input.
TOKEN_RE = re.compile(r"\d+(?:[.,/:]\d+)+|(?:[^\W_]|[\u0300-\u036f])+")
_HAS_MARK_RE = re.compile(r"[^\x00-\x7f]")


def nfc(text: str) -> str:
    """Step 1: Unicode NFC."""
    return unicodedata.normalize("NFC", text)


def _split_marks(ch: str) -> tuple[str, str]:
    """A letter's base-with-quality (NFC) and its tone mark ('' if none)."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in decomposed if c in TONE_MARKS)
    base = "".join(c for c in decomposed if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", base), tone


def _is_vowel(base: str) -> bool:
    return unicodedata.normalize("NFD", base)[:1].lower() in VOWELS


def _has_quality_mark(base: str) -> bool:
    return any(c in QUALITY_MARKS for c in unicodedata.normalize("NFD", base))


@lru_cache(maxsize=200_000)
def canonical_tone(syllable: str) -> str:
    """Step 3: put the tone mark of one syllable where the traditional rule puts it.

    Rule (the "old style" that most Vietnamese news uses): on the vowel with a
    quality mark (ă â ê ô ơ ư; the last one, so "ươ" takes it on "ơ"); else on
    the only vowel; else, with a final consonant, on the last vowel ("hoàn",
    "Huỳnh"); else on the first of two vowels ("hòa", "thúy") or the middle of
    three ("ngoài", "khuỷu"). "qu" and "gi" before a vowel are consonants, so
    "quý" and "giữ" keep their marks.
    """
    parts = [_split_marks(ch) for ch in syllable]
    tones = [t for _, t in parts if t]
    if len(tones) != 1 or len(tones[0]) != 1:
        return syllable
    tone = tones[0]
    bases = [b for b, _ in parts]
    lower = "".join(bases).lower()
    vowel_pos = [i for i, b in enumerate(bases) if _is_vowel(b)]
    if lower.startswith("qu") and len(vowel_pos) > 1 and vowel_pos[0] == 1 or lower.startswith("gi") and len(vowel_pos) > 1 and vowel_pos[0] == 1 and vowel_pos[1] == 2:
        vowel_pos = vowel_pos[1:]
    if not vowel_pos:
        return syllable
    # The nucleus is the first contiguous run of vowels.
    cluster = [vowel_pos[0]]
    for p in vowel_pos[1:]:
        if p != cluster[-1] + 1:
            break
        cluster.append(p)
    has_final = cluster[-1] < len(bases) - 1
    marked = [p for p in cluster if _has_quality_mark(bases[p])]
    if marked:
        target = marked[-1]
    elif len(cluster) == 1 or has_final:
        target = cluster[-1]
    elif len(cluster) == 2:
        target = cluster[0]
    else:
        target = cluster[1]
    out = list(bases)
    out[target] = unicodedata.normalize("NFC", bases[target] + tone)
    return "".join(out)


@lru_cache(maxsize=200_000)
def fold_token(token: str) -> str:
    """Steps 1-3 for one token: NFC, lower case, canonical tone placement."""
    return canonical_tone(nfc(token).lower())


def _strip_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D")


class _StripTable(dict[int, str]):
    """``str.translate`` table of step 4, filled one character the first time it is met.

    NFD decomposes character by character and only reorders marks, which are all
    dropped here, so stripping each character alone gives what stripping the
    whole text does; the table makes that one C-level lookup per character
    (profiling showed the per-character generator taking a third of ingest).
    """

    def __missing__(self, code: int) -> str:
        value = _strip_char(chr(code))
        self[code] = value
        return value


_STRIP_TABLE = _StripTable()


def strip_diacritics(text: str) -> str:
    """Step 4: drop every mark and map đ/Đ to d/D ("Việt Nam" -> "Viet Nam")."""
    return text.translate(_STRIP_TABLE)


def has_diacritics(text: str) -> bool:
    """Whether the text carries any Vietnamese marks (or other non-ASCII letters)."""
    return bool(_HAS_MARK_RE.search(text)) and strip_diacritics(text) != text


def normalize_text(text: str) -> str:
    """Steps 1-3 over a whole text, token by token, keeping everything else as is."""
    text = nfc(text)
    return TOKEN_RE.sub(lambda m: fold_token(m.group()), text)


class Token(NamedTuple):
    """One token of a text: offsets into that text plus its matching forms.

    A named tuple, immutable as a frozen dataclass, but made in half the time: answering a
    question tokenises ~3,000 tokens of candidate sentences, and a frozen dataclass's
    ``__init__`` (``object.__setattr__`` per field) was half of ``tokenize`` (153 against 73 us
    a VietNews sentence of 71 tokens).
    """

    start: int
    end: int
    norm: str  # NFC, lower case, canonical tone
    plain: str  # norm without diacritics


@lru_cache(maxsize=200_000)
def _forms(token: str) -> tuple[str, str]:
    """A token's (norm, plain) forms: answering a question tokenises ~900 tokens, most of them
    common words, and stripping each anew took a third of ``tokenize``."""
    norm = fold_token(token)
    return norm, strip_diacritics(norm)


_tuple_new = tuple.__new__  # Token's own __new__ is a Python function: this skips it (same tuple)


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text`` with offsets shifted by ``offset`` (for slices of a larger text)."""
    return [_tuple_new(Token, (m.start() + offset, m.end() + offset, *_forms(m.group())))
            for m in TOKEN_RE.finditer(text)]


@lru_cache(maxsize=8192)
def tokens_of(text: str) -> tuple[Token, ...]:
    """``tokenize(text)``, remembered: answering a question reads each candidate sentence
    up to three times (grouping the hits, ranking, extracting the span)."""
    return tuple(tokenize(text))


def terms(text: str) -> list[str]:
    """The normalised (accented) terms of a text, in order."""
    # findall + map: no match objects, and the cached fold called from C (hot in ingest).
    return list(map(fold_token, TOKEN_RE.findall(text)))


# -- keys -----------------------------------------------------------------------

# Fingerprints are truncated SHA-1: 16 hex digits (64 bits) keep collisions
# negligible below billions of items while staying readable in URLs and JSON.
FINGERPRINT_HEX = 16


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX]


def statement_key(sentence_terms: str) -> str:
    """Equal for sentences that say the same words, whatever their marks, case or punctuation."""
    return fingerprint(strip_diacritics(sentence_terms))
