"""The keyword index: tantivy BM25 over hoidap's own normalised tokens.

Two tantivy indexes live under ``DIR/keyword/``: ``sentences`` (one entry per
body sentence) and ``documents`` (title + body), with the fields of
``hoidap.search.fields`` as text fields that tantivy splits on whitespace only,
because the tokens are already normalised by ``hoidap.text.normalize``.

The index is derived data. It is append-only and keyed by the store's
sentence/document numbers, and each row carries its document's number (``doc``:
a document's own), so a search can be kept within some documents. A sentence
also carries its dup key (``dup``) so the copies of a statement are found here
(``same_statement``) rather than through a B-tree in the store. tantivy
commits are atomic, so after a kill it holds exactly the rows up to its largest
key, and ``sync`` adds what the store has beyond that. ``manifest.json`` records the format version and fields.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import tantivy

from hoidap.errors import IndexUnavailableError
from hoidap.files import atomic_write_text
from hoidap.models import DeletedDocument, KeywordHit
from hoidap.protocols import Clause
from hoidap.search.fields import BIGRAM_FIELDS, FIELDS, KINDS, field_texts
from hoidap.settings import Settings

log = logging.getLogger(__name__)

FORMAT = "hoidap-keyword"
# 3: the ``doc`` field (a search within documents filtered 770 sentence keys at
# 500,000 articles: 1.1 ms of a 2.1 ms sentence query; 50 document keys cost ~0.1 ms).
# 4: the ``dup`` field (sentences only). As a SQLite index it took 44% of the
# store's write time at 22,644 articles and 63% at 100,000; tantivy appends it.
VERSION = 4
# Filters (``hoidap.models.Filters``) may let thousands of documents through: from this many
# keys on, the ``doc`` filter is one term-set query, not a union of term queries (below it the
# union is faster: 0.19 against 0.65 ms for 50 keys, see ``_Part.search``).
TERM_SET_FROM = 64
# tantivy BM25 uses k1=1.2, b=0.75 (Lucene defaults); not configurable from Python.


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("doc", stored=False, indexed=True, fast=False)
    sb.add_unsigned_field("dup", stored=False, indexed=True, fast=False)
    for f in FIELDS:
        sb.add_text_field(f, stored=False, tokenizer_name="whitespace", index_option="freq")
    return sb.build()


def dup_number(dup_key: str) -> int:
    """The u64 a hex dup key (``hoidap.text.normalize.statement_key``, 16 hex digits) is indexed as."""
    return int(dup_key, 16)


class _Part:
    """One tantivy index (sentences or documents)."""

    def __init__(self, path: Path, with_bigrams: bool, writer_heap_bytes: int) -> None:
        self.writer_heap_bytes = writer_heap_bytes
        self.with_bigrams = with_bigrams
        self.schema = _schema()
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = (
                tantivy.Index.open(str(path)) if (path / "meta.json").exists()
                else tantivy.Index(self.schema, path=str(path))
            )
        except ValueError as e:
            raise IndexUnavailableError(f"keyword index {path} is unreadable: {e}") from e
        self.searcher = self.index.searcher()
        # The writer kept open during an ingest (KeywordIndex.writing), else None.
        self._writer: tantivy.IndexWriter | None = None

    def max_key(self) -> int:
        if self.searcher.num_docs == 0:
            return 0
        agg = self.searcher.aggregate(tantivy.Query.all_query(), {"m": {"max": {"field": "id"}}})
        value = agg["m"]["value"]
        return int(value) if value is not None else 0

    def add(self, rows: Iterable[tuple[int, int, str, str]]) -> int:
        """Add (key, document number, space-joined accented terms, dup key or "") rows; commit once at the end."""
        n = 0
        with self._committing() as writer:
            for key, dno, terms, dup in rows:
                doc = tantivy.Document()
                doc.add_unsigned("id", key)
                doc.add_unsigned("doc", dno)
                if dup:
                    doc.add_unsigned("dup", dup_number(dup))
                for fname, text in field_texts(terms, self.with_bigrams).items():
                    doc.add_text(fname, text)
                writer.add_document(doc)
                n += 1
        return n

    def delete(self, dnos: Sequence[int]) -> None:
        """Delete every row of these documents (by the ``doc`` field); one commit."""
        with self._committing() as writer:
            # By query: delete_documents_by_term takes a Python int as a signed term, which
            # matches nothing in this unsigned field (tantivy 0.25).
            for dno in dnos:
                writer.delete_documents_by_query(tantivy.Query.term_query(self.schema, "doc", dno))

    @contextmanager
    def _committing(self) -> Iterator[tantivy.IndexWriter]:
        """The held writer (an ingest's) or a new one; committed once at the end, rolled back
        on any error, a new one waited for its merges, and the searcher reloaded."""
        held = self._writer is not None
        writer = self._writer if self._writer is not None else self._new_writer()
        try:
            yield writer
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            if not held:
                writer.wait_merging_threads()
        self.reload()

    def _new_writer(self) -> tantivy.IndexWriter:
        return self.index.writer(heap_size=self.writer_heap_bytes, num_threads=1)

    def hold_writer(self) -> None:
        """Keep one writer for the following ``add`` calls (raises ValueError if another process holds it)."""
        if self._writer is None:
            self._writer = self._new_writer()

    def release_writer(self, wait: bool = True) -> None:
        """Drop the held writer; ``wait``: first let its merges finish (else they are abandoned, harmlessly)."""
        writer, self._writer = self._writer, None
        if writer is not None and wait:
            writer.wait_merging_threads()

    def reload(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, weighted_terms: list[Clause], k: int,
               documents: Sequence[int] | None = None) -> list[KeywordHit]:
        """BM25 over (field, term, weight) clauses; ``k`` best keys (of rows of ``documents``, if given)."""
        q = tantivy.Query
        if not self.with_bigrams:
            weighted_terms = [c for c in weighted_terms if c[0] not in BIGRAM_FIELDS]
        clauses = [
            (tantivy.Occur.Should,
             q.boost_query(q.term_query(self.schema, f, t), w) if w != 1.0 else q.term_query(self.schema, f, t))
            for f, t, w in weighted_terms
        ]
        # One searcher for the whole call: a concurrent reload() swaps
        # self.searcher, and addresses are only valid in the searcher that found them.
        searcher = self.searcher
        if not clauses or searcher.num_docs == 0 or (documents is not None and not documents):
            return []
        query = q.boolean_query(clauses)
        if documents is not None:
            # A filter, not a scoring clause: boost 0 adds nothing to the BM25 sum. The
            # terms go in as one required clause, else a row of the documents matching
            # none of them would be returned too, with score 0. The filter is a union
            # of term queries: tantivy's term_set_query of the same 50 keys cost 0.65 ms
            # against 0.19 (500,000 articles, 14 segments), the same rows and scores.
            within = (q.boolean_query([(tantivy.Occur.Should, q.term_query(self.schema, "doc", d)) for d in documents])
                      if len(documents) <= TERM_SET_FROM else q.term_set_query(self.schema, "doc", list(documents)))
            query = q.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, q.boost_query(within, 0.0))])
        # count=False: counting every match makes tantivy visit all of them; without
        # it the top k are the same (500 benchmark questions, 22,644 articles) and a
        # sentence search is ~10% faster.
        hits = searcher.search(query, k, count=False).hits
        # Keys from the fast field in one call: fetching 200 stored documents
        # (a block decompression each) was a third of the index time of a search.
        keys = searcher.fast_field_values("id", [addr for _, addr in hits])
        return [KeywordHit(int(key or 0), float(score)) for (score, _), key in zip(hits, keys, strict=True)]

    def with_dup(self, dup_key: str, limit: int) -> list[int]:
        """The ``limit`` smallest keys of rows with this dup key, in order."""
        query = tantivy.Query.term_query(self.schema, "dup", dup_number(dup_key))
        # Ordered by the id fast field, a hit's "score" is its key.
        hits = self.searcher.search(query, limit, count=False, order_by_field="id",
                                    order=tantivy.Order.Asc).hits
        return [int(key) for key, _ in hits]

    def num_docs(self) -> int:
        return int(self.searcher.num_docs)

    def doc_freq(self, field: str, term: str) -> int:
        return int(self.searcher.doc_freq(field, term))

    def doc_freqs(self, pairs: list[tuple[str, str]]) -> list[int]:
        """``doc_freq`` of each (field, term), from one searcher."""
        searcher = self.searcher
        return [int(searcher.doc_freq(f, t)) for f, t in pairs]


class KeywordIndex:
    """``DIR/keyword/``: the sentence and document BM25 indexes plus a manifest."""

    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        heap = (settings or Settings()).keyword_writer_heap_bytes
        self.root = root
        manifest = root / "manifest.json"
        # Written only by the process that makes (or remakes) the index: the server's reader and
        # ingest processes open it at once, and one rewriting it while another read it gave that
        # one an empty file (a reader process then failed to start).
        fresh = not manifest.exists()
        if not fresh:
            meta = json.loads(manifest.read_text())
            if meta.get("format") != FORMAT or meta.get("version") != VERSION:
                log.warning("keyword index %s is format %s v%s; rebuilding", root,
                            meta.get("format"), meta.get("version"))
                shutil.rmtree(root)
                fresh = True
        root.mkdir(parents=True, exist_ok=True)
        if fresh:
            atomic_write_text(manifest, json.dumps(
                {"format": FORMAT, "version": VERSION, "fields": list(FIELDS), "kinds": list(KINDS),
                 "doc": "the row's document number (a document's own)",
                 "tokens": "hoidap.text.normalize: NFC, lower case, canonical tone; plain = no diacritics;"
                          " acc2/plain2 = adjacent-term bigrams joined by '_' (documents only)",
                 "scoring": "tantivy BM25, k1=1.2, b=0.75"}, indent=2))
        self.sentences = _Part(root / "sentences", with_bigrams=False, writer_heap_bytes=heap)
        self.documents = _Part(root / "documents", with_bigrams=True, writer_heap_bytes=heap)

    def sync(self, sentence_rows: Iterator[tuple[int, int, str, str]] | None = None,
             document_rows: Iterator[tuple[int, str]] | None = None) -> tuple[int, int]:
        """Append rows the store has beyond what the index holds: (sid, dno, terms, dup key) and (dno, terms).

        Returns (sentences, documents) added.
        """
        ns = self.sentences.add(sentence_rows) if sentence_rows is not None else 0
        nd = self.documents.add((d, d, t, "") for d, t in document_rows) if document_rows is not None else 0
        return ns, nd

    def same_statement(self, dup_key: str, limit: int) -> list[int]:
        """Ids of the first ``limit`` sentences with this dup key (the same words), in order."""
        return self.sentences.with_dup(dup_key, limit) if dup_key else []

    def same_statements(self, dup_keys: Sequence[str], limit: int) -> dict[str, list[int]]:
        """``same_statement`` of each key."""
        return {k: self.same_statement(k, limit) for k in dict.fromkeys(dup_keys)}

    def delete(self, documents: Sequence[DeletedDocument]) -> None:
        """Delete these documents' rows from both indexes (tantivy keeps them on disk until a
        merge; searches no longer see them)."""
        dnos = [d.dno for d in documents]
        if dnos:
            self.sentences.delete(dnos)
            self.documents.delete(dnos)

    def reload(self) -> None:
        self.sentences.reload()
        self.documents.reload()

    def generation(self) -> tuple[int, ...]:
        """Modification times of tantivy's ``meta.json`` files: they change on every commit."""
        stamps = []
        for kind in KINDS:
            try:
                stamps.append(os.stat(self.root / kind / "meta.json").st_mtime_ns)
            except OSError:
                stamps.append(0)
        return tuple(stamps)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer per index for a whole ingest: its ``sync`` calls commit but do not wait for merges.

        A writer per ``sync`` had to wait for the merges its commit started before
        it could be dropped (dropping abandons them): 3.5 s of the 50 s of a 22,644-article
        ingest, growing with the index. Held, the merges run in the background
        while articles are prepared and stored, and are waited for once, at the end.
        If another process holds the writer lock, nothing is held and every
        ``sync`` fails as it did (the engine then leaves the catch-up to later).
        """
        try:
            self.sentences.hold_writer()
            self.documents.hold_writer()
        except ValueError as e:
            log.debug("keyword index busy, not holding a writer: %s", e)
            self.sentences.release_writer(wait=False)
        ok = False
        try:
            yield
            ok = True
        finally:
            self.sentences.release_writer(wait=ok)
            self.documents.release_writer(wait=ok)
