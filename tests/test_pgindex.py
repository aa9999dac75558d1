"""The PostgreSQL keyword index's client-side scoring (hoidap.pgindex), without a server.

Postings built by ``postings_for`` and scored by ``score_postings`` must give the
same hits, to the bit, as ``score_rows`` over the rows' own terms: the sentence
search within documents uses the one, the document search the other, and parity
with tantivy (tests/test_pgstore.py) rests on both.
"""

from __future__ import annotations

import pytest

from hoidap.index import KeywordHit
from hoidap.pgindex import (
    C0,
    IMPACT_TFS,
    KIND_IDS,
    FieldPostings,
    postings_for,
    quantized_length,
    score_postings,
    score_rows,
)

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


def test_kind_ids_are_stable() -> None:
    assert KIND_IDS == {"sentences": 0, "documents": 1}  # stored in every lexicon row
