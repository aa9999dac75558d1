"""hoidap.evaluate: the question settings of ``hoidap eval squad``."""

from __future__ import annotations

from hoidap.evaluate import partly_unmarked
from hoidap.text.normalize import strip_diacritics

Q = "Việt Nam đã đăng cai Hội nghị cấp cao APEC vào những năm nào?"


def test_a_question_stripped_whole_or_not_at_all() -> None:
    assert partly_unmarked(Q, 1.0) == strip_diacritics(Q)
    assert partly_unmarked(Q, 0.0) == Q


def test_a_question_stripped_in_part_is_the_same_every_run() -> None:
    half = partly_unmarked(Q, 0.5)
    assert half == partly_unmarked(Q, 0.5)
    assert half != Q and half != strip_diacritics(Q)
    assert strip_diacritics(half) == strip_diacritics(Q)  # only marks are taken away


def test_roc_auc_counts_pairs_ordered_and_ties_half() -> None:
    from hoidap.evaluate import roc_auc

    assert roc_auc([3.0, 2.0], [1.0, 0.0]) == 1.0
    assert roc_auc([1.0], [1.0]) == 0.5
    assert roc_auc([2.0, 0.0], [1.0, 1.0, 3.0]) == round((2 + 0) / 6, 4)
    assert roc_auc([], [1.0]) is None
