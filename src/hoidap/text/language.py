"""Is a text Vietnamese? A small offline check, and UTF-8 mojibake repair.

No model and no download: Vietnamese is the one Latin-script language whose words carry its own
letters (đ, ư, ơ, ạ, ...), so the share of words that have one, or that are common Vietnamese
function words (also typed without marks: "cua", "duoc"), tells Vietnamese from English, French or
a mojibake page. The function words are data (``data/page_patterns.json``).
"""

from __future__ import annotations

import re
import unicodedata

from hoidap.shipped import data_json
from hoidap.text.normalize import strip_diacritics

_VIET_LOWER = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
VIETNAMESE_LETTERS = frozenset(_VIET_LOWER + _VIET_LOWER.upper())

# Vietnamese news prose: 60-80% of its words carry a Vietnamese letter or are function words
# (the fixtures and the examples/ corpus: 0.75-0.9; typed without marks: 0.35-0.5 from the
# function words alone); English and French news: under 0.05. 0.25 sits between with room.
MIN_VIETNAMESE_SHARE = 0.25
# Fewer words than this say too little to judge (a caption, a one-line note): never flagged.
MIN_WORDS_TO_JUDGE = 20
# Only the start of a text is looked at: the language does not change half way, and ~300 words
# judge it as well as 5,000 (on 2,000 VietNews articles the lowest share is 0.70 either way);
# the check then costs ~0.1 ms an article (0.56 ms on whole articles).
SAMPLE_CHARS = 1_500

_FUNCTION_WORDS = frozenset(
    strip_diacritics(w) for w in data_json("page_patterns.json")["vietnamese_words"]
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_VIET_LETTER_RE = re.compile(f"[{''.join(sorted(VIETNAMESE_LETTERS))}]")
# Letters beyond Latin-1 (đ, ư, ơ, ạ, ả, ấ, ...): no other Latin-script language has them, so when
# they are this common (per word) the text is Vietnamese without looking at each word; this fast
# path answers for all 2,000 VietNews articles measured (benchmarks/sources.py).
_VIET_ONLY_RE = re.compile(f"[{''.join(sorted(c for c in VIETNAMESE_LETTERS if ord(c) > 0xFF))}]")
# UTF-8 read as Windows-1252 turns each letter beyond ASCII into a lead-byte character (Â-ô)
# followed by continuation-byte characters (0x80-0xBF as Windows-1252 shows them: ¡-¿, €, ‚, ƒ,
# …, ‘, ’, “, ”, •, –, —, ™, š, œ, ž, Ÿ, ..., and the five bytes it leaves undefined). Real
# Vietnamese text has no such pair, so ftfy (~0.6 ms an article) looks only at texts that do:
# on 2,000 VietNews articles it flagged one glued "...ấu thơCả nước..." as bad without this.
_CONTINUATION = "\u00a0-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u0081\u008d\u008f\u0090\u009d"
_MOJIBAKE_PAIR_RE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]")


def vietnamese_share(text: str) -> tuple[float, int]:
    """(share of words that look Vietnamese, number of words) of the start of ``text``."""
    words = _WORD_RE.findall(unicodedata.normalize("NFC", text[:SAMPLE_CHARS]))
    if not words:
        return 0.0, 0
    hits = 0
    for w in words:
        if w.isascii():
            hits += w.lower() in _FUNCTION_WORDS
        else:
            hits += bool(_VIET_LETTER_RE.search(w)) or strip_diacritics(w.lower()) in _FUNCTION_WORDS
    return hits / len(words), len(words)


def language_note(text: str) -> str | None:
    """A note for the ingest report when ``text`` does not look Vietnamese, else None."""
    sample = text[:SAMPLE_CHARS]
    if len(_VIET_ONLY_RE.findall(sample)) >= MIN_VIETNAMESE_SHARE * len(sample.split()):
        return None
    share, n = vietnamese_share(text)
    if n < MIN_WORDS_TO_JUDGE or share >= MIN_VIETNAMESE_SHARE:
        return None
    return (
        f"does not look Vietnamese (only {share:.0%} of {n} words are); "
        "ingested, but answers are tuned for Vietnamese"
    )


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """(text, note): UTF-8 read as Windows-1252/Latin-1 ("Viá»‡t Nam") repaired line by line with
    ftfy (only its encoding fix: nothing else is rewritten); the note says what was done, or that
    mojibake is left that could not be repaired. Text without mojibake is returned as is."""
    from ftfy import fix_encoding
    from ftfy.badness import is_bad

    if not _MOJIBAKE_PAIR_RE.search(text) or not is_bad(text):
        return text, None
    # Line by line: ftfy decides per segment, and a page mixing good and broken lines is
    # repaired fully only this way (checked on tests/data/pages/mojibake.html).
    fixed = "\n".join(
        fix_encoding(line) if _MOJIBAKE_PAIR_RE.search(line) and is_bad(line) else line
        for line in text.split("\n")
    )
    if _MOJIBAKE_PAIR_RE.search(fixed) and is_bad(fixed):
        if fixed != text:
            return fixed, "mojibake (UTF-8 read as another encoding) partly repaired; check the text"
        return text, "looks like mojibake (UTF-8 read as another encoding) that could not be repaired"
    return fixed, "mojibake (UTF-8 read as Windows-1252) repaired"
