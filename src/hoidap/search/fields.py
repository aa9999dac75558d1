"""The fields both keyword indexes hold, and how a row's terms become them.

Rows arrive as space-joined accented terms (``hoidap.text.normalize``); each
backend indexes the same fields of them, so both rank alike:

- ``acc``: canonical accented syllables ("hòa", "việt");
- ``plain``: the same without diacritics ("hoa", "viet"), for queries typed
  without marks;
- ``acc2``/``plain2`` (documents only): adjacent-syllable bigrams ("việt_nam"),
  which capture Vietnamese compound words without a word segmenter. Measured
  by benchmarks/retrieval_fields.py: bigrams lift document evidence@1 on
  ViNewsQA from 0.707 to 0.777, while underthesea words add nothing on top and
  cost ~15 ms per article.
"""

from __future__ import annotations

from hoidap.text.normalize import strip_diacritics

FIELDS = ("acc", "plain", "acc2", "plain2")
BIGRAM_FIELDS = frozenset({"acc2", "plain2"})
# The two keyword indexes: one row per body sentence, and one per document (title + body).
KINDS = ("sentences", "documents")


def bigrams(terms: list[str]) -> str:
    """Adjacent-term pairs joined by "_" ("việt nam" -> "việt_nam"), space-separated."""
    # map/join in C: this runs over every document's terms twice per ingest.
    return " ".join(map("_".join, zip(terms, terms[1:], strict=False)))


def field_texts(terms: str, with_bigrams: bool) -> dict[str, str]:
    """Each field's space-joined tokens for one row of space-joined accented ``terms``."""
    plain = strip_diacritics(terms)
    out = {"acc": terms, "plain": plain}
    if with_bigrams:
        out["acc2"] = bigrams(terms.split())
        out["plain2"] = bigrams(plain.split())
    return out


def field_tokens(terms: str, with_bigrams: bool) -> dict[str, list[str]]:
    """``field_texts`` split into tokens (what a postings list counts)."""
    return {f: text.split() for f, text in field_texts(terms, with_bigrams).items()}
