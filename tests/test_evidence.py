"""Grouping retrieved sentences into statements and ordering them for citation."""

from __future__ import annotations

from hoidap.models import Hit
from hoidap.search.evidence import by_document, group_hits


def _hit(sid: int, doc: str, text: str, dup: str = "") -> Hit:
    return Hit(sid, doc, 0, len(text), text, 1.0 / sid, dup)


def test_syndicated_copies_are_one_statement() -> None:
    a = _hit(1, "a", "Việt Nam có quan hệ ngoại giao với 189 quốc gia.")
    b = _hit(2, "b", "Việt Nam có quan hệ ngoại giao với 189 quốc gia")  # a copy without the full stop
    c = _hit(3, "a", "Hội nghị diễn ra tại Hà Nội.")
    groups = group_hits([a, b, c])
    assert [[h.sentence_id for h in g] for g in groups] == [[1, 2], [3]]


def test_by_document_puts_each_articles_best_statement_first() -> None:
    # evidence@5 counted distinct cited sentences: two of the same article pushed a
    # second source out of the five citations (0.869 -> 0.8975 on ViNewsQA).
    groups = [[_hit(1, "a", "một")], [_hit(2, "a", "hai")], [_hit(3, "b", "ba")], [_hit(4, "c", "bốn")],
              [_hit(5, "b", "năm")]]
    assert [g[0].sentence_id for g in by_document(groups)] == [1, 3, 4, 2, 5]


def test_by_document_counts_every_source_of_a_statement() -> None:
    groups = [[_hit(1, "a", "x"), _hit(2, "b", "x")], [_hit(3, "b", "y")], [_hit(4, "c", "z")]]
    assert [g[0].sentence_id for g in by_document(groups)] == [1, 4, 3]
