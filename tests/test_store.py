"""Crash safety and the store/index contract."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from hoidap.engine import Engine
from hoidap.models import Filters, RawDocument
from hoidap.settings import Settings

TEMPLATE = (
    "Bản tin số {i}\n\nNgày {d}/12/2021, tỉnh số {i} công bố kết quả xuất khẩu {i} nghìn tấn gạo trong năm."
    " Giá trị xuất khẩu đạt {j} triệu USD, tăng mạnh so với cùng kỳ. Lãnh đạo tỉnh cho biết sẽ mở rộng thị trường.\n"
)


def _write_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"{i:05}.txt").write_text(TEMPLATE.format(i=i, d=i % 28 + 1, j=i * 7 + 3), encoding="utf-8")


def _stored(index: Path) -> int:
    if not (index / "hoidap.sqlite").exists():
        return 0
    db = sqlite3.connect(index / "hoidap.sqlite")
    try:
        return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def test_ingest_killed_halfway_leaves_a_consistent_index(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "idx"
    _write_corpus(corpus, 3000)
    proc = subprocess.Popen([sys.executable, "-m", "hoidap.cli", "ingest", str(corpus), "--index", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _stored(index) < 200:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = _stored(index)
    assert 0 < stored < 3000, "the kill should land mid-ingest"

    with Engine(index) as eng:
        docs = eng.documents()
        # All or nothing per article: every stored article has all its sentences.
        for info in docs[:: max(1, len(docs) // 50)]:
            art = eng.document(info.doc_id)
            assert art.n_sentences == info.n_sentences == 3
        # The keyword index caught up with the store on open.
        n_sentences = eng.store.counts()[1]
        assert eng.index.sentences.num_docs() == n_sentences
        assert eng.search("xuất khẩu gạo", k=1)
        report = eng.ingest([corpus])
        assert len(report.ingested) + len(report.duplicates) == 3000
        assert len(report.ingested) == 3000 - len(docs)
        assert len(eng.documents()) == 3000


def _doc(i: int) -> RawDocument:
    return RawDocument(source=f"{i}.txt", text=TEMPLATE.format(i=i, d=i + 1, j=i * 7 + 3))


def test_ingest_scaling_store_keeps_no_btree_on_dup_keys(tmp_path: Path) -> None:
    """Guards the ingest slowdown at scale: each sentence's random dup key dirtied a page of
    sentences(dup_key); the store's write time per article grew by a third from 22,644 to 100,000."""
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert eng.ingest_documents([_doc(0)]).ok
    db = sqlite3.connect(tmp_path / "hoidap.sqlite")
    db.execute("CREATE INDEX sentences_dup ON sentences(dup_key)")  # as an older hoidap made it
    db.commit()
    db.close()
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert eng.ingest_documents([_doc(1), _doc(2)]).ok
    db = sqlite3.connect(tmp_path / "hoidap.sqlite")
    indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    db.close()
    assert "sentences_dup" not in indexes


def test_store_delete_records_what_the_derived_indexes_must_delete(tmp_path: Path) -> None:
    from hoidap.backends.embedded.store import SQLiteStore

    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        ids = eng.ingest_documents([_doc(0), _doc(1), _doc(2)]).ingested
    store = SQLiteStore(tmp_path / "hoidap.sqlite")
    sids = [s.sid for s in store.sentences_of(ids[2])]
    [gone] = store.delete([ids[2], "khong-co"])
    assert (gone.doc_id, gone.dno, list(gone.sids)) == (ids[2], 3, sids)
    assert store.pending_deletes() == [replace(gone, doc_id="")]
    assert store.source_document("2.txt") is None and store.source_document("1.txt") == ids[1]
    store.clear_deletes([3])
    assert store.pending_deletes() == [] and store.counts() == (2, 2 * len(sids))
    store.close()


def test_store_never_reuses_the_numbers_of_deleted_documents(tmp_path: Path) -> None:
    from hoidap.backends.embedded.store import SQLiteStore

    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        ids = eng.ingest_documents([_doc(0), _doc(1)]).ingested
    store = SQLiteStore(tmp_path / "hoidap.sqlite")
    top = max(s.sid for s in store.sentences_of(ids[1]))
    store.delete([ids[1]])
    store.close()
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        new = eng.ingest_documents([_doc(5)]).ingested[0]
        assert min(s.sid for s in eng.store.sentences_of(new)) == top + 1
        assert eng.store.allowed_documents(Filters(docs=(new,))) == [3]


def test_allowed_documents_by_date_outlet_and_id(tmp_path: Path) -> None:
    docs = [RawDocument(f"{i}.txt", TEMPLATE.format(i=i, d=1, j=i), date=day, outlet=outlet)
            for i, (day, outlet) in enumerate([("2021-12-14T10:38", "Dân trí"), ("2021-12-31", "VnExpress"),
                                                ("2022-01", "dân trí"), (None, "VOV")])]
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        ids = eng.ingest_documents(docs).ingested
        allowed = eng.store.allowed_documents
        assert allowed(Filters(outlets=("DÂN TRÍ",))) == [1, 3]
        assert allowed(Filters(since="2021-12-14")) == [1, 2, 3]
        assert allowed(Filters(since="2021-12-15", until="2021-12")) == [2]
        assert allowed(Filters(until="2021-12-14")) == [1]
        assert allowed(Filters(until="2022")) == [1, 2, 3]
        assert allowed(Filters(docs=(ids[3], "khong-co"), outlets=("vov",))) == [4]
        assert allowed(Filters(outlets=("Tuổi Trẻ",))) == []


def test_allowed_documents_are_cached_until_the_store_changes(tmp_path: Path) -> None:
    from hoidap.engine import Engine
    from hoidap.models import Filters, RawDocument

    text = "Hà Nội công bố kế hoạch phát triển giao thông công cộng trong năm tới."
    with Engine(tmp_path / "idx") as eng:
        eng.ingest_documents([RawDocument("a.txt", text, outlet="VnExpress", date="2021-12-14")])
        f = Filters(outlets=("vnexpress",))
        first = eng.store.allowed_documents(f)
        assert len(first) == 1 and eng.store.allowed_documents(f) == first
        eng.ingest_documents([RawDocument("b.txt", text + " Thêm một câu khác.", outlet="VnExpress",
                                          date="2021-12-15")])
        assert len(eng.store.allowed_documents(f)) == 2
        eng.delete([d.doc_id for d in eng.documents()][:1])
        assert len(eng.store.allowed_documents(f)) == 1
