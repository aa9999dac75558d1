"""The PostgreSQL store: same answers as the embedded one, shared by processes, replicas.

Every test runs against real PostgreSQL servers started here on 127.0.0.1
(tests/pgserver.py) and removed at the end; without PostgreSQL they skip.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoidap.backends.postgres.keyword import PgIndex
from hoidap.engine import Engine
from hoidap.models import Filters
from hoidap.search.bm25 import bm25, fieldnorm_table, quantized_length
from hoidap.search.query import clauses as query_clauses
from hoidap.search.query import parse_query
from hoidap.search.retrieve import plan
from hoidap.settings import Settings
from tests.pgserver import PgServer, running_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUESTIONS = [q for q in (EXAMPLES / "questions.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
N_EXAMPLES = 9  # articles in examples/corpus (one file holds several)
EXTRA = ["Viet Nam co quan he ngoai giao voi bao nhieu quoc gia", "vắc xin", "Giá vàng hôm nay bao nhiêu?",
         "hội nghị đối ngoại toàn quốc lần thứ ba"]


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    yield from running_server()


def _engine(url: str, tmp: Path) -> Engine:
    return Engine(settings=Settings(index_dir=tmp, store=url))


@pytest.fixture(scope="module")
def both(pg: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine]]:
    """The examples corpus in an embedded and a PostgreSQL engine, ingested the same way."""
    tmp = tmp_path_factory.mktemp("both")
    emb, pge = Engine(tmp / "emb"), _engine(pg.create_database("both"), tmp / "pg")
    for eng in (emb, pge):
        assert len(eng.ingest([EXAMPLES / "corpus"]).ingested) == N_EXAMPLES
    yield emb, pge
    emb.close()
    pge.close()


def test_fieldnorm_table_is_tantivys() -> None:
    table = fieldnorm_table()
    assert table[:41] == tuple(range(41))
    assert table[41:52] == (42, 44, 46, 48, 50, 52, 54, 56, 60, 64, 68)  # tantivy FIELD_NORMS_TABLE
    assert len(table) == 256 and list(table) == sorted(table)
    assert quantized_length(59) == 56 and quantized_length(60) == 60
    # tf 1 in an average-length document: the tf part is (K1 + 1) / (1 + K1) = 1, the score the idf.
    assert bm25(1, 10, 10.0, 1, 10) == pytest.approx(math.log(1 + 9.5 / 1.5))


def test_sentences_within_documents_scored_from_their_terms_equal_the_postings_scores(
        both: tuple[Engine, Engine]) -> None:
    """PgPart scores the sentences of a few documents from their terms (score_rows), not postings:
    the same scores to the bit, in the same order, as the postings SQL restricted to them."""
    _, pge = both
    for q in QUESTIONS + EXTRA:
        clauses = query_clauses(parse_query(q))
        best = [h.key for h in pge.index.documents.search(clauses, 4)]
        sids = pge.store.document_sentences(best)
        everywhere = pge.index.sentences.search(clauses, 100_000)
        assert pge.index.sentences.search(clauses, 100_000, documents=best) == [
            h for h in everywhere if h.key in sids], q


def test_bm25_scores_equal_tantivys(both: tuple[Engine, Engine]) -> None:
    emb, pge = both
    for part in ("sentences", "documents"):
        e, p = getattr(emb.index, part), getattr(pge.index, part)
        assert e.num_docs() == p.num_docs()
        for q in QUESTIONS + EXTRA:
            clauses = query_clauses(parse_query(q))
            for f, t, _ in clauses:
                assert e.doc_freq(f, t) == p.doc_freq(f, t), (part, f, t)
            a, b = e.search(clauses, 50), p.search(clauses, 50)
            assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-4), (part, q)
            # retrieval's filter: rows of the best documents
            best = [h.key for h in emb.index.documents.search(clauses, 50)[::2]]
            inside = e.search(clauses, 50, documents=best)
            assert [h.score for h in inside] == pytest.approx(
                [h.score for h in p.search(clauses, 50, documents=best)], rel=1e-4), (part, q)
            assert inside or not best, (part, q)
            # The same keys with the same scores, up to the order of equal scores at the cut-off.
            theirs = {h.key: h.score for h in b}
            for h in a:
                if h.score > a[-1].score * (1 + 1e-4):
                    assert theirs.get(h.key) == pytest.approx(h.score, rel=1e-4), (part, q, h)


def test_document_sentences_equal(both: tuple[Engine, Engine]) -> None:
    emb, pge = both
    dnos = [1, 2, 3, 10**9]
    assert emb.store.document_sentences(dnos) == pge.store.document_sentences(dnos) != {}


def test_same_answers_and_citations(both: tuple[Engine, Engine]) -> None:
    emb, pge = both
    for q in QUESTIONS + EXTRA:
        a, b = emb.ask(q), pge.ask(q)
        assert (a.answer, a.confidence) == (b.answer, b.confidence), q
        assert [(c.doc_id, c.start, c.end) for c in a.citations] == [(c.doc_id, c.start, c.end) for c in b.citations]
    assert [d.doc_id for d in emb.documents()] == [d.doc_id for d in pge.documents()]
    doc = emb.documents()[0].doc_id
    assert emb.document(doc) == pge.document(doc)
    assert emb.store.counts() == pge.store.counts()


FILTERS = [Filters(outlets=("báo tin nhanh", "Cổng thông tin Thời sự")), Filters(since="2021-12-14"),
           Filters(until="2021-12-13"), Filters(since="2021-12-14", until="2021-12-14", outlets=("Điểm Tin Mỗi Ngày",)),
           Filters(docs=("45a8f8acb7fd7e46", "4782a965eabf5965")), Filters(since="2030")]


@pytest.mark.parametrize("filters", FILTERS)
def test_same_filtered_answers_and_citations(both: tuple[Engine, Engine], filters: Filters) -> None:
    emb, pge = both
    assert emb.store.allowed_documents(filters) == pge.store.allowed_documents(filters)
    allowed = set(emb.store.doc_ids(emb.store.allowed_documents(filters)).values())
    for q in QUESTIONS + EXTRA:
        a, b = emb.ask(q, filters), pge.ask(q, filters)
        assert (a.answer, a.confidence) == (b.answer, b.confidence), q
        assert [(c.doc_id, c.start, c.end) for c in a.citations] == [(c.doc_id, c.start, c.end) for c in b.citations]
        assert {c.doc_id for c in a.citations} <= allowed
        x, y = emb.search(q, 10, filters), pge.search(q, 10, filters)
        assert [(h.doc_id, h.start, h.end) for h in x] == [(h.doc_id, h.start, h.end) for h in y], q
        assert [h.score for h in x] == pytest.approx([h.score for h in y], rel=1e-6)


def test_a_question_reads_both_kinds_terms_in_one_lexicon_query(both: tuple[Engine, Engine], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    emb, pge = both
    index = PgIndex(pge.store)  # type: ignore[arg-type]
    queries: list[int] = []
    lookup = pge.store.lookup_terms  # type: ignore[attr-defined]
    monkeypatch.setattr(pge.store, "lookup_terms", lambda keys: queries.append(len(keys)) or lookup(keys))
    question = "hội nghị đối ngoại toàn quốc lần thứ ba"
    assert plan(index, parse_query(question), 0.1) == plan(emb.index, parse_query(question), 0.1)
    assert len(queries) == 1


def test_a_full_term_cache_is_emptied_before_a_lookup_not_after(both: tuple[Engine, Engine], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """PgPart._lookup filled its cache and then emptied it when over its bound, so the
    doc_freqs reading it next raised KeyError (found in review, 2026-11-24)."""
    emb, pge = both
    part = PgIndex(pge.store, Settings(pg_term_cache=3)).documents  # type: ignore[arg-type]
    pairs = [("acc", "hội"), ("acc", "nghị"), ("acc", "ngoại"), ("acc", "giao")]
    for _ in range(2):
        assert part.doc_freqs(pairs) == emb.index.documents.doc_freqs(pairs) != [0, 0, 0, 0]


def test_reingest_is_a_no_op(both: tuple[Engine, Engine]) -> None:
    _, pge = both
    before = pge.store.counts()
    report = pge.ingest([EXAMPLES / "corpus"])
    assert not report.ingested and len(report.duplicates) == N_EXAMPLES
    assert pge.store.counts() == before


# Version 1 had no postings.dno; 2 kept postings as integer arrays (bigint[] keys, ...).
OLD_POSTINGS = {1: "tid bigint NOT NULL, keys bigint[] NOT NULL, tfs integer[] NOT NULL, lens integer[] NOT NULL",
                2: "dno bigint, tid bigint NOT NULL, keys bigint[] NOT NULL, tfs integer[] NOT NULL,"
                   " lens integer[] NOT NULL"}


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_store_is_upgraded_by_rebuilding_its_postings(pg: PgServer, tmp_path: Path, version: int) -> None:
    import psycopg

    from hoidap.backends.postgres.store import SCHEMA_VERSION, PgStore

    url = pg.create_database(f"upgrade{version}")
    with _engine(url, tmp_path / "a") as eng:
        eng.ingest([EXAMPLES / "corpus" / "01_bao-tin-nhanh_doi-ngoai-tien-phong.txt"])
        expected = {q: eng.ask(q).answer for q in QUESTIONS}
        stats = eng.store.read("SELECT kind, field, term, df FROM lexicon ORDER BY 1, 2, 3")  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as conn:  # as that version left it
        conn.execute("DROP TABLE hoidap.postings")
        conn.execute(f"CREATE TABLE hoidap.postings ({OLD_POSTINGS[version]})")
        conn.execute("UPDATE hoidap.meta SET value = %s WHERE key = 'schema_version'", (str(version),))
    store = PgStore(url)
    assert store.read("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert store.read("SELECT kind, field, term, df FROM lexicon ORDER BY 1, 2, 3") == stats
    store.close()
    with _engine(url, tmp_path / "c") as eng:
        assert {q: eng.ask(q).answer for q in QUESTIONS} == expected
    with _engine(url, tmp_path / "b") as eng:
        assert eng.ingest([EXAMPLES / "corpus"]).ingested
        assert eng.store.counts()[0] == N_EXAMPLES
        assert eng.ask(QUESTIONS[0]).citations


def test_cli_and_environment_select_the_store(pg: PgServer, tmp_path: Path) -> None:
    url = pg.create_database("cli")
    env = {**os.environ, "HOIDAP_INDEX": str(tmp_path / "unused")}
    hoidap = [sys.executable, "-m", "hoidap.cli"]
    out = subprocess.run([*hoidap, "ingest", str(EXAMPLES / "corpus"), "--store", url, "--json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert len(json.loads(out)["ingested"]) == N_EXAMPLES
    out = subprocess.run([*hoidap, "ask", QUESTIONS[0], "--json"], env={**env, "HOIDAP_STORE": url},
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["citations"]
    assert not (tmp_path / "unused" / "hoidap.sqlite").exists()


def test_concurrent_ingests_store_each_article_once(pg: PgServer, tmp_path: Path) -> None:
    url = pg.create_database("concurrent")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(60):
        (corpus / f"{i:03}.txt").write_text(
            f"Bản tin số {i}\n\nNgày {i % 28 + 1}/12/2021, tỉnh số {i} xuất khẩu {i} nghìn tấn gạo."
            f" Giá trị đạt {i * 7 + 3} triệu USD, tăng so với cùng kỳ.\n", encoding="utf-8")
    env = {**os.environ, "HOIDAP_STORE": url, "HOIDAP_INDEX": str(tmp_path / "unused")}
    cmd = [sys.executable, "-m", "hoidap.cli", "ingest", str(corpus), "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    reports = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(len(r["ingested"]) for r in reports) >= 60  # a race may count one twice; the rows never
    with _engine(url, tmp_path / "pg") as eng:
        assert eng.store.counts()[0] == 60
        rows = eng.store.read(  # type: ignore[attr-defined]
            "SELECT count(*) FROM lexicon l WHERE df <> (SELECT sum(n) FROM postings p WHERE p.tid = l.tid)")
        assert rows[0][0] == 0
        assert eng.ask("Tỉnh số 17 xuất khẩu bao nhiêu tấn gạo?").citations[0].sentence.count("17")


def test_compact_merges_each_terms_rows_into_one_and_keeps_every_score(pg: PgServer, tmp_path: Path) -> None:
    url = pg.create_database("compact")
    with _engine(url, tmp_path / "c") as eng:
        for path in sorted((EXAMPLES / "corpus").iterdir()):  # one load batch per article
            eng.ingest([path])
        store = eng.store
        rows = "SELECT count(*), count(DISTINCT tid) FROM postings"
        before_rows = store.read(rows)[0]  # type: ignore[attr-defined]
        assert before_rows[0] > before_rows[1]
        clauses = [query_clauses(parse_query(q)) for q in QUESTIONS + EXTRA]
        expected = [(eng.index.documents.search(c, 50), eng.index.sentences.search(c, 100)) for c in clauses]
        assert store.compact(chunk=500) > 0  # type: ignore[attr-defined]
        assert store.read(rows)[0] == (before_rows[1], before_rows[1])  # type: ignore[attr-defined]
        assert store.read(  # type: ignore[attr-defined]
            "SELECT count(*) FROM lexicon l WHERE df <> (SELECT sum(n) FROM postings p WHERE p.tid = l.tid)") == [(0,)]
        assert [(eng.index.documents.search(c, 50), eng.index.sentences.search(c, 100)) for c in clauses] == expected
        assert store.compact() == 0  # type: ignore[attr-defined]


def test_reads_continue_from_the_replica_when_the_primary_stops(pg: PgServer, tmp_path: Path) -> None:
    url = pg.create_database("failover")
    with _engine(url, tmp_path / "w") as eng:
        eng.ingest([EXAMPLES / "corpus"])
    replica = pg.standby().start()
    try:
        pg.wait_replayed(replica)
        # Reads start on the primary (target_session_attrs=any takes the first host that
        # answers), so stopping it exercises the reconnection to the replica.
        both_hosts = (f"postgresql://postgres@127.0.0.1:{pg.port},127.0.0.1:{replica.port}/failover"
                      "?target_session_attrs=any")
        errors: list[BaseException] = []
        answers: list[tuple[float, str | None]] = []
        stop = threading.Event()

        def load() -> None:
            with _engine(both_hosts, tmp_path / "r") as reader:
                i = 0
                while not stop.is_set():
                    try:
                        answers.append((time.monotonic(), reader.ask(QUESTIONS[i % len(QUESTIONS)]).answer))
                    except Exception as e:  # the first failure is the result
                        errors.append(e)
                        return
                    i += 1

        t = threading.Thread(target=load)
        t.start()
        time.sleep(1.0)
        stopped_at = time.monotonic()
        pg.stop("immediate")
        time.sleep(1.5)
        stop.set()
        t.join(timeout=30)
        assert not errors, errors[:3]
        after = [a for when, a in answers if when > stopped_at + 0.1]
        assert after and any(a is not None for a in after)
        assert len({a for _, a in answers}) >= 2
    finally:
        replica.remove()
        pg.start()


def test_delete_takes_postings_out_as_if_never_added(pg: PgServer, tmp_path: Path) -> None:
    files = sorted((EXAMPLES / "corpus").iterdir())
    with _engine(pg.create_database("deleted"), tmp_path / "d") as eng, \
            _engine(pg.create_database("never"), tmp_path / "n") as fresh:
        gone = eng.ingest([files[0]]).ingested
        for path in files[1:]:
            eng.ingest([path])
            fresh.ingest([path])
        assert eng.delete(list(gone)).deleted == gone
        stats = "SELECT kind, field, docs, tokens FROM field_stats ORDER BY 1, 2"
        lexicon = "SELECT kind, field, term, df FROM lexicon WHERE df > 0 ORDER BY 1, 2, 3"
        for sql in (stats, lexicon):
            assert eng.store.read(sql) == fresh.store.read(sql)  # type: ignore[attr-defined]
        assert eng.store.read(  # type: ignore[attr-defined]
            "SELECT count(*) FROM lexicon l WHERE df <> (SELECT coalesce(sum(n), 0) FROM postings p"
            " WHERE p.tid = l.tid)") == [(0,)]
        for q in QUESTIONS + EXTRA:
            a, b = eng.ask(q), fresh.ask(q)
            assert (a.answer, a.confidence, [c.doc_id for c in a.citations]) == \
                (b.answer, b.confidence, [c.doc_id for c in b.citations])
