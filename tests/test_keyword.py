"""The keyword index: rows, the dup field, and rebuilding an older format from the store."""

from __future__ import annotations

import json
from pathlib import Path

from hoidap.backends.embedded.keyword import KeywordIndex
from hoidap.engine import Engine
from hoidap.models import RawDocument
from hoidap.settings import Settings
from hoidap.text.normalize import statement_key

SAID = "Việt Nam có quan hệ ngoại giao với 189 quốc gia."
DOCS = [
    RawDocument(source=f"{outlet}.txt", text=f"Ngoại giao {i}\n\n{SAID} Hội nghị số {i} diễn ra tại Hà Nội.")
    for i, outlet in enumerate(["vnexpress", "tuoitre", "thanhnien"])
]


def test_same_statement_returns_the_smallest_sentence_ids_in_order(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "keyword")
    a, b = statement_key("việt nam có"), statement_key("hà nội")
    rows = [(7, 3, "việt nam có", a), (2, 1, "việt nam có", a), (5, 2, "hà nội", b), (9, 4, "việt nam có", a)]
    index.sync(iter(rows), iter([(1, "x")]))
    assert index.same_statement(a, 20) == [2, 7, 9]
    assert index.same_statement(a, 2) == [2, 7]
    assert index.same_statement(b, 20) == [5]
    assert index.same_statement(statement_key("không có"), 20) == []
    assert index.same_statement("", 20) == []  # a document row carries no dup key


def test_syndicated_copies_are_cited_from_the_keyword_index(tmp_path: Path) -> None:
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert eng.ingest_documents(DOCS).ok
        top = eng.ask("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?").citations[0]
    assert {top.source, *(r.source for r in top.also)} == {d.source for d in DOCS}


def test_an_older_keyword_index_is_rebuilt_with_dup_keys(tmp_path: Path) -> None:
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert eng.ingest_documents(DOCS).ok
        key = eng.store.sentences([1])[0].dup_key
        expected = eng.index.same_statement(key, 20)
    assert len(expected) == 3
    manifest = tmp_path / "keyword" / "manifest.json"
    meta = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**meta, "version": 3}))
    with Engine(settings=Settings().with_(index_dir=tmp_path)) as eng:
        assert json.loads(manifest.read_text())["version"] > 3
        assert eng.index.same_statement(key, 20) == expected


def test_delete_removes_every_row_of_the_documents(tmp_path: Path) -> None:
    from hoidap.models import DeletedDocument

    index = KeywordIndex(tmp_path / "keyword")
    a = statement_key("việt nam có")
    index.sync(iter([(1, 1, "việt nam có", a), (2, 1, "hà nội", ""), (3, 2, "việt nam có", a)]),
               iter([(1, "việt nam"), (2, "việt nam")]))
    index.delete([DeletedDocument("x", 1, (1, 2))])
    assert index.sentences.num_docs() == 1 and index.documents.num_docs() == 1
    assert index.same_statement(a, 20) == [3]
    assert [h.key for h in index.documents.search([("acc", "việt", 1.0)], 10)] == [2]
    assert index.sentences.max_key() == 3


def test_opening_an_index_never_rewrites_its_manifest(tmp_path: Path) -> None:
    """The server's reader processes open the index together with its ingest process: one
    rewriting manifest.json while another read it gave that one an empty file (a reader
    process failed to start and every request got a 500)."""
    KeywordIndex(tmp_path / "keyword")
    manifest = tmp_path / "keyword" / "manifest.json"
    manifest.write_text(manifest.read_text() + "\n")  # marks this copy: a rewrite would drop the newline
    before = manifest.stat().st_mtime_ns, manifest.read_text()
    KeywordIndex(tmp_path / "keyword")
    assert (manifest.stat().st_mtime_ns, manifest.read_text()) == before
    assert not list((tmp_path / "keyword").glob(".tmp-*"))
