"""The PostgreSQL keyword index's client-side scoring (hoidap.backends.postgres.keyword), without a server.

Postings built by ``postings_for`` and scored by ``score_postings`` must give the
same hits, to the bit, as ``score_rows`` over the rows' own terms: the sentence
search within documents uses the one, the document search the other, and parity
with tantivy (tests/test_postgres_store.py) rests on both.
"""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from hoidap.backends.postgres import keyword as pgindex
from hoidap.backends.postgres.keyword import C0, IMPACT_TFS, SCORE_UNIT, score_postings, score_rows
from hoidap.backends.postgres.postings import (
    CODE_DTYPE,
    KIND_IDS,
    TF_DTYPE,
    FieldPostings,
    postings_for,
)
from hoidap.models import KeywordHit
from hoidap.search.bm25 import quantized_length
from hoidap.search.fields import field_tokens

ROWS = [
    (3, "hội nghị ngoại giao lần thứ 31 tại hà nội"),
    (5, "thủ tướng phát biểu tại hội nghị ngoại giao"),
    (8, " ".join(["xuất khẩu"] * (IMPACT_TFS + 4)) + " gạo"),  # a tf past the impact table
    (9, "kinh tế tăng trưởng"),
    (12, "hoà bình và hòa hợp"),
]


def _as_rows(fields: list[FieldPostings], tids: dict[tuple[str, str], int]) -> list[tuple[int, int, bytes, bytes, bytes]]:
    """A batch's postings as the rows PgStore.postings returns."""
    out = []
    for fp in fields:
        for i, term in enumerate(fp.terms):
            a, b = int(fp.starts[i]), int(fp.starts[i + 1])
            out.append((tids[(fp.field, term)], b - a, fp.keys[a:b].tobytes(), fp.tfs[a:b].tobytes(),
                        fp.codes[a:b].tobytes()))
    return out


def _both(rows: list[tuple[int, str]], clauses: list[tuple[str, str, float, float]], k: int) -> tuple[list[KeywordHit], list[KeywordHit]]:
    postings = postings_for("sentences", rows)
    tids = {(fp.field, t): n for n, (fp, t) in enumerate((fp, t) for fp in postings.fields for t in fp.terms)}
    by_clause = [(tids.get((f, t), -1), w, c1) for f, t, w, c1 in clauses]
    return score_postings(_as_rows(postings.fields, tids), by_clause, k), score_rows(rows, clauses, k)


@pytest.mark.parametrize("k", [1, 2, 10])
def test_postings_and_rows_score_alike_to_the_bit(k: int) -> None:
    clauses = [("acc", "xuất", 2.5, 0.04), ("plain", "xuat", 0.7, 0.04), ("acc", "hội", 1.9, 0.05),
               ("acc", "ngoại", 3.1, 0.05), ("plain", "hoa", 0.9, 0.05), ("acc", "hội", 1.9, 0.05)]
    from_postings, from_rows = _both(ROWS, clauses, k)
    assert from_postings == from_rows
    assert from_rows[0].key in (3, 5, 8)
    assert len(from_rows) == min(k, 4)  # row 9 matches nothing


def test_a_term_frequency_past_the_impact_table_is_scored_exactly() -> None:
    tf = IMPACT_TFS + 4
    (hit,) = score_rows([(8, ROWS[2][1])], [("acc", "khẩu", 1.0, 0.01)], 1)
    length = quantized_length(2 * tf + 1)  # as tantivy's fieldnorm code rounds it
    assert hit.score == pytest.approx(1.0 * tf / (tf + C0 + 0.01 * length), rel=1e-9)
    assert _both(ROWS, [("acc", "khẩu", 1.0, 0.01)], 5)[0] == [hit]


def test_a_token_of_marks_alone_counts_in_the_accented_field_only() -> None:
    """field_tokens strips marks per field: a token made only of combining marks vanishes from
    the plain field, which is then one token shorter; score_rows must count it the same way."""
    rows = [(1, "việt nam \u0301 hoà bình"), (2, "viet nam hoa binh ca")]
    clauses = [("plain", "viet", 1.0, 0.1), ("acc", "việt", 2.0, 0.1)]
    from_postings, from_rows = _both(rows, clauses, 5)
    assert from_postings == from_rows and len(from_rows) == 2


