"""The document store: SQLite, the source of truth for documents and sentences.

One file in WAL mode, one transaction per batch of articles, so a killed ingest
leaves every article either fully stored or absent. The keyword index is
derived from this store and rebuilt from it when missing or behind.

``Store`` is the small interface the rest of the engine uses; ``SQLiteStore``
is the embedded implementation (a PostgreSQL one can stand beside it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from hoidap.backends import rows
from hoidap.errors import DocumentNotFoundError, IndexUnavailableError
from hoidap.models import (
    Article,
    DeletedDocument,
    DocumentInfo,
    Filters,
    PreparedArticle,
    StoredSentence,
)

SCHEMA_VERSION = 1
# Page cache (KiB) and WAL checkpoint interval (pages) of a connection once it
# writes. SQLite's defaults (2 MiB, 1,000 pages) made an ingest re-read index
# pages of sentences(dup_key) (random hashes; that index has since gone, see
# _SCHEMA) and checkpoint every ~4 MB; with these, writing a 10,000-article shard
# took ~25% less CPU in SQLiteStore.add (benchmarks/bench.py articles, profiled
# with py-spy). Readers keep the defaults: a bigger cache did not speed up their
# searches, and there are several reader processes.
WRITE_CACHE_KIB = 64 * 1024
WAL_CHECKPOINT_PAGES = 10_000
# Distinct filters whose allowed documents are kept (a server sees few at a time).
ALLOWED_CACHE = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    dno INTEGER PRIMARY KEY,          -- dense number, the keyword index's document key
    doc_id TEXT NOT NULL UNIQUE,      -- content hash of the cleaned body
    source TEXT NOT NULL,
    title TEXT, date TEXT, outlet TEXT,
    original_text TEXT NOT NULL,
    clean_text TEXT NOT NULL,
    questions TEXT NOT NULL,          -- JSON list
    credits TEXT NOT NULL,            -- JSON list
    n_sentences INTEGER NOT NULL,
    terms TEXT NOT NULL               -- normalised title + body terms, space-joined
);
CREATE TABLE IF NOT EXISTS sentences (
    sid INTEGER PRIMARY KEY,
    dno INTEGER NOT NULL REFERENCES documents(dno),
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    terms TEXT NOT NULL,              -- normalised terms, space-joined
    dup_key TEXT NOT NULL             -- equal for sentences that say the same thing
);
-- No index on dup_key: the keyword index answers "the copies of this statement"
-- (hoidap.backends.embedded.keyword.KeywordIndex.same_statement). Kept here, its random keys made
-- each sentence dirty a B-tree page of its own, and the store's write time per
-- article grew by a third from 22,644 to 100,000 articles (benchmarks/bench.py).
CREATE INDEX IF NOT EXISTS sentences_dno ON sentences(dno);
-- Filters (hoidap.models.Filters): articles by date and by outlet.
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE INDEX IF NOT EXISTS documents_outlet ON documents(outlet);
CREATE TABLE IF NOT EXISTS sources (source TEXT PRIMARY KEY, doc_id TEXT NOT NULL);
-- Documents deleted from the store whose keyword rows and vectors are still to be deleted:
-- written in the transaction that deletes the rows, emptied once the derived indexes have
-- deleted them too (Engine._catch_up), so a kill in between is finished on the next open.
CREATE TABLE IF NOT EXISTS deleted (dno INTEGER PRIMARY KEY, sids TEXT NOT NULL);
"""


def _pause(variable: str) -> None:
    """Test hook: sleep this many seconds (the environment variable) at a dangerous point,
    so that a test can kill the process there (tests/test_engine.py)."""
    if seconds := os.environ.get(variable):
        time.sleep(float(seconds))


