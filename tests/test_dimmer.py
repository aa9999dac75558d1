"""hoidap.dimmer: the server reads fewer sentences while questions queue, and fully when they do not."""

from __future__ import annotations

from hoidap.dimmer import Dimmer


def test_a_question_asked_of_an_idle_server_is_read_fully() -> None:
    d = Dimmer(full=3, readers=2, budget_s=0.4)
    d.observe(3, 0.05)
    assert d.depth(0) == 3


def test_a_queue_longer_than_the_budget_allows_reads_fewer_sentences() -> None:
    d = Dimmer(full=3, readers=2, budget_s=0.4)
    d.observe(3, 0.045)
    d.observe(2, 0.035)
    # 18 waiting on 2 readers: 10 turns; 10 x 45 ms over the budget, 10 x 35 ms within it.
    assert d.depth(18) == 2
    assert d.depth(30) == 1  # 16 turns: even 2 sentences are over it; never below 1
    assert d.depth(2) == 3


def test_a_depth_never_measured_is_tried_before_a_smaller_one() -> None:
    d = Dimmer(full=3, readers=1, budget_s=0.001)
    assert d.depth(1) == 3
    d.observe(3, 0.05)
    assert d.depth(1) == 2
    d.observe(2, 0.04)
    assert d.depth(1) == 1


def test_with_nothing_queued_a_question_is_read_fully_whatever_the_costs_seen() -> None:
    """The first question of a reader loads the model: its cost must not dim an idle server."""
    d = Dimmer(full=3, readers=2, budget_s=0.4)
    d.observe(3, 0.9)
    assert d.depth(0) == 3 and d.depth(1) == 2


def test_costs_follow_what_the_readers_take_lately() -> None:
    d = Dimmer(full=3, readers=2, budget_s=0.4)
    d.observe(3, 0.045)
    for _ in range(30):  # an upload takes half the CPU: each question takes twice as long
        d.observe(3, 0.09)
    d.observe(2, 0.035)
    assert d.depth(8) == 2  # 5 turns x 90 ms is over 400 ms
    for _ in range(30):
        d.observe(3, 0.045)
    assert d.depth(8) == 3


def test_without_a_budget_every_question_is_read_fully() -> None:
    d = Dimmer(full=3, readers=2, budget_s=None)
    d.observe(3, 10.0)
    assert d.depth(1000) == 3
