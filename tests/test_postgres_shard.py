"""The sharded PostgreSQL store (hoidap.backends.postgres.shard): documents on two shards, the same answers.

Starts three PostgreSQL servers on 127.0.0.1 (tests/pgserver.py): a coordinator
and two shards reached through postgres_fdw. The same articles go into the
embedded store, an unsharded PostgreSQL store (a second database on the
coordinator's server) and the sharded one, ingested the same way, in batches
that each span both shards. Then: the rows really are split between the shards,
each shard holding the postings of its own documents; term statistics are
global; BM25 scores, answers and top-10 citations equal the other two stores';
an article is stored once even when a batch is sent again. Skips without
PostgreSQL or its postgres_fdw extension.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hoidap.backends.postgres.keyword import KEY_DTYPE, KIND_IDS
from hoidap.engine import Engine
from hoidap.errors import HoidapError
from hoidap.ingest.prepare import prepare
from hoidap.ingest.read import read_all
from hoidap.models import RawDocument
from hoidap.search.query import clauses as query_clauses
from hoidap.search.query import parse_query
from hoidap.settings import Settings
from tests.conftest import EXAMPLES, SEEDS
from tests.pgserver import PgServer, need_postgres

QUESTIONS = [q for q in (EXAMPLES / "questions.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
EXTRA = ["Viet Nam co quan he ngoai giao voi bao nhieu quoc gia", "vắc xin", "Giá vàng hôm nay bao nhiêu?",
         "hội nghị đối ngoại toàn quốc lần thứ ba", "Phạm Bình Minh"]
# Small batches: several load transactions, each with documents for both shards.
SETTINGS = Settings(store=None, batch_size=4, max_citations=10)


def _corpus() -> list[Path]:
    """examples/corpus (in the repository) and the seeds when ../shared is present."""
    return [EXAMPLES / "corpus"] + ([SEEDS] if SEEDS.exists() else [])


@dataclass
class Stores:
    embedded: Engine
    plain: Engine
    sharded: Engine
    coordinator: str
    shards: list[str]


def _rows(url: str, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, args).fetchall()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    need_postgres()
    from hoidap.backends.postgres.shard import create_sharded_schema

    tmp = tmp_path_factory.mktemp("shard")
    servers: list[PgServer] = []
    engines: list[Engine] = []
    try:
        for _ in range(3):  # one at a time: the machine is small
            servers.append(PgServer.init().start())
        head, *shard_servers = servers
        if not _rows(head.url, "SELECT FROM pg_available_extensions WHERE name = 'postgres_fdw'"):
            pytest.skip("PostgreSQL's postgres_fdw extension is not installed")
        coordinator = head.create_database("coordinator")
        shards = [s.create_database("shard") for s in shard_servers]
        create_sharded_schema(coordinator, shards)
        engines = [Engine(tmp / "emb", settings=SETTINGS),
                   Engine(settings=SETTINGS.with_(index_dir=tmp / "plain", store=head.create_database("plain"))),
                   Engine(settings=SETTINGS.with_(index_dir=tmp / "sharded", store=coordinator))]
        reports = [eng.ingest(_corpus()) for eng in engines]
        assert len({len(r.ingested) for r in reports}) == 1 and len(reports[0].ingested) > 2 * SETTINGS.batch_size
        yield Stores(*engines, coordinator=coordinator, shards=shards)
    finally:
        for eng in engines:
            eng.close()
        for s in servers:
            s.remove()


def test_rows_are_spread_over_both_shards(stores: Stores) -> None:
    kinds = dict(_rows(stores.coordinator, "SELECT tid, kind FROM hoidap.lexicon"))
    totals: Counter[str] = Counter()
    for url in stores.shards:
        dnos = {d for d, in _rows(url, "SELECT dno FROM hoidap.documents")}
        sids = {s for s, in _rows(url, "SELECT sid FROM hoidap.sentences")}
        postings = [(dno, tid, np.frombuffer(keys, KEY_DTYPE).tolist())
                    for dno, tid, keys in _rows(url, "SELECT dno, tid, keys FROM hoidap.postings")]
        assert dnos and sids and postings, url
        totals.update(documents=len(dnos), sentences=len(sids), postings=len(postings))
        # Distributed by document: a shard holds its documents' sentences and postings.
        assert {d for d, in _rows(url, "SELECT DISTINCT dno FROM hoidap.sentences")} <= dnos
        for dno, tid, keys in postings:
            assert dno in dnos
            assert set(keys) <= (sids if kinds[tid] == KIND_IDS["sentences"] else dnos), (url, tid)
        # Term statistics are not on the shards.
        assert _rows(url, "SELECT to_regclass('hoidap.lexicon'), to_regclass('hoidap.field_stats')") == [
            (None, None)]
    docs, sentences = stores.sharded.store.counts()
    assert (totals["documents"], totals["sentences"]) == (docs, sentences) == stores.plain.store.counts()
    coordinator = _rows(stores.coordinator, "SELECT (SELECT count(*) FROM hoidap.documents),"
                        " (SELECT count(*) FROM hoidap.sentences), (SELECT count(*) FROM hoidap.postings)")
    assert coordinator == [(docs, sentences, totals["postings"])]


def test_a_document_and_its_sentences_are_joined_on_their_shard(stores: Stores) -> None:
    # The store's sentence lookup (PgStore._sentences): one join per shard, run there.
    plan = "\n".join(r[0] for r in stores.sharded.store.read(  # type: ignore[attr-defined]
        "EXPLAIN VERBOSE SELECT s.sid, d.doc_id FROM sentences s JOIN documents d ON d.dno = s.dno"
        " WHERE s.sid = ANY(%s::bigint[])", ([1, 2, 3],)))
    assert plan.count("Remote SQL") == len(stores.shards)
    assert plan.count("INNER JOIN hoidap.documents") == len(stores.shards), plan


def test_term_statistics_are_global(stores: Stores) -> None:
    per_shard = [dict(_rows(url, "SELECT tid, sum(n)::bigint FROM hoidap.postings GROUP BY tid"))
                 for url in stores.shards]
    lexicon = dict(_rows(stores.coordinator, "SELECT tid, df FROM hoidap.lexicon"))
    assert lexicon == {t: sum(s.get(t, 0) for s in per_shard) for t in lexicon}
    # Terms on both shards: a shard's own statistics would understate their document frequency.
    assert sum(1 for t in lexicon if all(t in s for s in per_shard)) > 100
    for part in ("sentences", "documents"):
        e, s = getattr(stores.embedded.index, part), getattr(stores.sharded.index, part)
        assert e.num_docs() == s.num_docs()
        for q in QUESTIONS + EXTRA:
            for f, t, _ in query_clauses(parse_query(q)):
                assert e.doc_freq(f, t) == s.doc_freq(f, t), (part, f, t)


def test_bm25_scores_equal_the_unsharded_stores(stores: Stores) -> None:
    for part in ("sentences", "documents"):
        e, p, s = (getattr(eng.index, part) for eng in (stores.embedded, stores.plain, stores.sharded))
        for q in QUESTIONS + EXTRA:
            clauses = query_clauses(parse_query(q))
            sharded, plain, embedded = s.search(clauses, 50), p.search(clauses, 50), e.search(clauses, 50)
            assert sharded, (part, q)
            # The unsharded PostgreSQL store: same keys, same scores, to the bit.
            assert [(h.key, h.score) for h in sharded] == [(h.key, h.score) for h in plain], (part, q)
            # tantivy (32-bit floats): same scores, keys up to the order of ties at the cut-off.
            assert [h.score for h in sharded] == pytest.approx([h.score for h in embedded], rel=1e-4), (part, q)
            theirs = {h.key: h.score for h in sharded}
            for h in embedded:
                if h.score > embedded[-1].score * (1 + 1e-4):
                    assert theirs.get(h.key) == pytest.approx(h.score, rel=1e-4), (part, q, h)


def test_same_answers_and_top10_citations(stores: Stores) -> None:
    engines = (stores.embedded, stores.plain, stores.sharded)
    for q in QUESTIONS + EXTRA:
        answers = [eng.ask(q) for eng in engines]
        assert len({(a.answer, a.confidence) for a in answers}) == 1, (q, [a.answer for a in answers])
        cited = [[(c.doc_id, c.start, c.end, c.also) for c in a.citations[:10]] for a in answers]
        assert cited[0] == cited[1] == cited[2], q
    assert answers[0].citations
    listed = [[d.doc_id for d in eng.documents()] for eng in engines]
    assert listed[0] == listed[1] == listed[2]
    for doc_id in listed[0][:: max(1, len(listed[0]) // 4)]:
        assert stores.embedded.document(doc_id) == stores.sharded.document(doc_id)


def test_an_article_is_stored_once_when_sent_again(stores: Stores) -> None:
    before = stores.sharded.store.counts()
    report = stores.sharded.ingest(_corpus())
    assert not report.ingested and report.duplicates
    # A retried batch (a Spark task run again) skips the ingest's own check: its new
    # document numbers hash to either shard, and the coordinator's doc_ids still stop it.
    raws = [r for r in read_all(_corpus(), SETTINGS.max_file_bytes) if isinstance(r, RawDocument)]
    stores.sharded.store.add([prepare(r) for r in raws], [])
    assert stores.sharded.store.counts() == before
    doc_ids = [d for url in stores.shards for d, in _rows(url, "SELECT doc_id FROM hoidap.documents")]
    assert len(doc_ids) == len(set(doc_ids)) == before[0]


def test_create_refuses_an_existing_store(stores: Stores) -> None:
    from hoidap.backends.postgres.shard import create_sharded_schema

    with pytest.raises(HoidapError, match="already"):
        create_sharded_schema(stores.coordinator, stores.shards)


def test_compact_keeps_each_shards_postings_on_its_shard(stores: Stores) -> None:
    """Compaction merges a term's rows per shard (grouped by partition), never across shards."""
    store = stores.sharded.store
    clauses = [query_clauses(parse_query(q)) for q in QUESTIONS + EXTRA]
    before = [stores.sharded.index.documents.search(c, 50) for c in clauses]
    assert store.compact() > 0  # type: ignore[attr-defined]
    kinds = dict(_rows(stores.coordinator, "SELECT tid, kind FROM hoidap.lexicon"))
    for url in stores.shards:
        dnos = {d for d, in _rows(url, "SELECT dno FROM hoidap.documents")}
        rows = _rows(url, "SELECT dno, tid, keys FROM hoidap.postings")
        assert len(rows) == len({tid for _, tid, _ in rows}), url  # one row per term on each shard
        for dno, tid, keys in rows:
            assert dno in dnos
            if kinds[tid] == KIND_IDS["documents"]:
                assert set(np.frombuffer(keys, KEY_DTYPE).tolist()) <= dnos, (url, tid)
    assert [stores.sharded.index.documents.search(c, 50) for c in clauses] == before