class SQLiteStore:
    """The embedded store: ``DIR/hoidap.sqlite``."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self._writing = False  # set by the first add: write-side pragmas
        # allowed_documents' results: filters -> (store version, document numbers)
        self._allowed_cache: dict[Filters, tuple[tuple[int, int], tuple[int, ...]]] = {}
        if not create and not path.exists():  # only ingesting makes a new index
            raise IndexUnavailableError(f"no index at {path.parent} (run 'hoidap ingest' first)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except (sqlite3.Error, OSError) as e:
            raise IndexUnavailableError(f"cannot open index {path}: {e}") from e
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"index {path} has schema version {row[0]}, this hoidap reads {SCHEMA_VERSION}"
            )

    def close(self) -> None:
        self.db.close()

    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE doc_id=?", (doc_id,)).fetchone() is not None

    def add(self, batch: Sequence[PreparedArticle], sources: Sequence[tuple[str, str]],
            replaced: Sequence[str] = ()) -> None:
        """Store a batch of new articles and source->doc links in one transaction; the documents
        ``replaced`` (older versions of the batch's articles) are deleted in it too."""
        if not self._writing:
            self._writing = True
            self.db.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            # Written before the keyword index held dup keys (v4), the store has this index: drop it.
            self.db.execute("DROP INDEX IF EXISTS sentences_dup")
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            if replaced:
                self._delete(cur, replaced)
            floors = self._floors(cur)
            for prep in batch:
                a = prep.article
                cur.execute(
                    "INSERT OR IGNORE INTO documents (doc_id, source, title, date, outlet, original_text,"
                    " clean_text, questions, credits, n_sentences, terms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (a.doc_id, a.source, a.title, a.date, a.outlet, a.original_text, a.clean_text,
                     json.dumps(list(a.questions), ensure_ascii=False),
                     json.dumps(list(a.credits), ensure_ascii=False), a.n_sentences, prep.doc_terms),
                )
                if cur.rowcount == 0:
                    continue
                dno = cur.lastrowid
                if dno is not None and dno <= floors[0]:  # a deleted document's number: never reused
                    cur.execute("UPDATE documents SET dno=? WHERE dno=?", (floors[0] + 1, dno))
                    dno = floors[0] + 1
                first = self._next_sid(cur, floors[1])
                cur.executemany(
                    "INSERT INTO sentences (sid, dno, idx, start, end, terms, dup_key) VALUES (?,?,?,?,?,?,?)",
                    [(first + i, dno, s.index, s.start, s.end, t, k) for i, (s, t, k)
                     in enumerate(zip(a.sentences, prep.sentence_terms, prep.dup_keys, strict=True))],
                )
            cur.executemany("INSERT OR IGNORE INTO sources VALUES (?, ?)", sources)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    @staticmethod
    def _floors(cur: sqlite3.Cursor) -> tuple[int, int]:
        """The largest document and sentence numbers ever given (deleted ones included).

        SQLite gives a new row the largest rowid + 1, so deleting the last document would
        hand its numbers to the next one, while the keyword index may still hold rows
        under them (until ``deleted`` is worked off); numbers are never reused."""
        got = dict(cur.execute("SELECT key, value FROM meta WHERE key IN ('max_dno', 'max_sid')").fetchall())
        return int(got.get("max_dno", 0)), int(got.get("max_sid", 0))

    @staticmethod
    def _next_sid(cur: sqlite3.Cursor, floor: int) -> int:
        top = cur.execute("SELECT MAX(sid) FROM sentences").fetchone()[0]
        return max(int(top or 0), floor) + 1

    def _delete(self, cur: sqlite3.Cursor, doc_ids: Sequence[str]) -> list[DeletedDocument]:
        """Delete documents inside the caller's transaction; record them in ``deleted``."""
        marks = ",".join("?" * len(doc_ids))
        found = cur.execute(f"SELECT dno, doc_id FROM documents WHERE doc_id IN ({marks})",
                            tuple(doc_ids)).fetchall()
        if not found:
            return []
        top_dno = cur.execute("SELECT MAX(dno) FROM documents").fetchone()[0] or 0
        top_sid = cur.execute("SELECT MAX(sid) FROM sentences").fetchone()[0] or 0
        dno_floor, sid_floor = self._floors(cur)
        cur.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                        [("max_dno", str(max(dno_floor, top_dno))), ("max_sid", str(max(sid_floor, top_sid)))])
        out = []
        for dno, doc_id in found:
            sids = [r[0] for r in cur.execute("SELECT sid FROM sentences WHERE dno=? ORDER BY sid", (dno,))]
            cur.execute("INSERT OR REPLACE INTO deleted VALUES (?, ?)", (dno, json.dumps(sids)))
            cur.execute("DELETE FROM sentences WHERE dno=?", (dno,))
            cur.execute("DELETE FROM documents WHERE dno=?", (dno,))
            cur.execute("DELETE FROM sources WHERE doc_id=?", (doc_id,))
            out.append(DeletedDocument(doc_id, dno, tuple(sids)))
        _pause("HOIDAP_TEST_PAUSE_IN_DELETE")
        return out

    def delete(self, doc_ids: Sequence[str]) -> list[DeletedDocument]:
        """Delete documents (their sentences and source links) in one transaction; those found."""
        if not doc_ids:
            return []
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            out = self._delete(cur, list(dict.fromkeys(doc_ids)))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return out

    def pending_deletes(self) -> list[DeletedDocument]:
        """Documents deleted here whose keyword rows and vectors may still exist (``deleted``)."""
        return [DeletedDocument("", int(dno), tuple(json.loads(sids)))
                for dno, sids in self.db.execute("SELECT dno, sids FROM deleted ORDER BY dno")]

    def clear_deletes(self, dnos: Sequence[int]) -> None:
        """The derived indexes have deleted these documents' rows: forget them."""
        self.db.executemany("DELETE FROM deleted WHERE dno=?", [(d,) for d in dnos])

    def allowed_documents(self, filters: Filters) -> list[int]:
        """The numbers of the documents ``filters`` lets through, in order (as ``Filters.allows``).

        Cached per filter until the store changes (this connection's ``total_changes`` or
        another's commit, SQLite's ``data_version``): reading the allowed set again cost
        17-37 ms a question at 22,644 articles, several times the filtered search itself.
        """
        version = (self.db.total_changes, self.db.execute("PRAGMA data_version").fetchone()[0])
        hit = self._allowed_cache.get(filters)
        if hit is not None and hit[0] == version:
            return list(hit[1])
        found = self._allowed_documents(filters)
        if len(self._allowed_cache) >= ALLOWED_CACHE:
            self._allowed_cache.pop(next(iter(self._allowed_cache)))
        self._allowed_cache[filters] = (version, tuple(found))
        return found

    def _allowed_documents(self, filters: Filters) -> list[int]:
        where: list[str] = ["1"]
        args: list[object] = []
        if filters.docs:
            where.append(f"doc_id IN ({','.join('?' * len(filters.docs))})")
            args += filters.docs
        if filters.outlets:
            wanted = {o.casefold() for o in filters.outlets}
            names = [o for o, in self.db.execute("SELECT DISTINCT outlet FROM documents WHERE outlet IS NOT NULL")
                     if o.casefold() in wanted]
            where.append(f"outlet IN ({','.join('?' * len(names))})")
            args += names
        if filters.since:
            where.append("date >= ?")
            args.append(filters.since)
        if filters.until:
            where.append(f"substr(date, 1, {len(filters.until)}) <= ?")
            args.append(filters.until)
        found = self.db.execute(
            f"SELECT dno, doc_id, date, outlet FROM documents WHERE {' AND '.join(where)} ORDER BY dno", args)
        return [int(d) for d, i, date, outlet in found if filters.allows(date, outlet, i)]

    def source_document(self, source: str) -> str | None:
        """The document last ingested from ``source`` (its own source), if stored."""
        row = self.db.execute(
            "SELECT d.doc_id FROM sources s JOIN documents d ON d.doc_id = s.doc_id"
            " WHERE s.source=? AND d.source=?", (source, source)).fetchone()
        return None if row is None else str(row[0])

    def _article(self, row: sqlite3.Row | tuple) -> Article:
        return rows.article(row[1:], self.db.execute(
            "SELECT idx, start, end FROM sentences WHERE dno=? ORDER BY idx", (row[0],)))

    def document(self, doc_id: str) -> Article:
        row = self.db.execute(
            "SELECT dno, doc_id, source, title, date, outlet, original_text, clean_text, questions,"
            " credits FROM documents WHERE doc_id=?", (doc_id,),
        ).fetchone()
        if row is None:
            raise DocumentNotFoundError(f"no document {doc_id!r} in the index")
        return self._article(row)

    def _infos(self, where: str, args: Sequence[object]) -> list[DocumentInfo]:
        found = self.db.execute(
            f"SELECT {rows.INFO_COLUMNS} FROM documents {where}", tuple(args))
        return [rows.info(r) for r in found]

    def documents(self) -> list[DocumentInfo]:
        return self._infos("ORDER BY dno", ())

    def infos(self, doc_ids: Sequence[str]) -> dict[str, DocumentInfo]:
        if not doc_ids:
            return {}
        marks = ",".join("?" * len(doc_ids))
        return {i.doc_id: i for i in self._infos(f"WHERE doc_id IN ({marks})", doc_ids)}

    def _sentences(self, where: str, args: Iterable[object]) -> list[StoredSentence]:
        # Each document's text is read once and the sentences cut from it here: substr() in
        # the query re-read the text's overflow pages for every sentence, so reading all of a
        # document's sentences cost the square of its length (a 1M-character one: 40 s).
        rows = self.db.execute(
            "SELECT s.sid, d.doc_id, s.dno, s.idx, s.start, s.end, s.terms, s.dup_key"
            f" FROM sentences s JOIN documents d ON d.dno = s.dno WHERE {where}", tuple(args),
        ).fetchall()
        texts = self._originals({r[2] for r in rows})
        return [StoredSentence(sid, doc_id, dno, idx, start, end, texts[dno][start:end], terms, dup)
                for sid, doc_id, dno, idx, start, end, terms, dup in rows]

    def _originals(self, dnos: set[int]) -> dict[int, str]:
        if not dnos:
            return {}
        marks = ",".join("?" * len(dnos))
        return dict(self.db.execute(f"SELECT dno, original_text FROM documents WHERE dno IN ({marks})",
                                    tuple(dnos)))

    def sentences(self, sids: Sequence[int]) -> list[StoredSentence]:
        if not sids:
            return []
        marks = ",".join("?" * len(sids))
        by_sid = {s.sid: s for s in self._sentences(f"s.sid IN ({marks})", sids)}
        return [by_sid[i] for i in sids if i in by_sid]

    def sentence_documents(self, sids: Sequence[int]) -> dict[int, int]:
        """``{sid: dno}`` for the given sentences that exist (no text: fusion needs only the document).

        Reading only the sentences table is ~5x cheaper than ``sentences``, whose
        text is a slice of the document's original text (an overflow-page chain
        per document): on 200 candidates, 0.5 ms instead of 2.5 ms (profiled).
        """
        if not sids:
            return {}
        marks = ",".join("?" * len(sids))
        return dict(self.db.execute(f"SELECT sid, dno FROM sentences WHERE sid IN ({marks})", tuple(sids)))

    def document_sentences(self, dnos: Sequence[int]) -> dict[int, int]:
        """``{sid: dno}`` for every sentence of the given documents (read from the dno index alone)."""
        if not dnos:
            return {}
        marks = ",".join("?" * len(dnos))
        return dict(self.db.execute(f"SELECT sid, dno FROM sentences WHERE dno IN ({marks})", tuple(dnos)))

    def sentences_of(self, doc_id: str) -> list[StoredSentence]:
        """Every sentence of a document, in order (the answer ranker reads them all)."""
        return self._sentences("d.doc_id = ? ORDER BY s.idx", (doc_id,))

    def sentences_after(self, sid: int) -> Iterator[tuple[int, int, str, str]]:
        """(sid, dno, terms, dup_key) of the sentences numbered above ``sid``, in order."""
        yield from self.db.execute(
            "SELECT sid, dno, terms, dup_key FROM sentences WHERE sid > ? ORDER BY sid", (sid,))

    def documents_after(self, dno: int) -> Iterator[tuple[int, str]]:
        yield from self.db.execute("SELECT dno, terms FROM documents WHERE dno > ? ORDER BY dno", (dno,))

    def doc_ids(self, dnos: Sequence[int]) -> dict[int, str]:
        if not dnos:
            return {}
        marks = ",".join("?" * len(dnos))
        return dict(self.db.execute(f"SELECT dno, doc_id FROM documents WHERE dno IN ({marks})", tuple(dnos)))

    def counts(self) -> tuple[int, int]:
        """(documents, sentences) stored."""
        d = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        s = self.db.execute("SELECT COUNT(*) FROM sentences").fetchone()[0]
        return int(d), int(s)
