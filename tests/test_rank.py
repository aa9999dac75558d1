"""The learned answer ranker: its shipped model, its features, and what it chooses."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources

import pytest

from hoidap.backends.embedded.store import StoredSentence
from hoidap.engine import Engine
from hoidap.models import RawDocument
from hoidap.qa import rank
from hoidap.qa.question import parse_question
from hoidap.search.evidence import group_hits
from hoidap.search.query import parse_query
from hoidap.search.retrieve import search
from hoidap.settings import Settings

QUESTION = "Việt Nam đã nhận được bao nhiêu liều vắc xin?"
NO_NUMBER = "Việt Nam đã nhận được vắc xin từ các nước bạn bè và tổ chức quốc tế."
NUMBER = "Tính đến nay, Việt Nam đã nhận được hơn 151 triệu liều vắc xin."


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("rank")
    docs = [
        RawDocument(source="a.txt", text=f"Vắc xin về Việt Nam\n\n{NO_NUMBER} Các lô hàng đến liên tục."),
        RawDocument(source="b.txt", text=f"Tiêm chủng\n\nChiến dịch tiêm chủng tiếp tục. {NUMBER}"),
        RawDocument(source="c.txt", text="Giá vàng\n\nGiá vàng hôm nay tăng mạnh tại các cửa hàng."),
    ]
    with Engine(root) as eng:
        assert eng.ingest_documents(docs).ok
        yield eng


def test_model_loads_and_matches_the_features() -> None:
    m = rank.model()
    assert m["features"] == list(rank.FEATURES)
    assert m["version"] >= 2 and m["trees"]
    assert "train_rank.py" in m["command"]
    for t in m["trees"]:
        assert len(t["left"]) == len(t["right"]) == len(t["feature"]) == len(t["threshold"]) == len(t["value"])
        assert all(-1 <= f < len(rank.FEATURES) for f in t["feature"])


def test_model_file_is_small() -> None:
    path = resources.files("hoidap").joinpath("data", "rank_model.json")
    assert len(path.read_bytes()) < 200_000


def test_score_with_walks_the_tree() -> None:
    tree = {"feature": [0, -1, -1], "threshold": [0.5, 0.0, 0.0], "left": [1, -1, -1],
            "right": [2, -1, -1], "value": [0.0, -1.0, 2.0]}
    assert rank.score_with(0.25, [tree], [0.5]) == 0.25 - 1.0  # equal to the threshold goes left
    assert rank.score_with(0.25, [tree], [0.9]) == 0.25 + 2.0
    assert rank.scores(rank.forest(0.25, [tree]), [[0.5], [0.9]]) == [0.25 - 1.0, 0.25 + 2.0]


def test_scores_walk_every_tree_at_once_and_equal_score_with_to_the_bit() -> None:
    m = rank.model()
    rng = random.Random(3)
    rows = [[rng.choice([0.0, 1.0, rng.random(), rng.gauss(0, 3), float(rng.randint(0, 20))])
             for _ in rank.FEATURES] for _ in range(200)]
    assert rank.scores(rank.model_forest(), rows) == [rank.score_with(m["init"], m["trees"], r) for r in rows]


def _article(engine: Engine, text: str) -> list[StoredSentence]:
    (h,) = [h for h in search(engine.index, engine.store, parse_query(text), 20) if h.text == text]
    return engine.store.sentences_of(h.doc_id)


def test_features_are_finite(engine: Engine) -> None:
    hits = search(engine.index, engine.store, parse_query(QUESTION), 20)
    cands = rank.candidates(parse_question(QUESTION), _article(engine, NUMBER), {h.sentence_id: h.sentence_score for h in hits},
                            engine.index)
    assert len(cands) == 2
    for c in cands:
        assert len(c.features) == len(rank.FEATURES)
        assert all(math.isfinite(x) for x in c.features)
        assert math.isfinite(rank.scores(rank.model_forest(), [c.features])[0])


def test_choose_reads_sentences_that_were_not_retrieved(engine: Engine) -> None:
    # The answer sentence of the article is not among the hits at all: the ranker reads
    # the whole article, so it is still found (the old rule chose among hits only).
    sentences = _article(engine, NUMBER)
    hits = [h for h in search(engine.index, engine.store, parse_query(QUESTION), 20) if h.text != NUMBER]
    choice = rank.choose(parse_question(QUESTION), hits, sentences, engine.index)
    assert choice is not None
    assert choice.hit.text == NUMBER and "151" in choice.text
    assert choice.kind == "number"
    assert 0.0 < choice.confidence <= 1.0


def test_choose_document_prefers_a_typed_span(engine: Engine) -> None:
    groups = group_hits(search(engine.index, engine.store, parse_query(QUESTION), 20))
    assert rank.choose_document(parse_question(QUESTION), groups) == _article(engine, NUMBER)[0].doc_id


def test_engine_cites_the_chosen_sentence_first(engine: Engine) -> None:
    ans = engine.ask(QUESTION)
    assert ans.answer is not None and "151" in ans.answer
    assert ans.citations[0].sentence == NUMBER


def test_choose_without_candidates_is_none(engine: Engine) -> None:
    assert rank.choose(parse_question(QUESTION), [], [], engine.index) is None
    assert rank.choose_document(parse_question(QUESTION), []) is None


def test_no_scikit_learn_at_run_time() -> None:
    code = ("import sys, hoidap.engine, hoidap.qa.rank; hoidap.qa.rank.model(); "
            "sys.exit('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_default_threshold_is_the_trained_one() -> None:
    # Settings.min_confidence documents the model's threshold: retraining must update both.
    assert Settings().min_confidence == rank.model()["confidence"]["threshold"]


def test_confidence_is_a_probability(engine: Engine) -> None:
    on_topic = engine.ask(QUESTION)
    off_topic = engine.ask("Tỷ giá đô la Mỹ tại ngân hàng Vietcombank hôm nay là bao nhiêu?")
    assert 0.0 < off_topic.confidence < on_topic.confidence < 1.0
    assert off_topic.answer is None


def test_ranker_never_learns_from_the_reported_fold() -> None:
    # ViQuAD 1.0 fold B (eval squad) and ViQuAD 2.0 fold B (the reader's calibration, B2 its
    # report) are measured with this ranker: it and its confidence learn from fold A only.
    model = rank.model()
    assert "fold-A" in model["data"]
    assert "fold-A" in model["confidence"]["data"]