def _reference(rows: list[tuple[int, str]], clauses: list[tuple[str, str, float, float]],
               k: int) -> list[KeywordHit]:
    """BM25 by the definition: each row split into its fields (field_tokens), a Counter per field."""
    scored = []
    for key, terms in rows:
        fields = field_tokens(terms, with_bigrams=False)
        counts = {f: Counter(toks) for f, toks in fields.items()}
        parts = [round(w * tf / (tf + C0 + c1 * quantized_length(len(fields[f]))) * SCORE_UNIT)
                 for f, t, w, c1 in clauses if (tf := counts[f][t])]
        if parts:
            scored.append((-sum(parts), key))
    return [KeywordHit(key, -neg / SCORE_UNIT) for neg, key in sorted(scored)[:k]]


@pytest.mark.parametrize("seed", range(20))
def test_score_rows_tokenizes_odd_rows_as_split_does(seed: int) -> None:
    """score_rows finds tokens in the joined code points, not by split(): rows with other
    whitespace, doubled or edge spaces, empty rows and tokens of marks alone must still
    give the tokens, lengths and scores of field_tokens."""
    rng = random.Random(seed)
    # Marks alone; a control character inside a token; characters that strip to several
    # (Hangul) or lie beyond the lookup tables: the plain tokens' bounds then move.
    words = ["hà", "nội", "việt", "nam", "hoà", "hòa", "đối", "ngoại", "2021", "a", "an",
             "\u0301", "\u0300\u0301", "x\x01y", "한국", "ﬁ"]
    odd = ["\xa0", "\t", "  ", "\n", "\u2003"]

    def row() -> str:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.3:
            text = text.replace(" ", rng.choice(odd), 1)
        return rng.choice(["", " "]) + text + rng.choice(["", " "])

    rows = [(rng.randint(0, 10**6), row()) for _ in range(rng.randint(1, 40))]
    clauses = [(rng.choice(["acc", "plain"]), rng.choice(words + ["viet", "hoa", "a b", ""]),
                rng.random() * 5, rng.random() * 0.1) for _ in range(rng.randint(1, 8))]
    assert score_rows(rows, clauses, 10) == _reference(rows, clauses, 10)


def test_short_lists_scored_directly_equal_the_table_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """_parts computes lists shorter than DIRECT_PARTS without its table: the same numbers."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 3000))
        tfs = np.minimum(rng.geometric(0.4, n), 40).astype(TF_DTYPE)
        codes = rng.integers(0, 256, n).astype(CODE_DTYPE)
        w, c1 = float(rng.random() * 20), float(rng.random() * 0.05)
        direct = pgindex._parts(w, c1, tfs, codes)
        monkeypatch.setattr(pgindex, "DIRECT_PARTS", 0)
        assert np.array_equal(direct, pgindex._parts(w, c1, tfs, codes))
        monkeypatch.undo()


@pytest.mark.parametrize("texts", [["a b", "c"], ["a\tb"], ["a\xa0b", "c"], ["x\x01y"], [""], ["", ""],
                                   ["a\u2003b"], ["hà nội", "việt nam"], ["a\nb", "c"], ["\u2028"]])
def test_printable_rows_is_isprintable_of_the_rows(texts: list[str]) -> None:
    codes = pgindex._code_points("\n".join(texts))
    assert pgindex._printable_rows(codes, texts) == " ".join(texts).isprintable()


def test_long_lists_are_read_only_where_the_rare_terms_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    """MaxScore: once the rare term's documents outscore anything the frequent term alone can
    give, the frequent term's list is scored only at those documents, and the result is the
    exhaustive one."""
    rows = [(k, "phổ biến" + (" hiếm" if k % 100 == 0 else "")) for k in range(5000)]
    clauses = [("acc", "hiếm", 9.0, 0.05), ("acc", "phổ", 1.0, 0.05), ("acc", "biến", 0.5, 0.05)]
    sizes: list[int] = []
    parts = pgindex._parts

    def counted(w: float, c1: float, tfs: np.ndarray, codes: np.ndarray) -> np.ndarray:
        sizes.append(len(tfs))
        return parts(w, c1, tfs, codes)

    monkeypatch.setattr(pgindex, "_parts", counted)
    from_postings, from_rows = _both(rows, clauses, 10)
    assert from_postings == from_rows == _reference(rows, clauses, 10)
    assert sizes[:3] == [50, 50, 50]  # the rare list, then the two long ones at its 50 documents


def test_kind_ids_are_stable() -> None:
    assert KIND_IDS == {"sentences": 0, "documents": 1}  # stored in every lexicon row
