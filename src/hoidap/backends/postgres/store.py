"""The PostgreSQL store: documents, sentences and BM25 postings in one database.

Selected by ``Settings.store`` (``--store postgresql://...`` or
``$HOIDAP_STORE``); the embedded SQLite + tantivy pair stays the default.
Any number of ``hoidap`` processes on any number of machines can share one
database: every batch of articles is one transaction that writes the rows and
their postings (``hoidap.backends.postgres.keyword``) together, and re-adding an article is a
no-op (``doc_id`` is unique), so concurrent or retried loads store each
article exactly once.

Reads and writes use separate connections. Writes always go to the primary
(``target_session_attrs=read-write``). Reads go to a standby when the URL
lists several hosts (``postgresql://primary:5432,replica:5432/hoidap``; libpq's
``prefer-standby`` unless the URL says otherwise), and a read whose server
went away is retried once on a new connection, i.e. on the next host that
answers. Standbys lag their primary by the replication delay.

The ``documents``/``sentences``/``sources`` tables mirror ``hoidap.backends.embedded.store``'s
SQLite schema; everything lives in the PostgreSQL schema ``hoidap``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from hoidap.backends import rows as document_rows
from hoidap.backends.postgres.postings import (
    CODE_DTYPE,
    FIELD_IDS,
    KEY_DTYPE,
    KIND_IDS,
    TF_DTYPE,
    FieldPostings,
    Postings,
    postings_for,
)
from hoidap.errors import DocumentNotFoundError, IndexUnavailableError
from hoidap.models import (
    Article,
    DeletedDocument,
    DocumentInfo,
    Filters,
    PreparedArticle,
    StoredSentence,
)
from hoidap.settings import Settings

# 2: postings.dno (the distribution key of a sharded store).
# 3: postings as bytea arrays (keys u4, tfs u2, fieldnorm codes u1) with their length n; a version
#    1 or 2 store rebuilds its postings from its rows when opened (``PgStore._rebuild_postings``).
SCHEMA_VERSION = 3
SCHEMA = "hoidap"
# Terms merged per transaction by ``PgStore.compact``: ~10-50 MB of postings, a few seconds.
COMPACT_CHUNK = 20_000

# The tables kept whole in one place: term statistics (``lexicon``, ``field_stats``),
# the sequence that numbers sentences, metadata and source links. In a sharded
# store (``hoidap.backends.postgres.shard``) they live on the coordinator.
GLOBAL_DDL = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE IF NOT EXISTS sentences_sid_seq;
CREATE TABLE IF NOT EXISTS sources (source text PRIMARY KEY, doc_id text NOT NULL);
-- BM25 (hoidap.backends.postgres.keyword): kind 0 = sentences, 1 = documents; field = index into hoidap.backends.embedded.keyword.FIELDS.
CREATE TABLE IF NOT EXISTS lexicon (
    tid bigserial PRIMARY KEY,
    kind smallint NOT NULL,
    field smallint NOT NULL,
    term text COLLATE "C" NOT NULL,
    df bigint NOT NULL,
    UNIQUE (kind, field, term)
);
CREATE TABLE IF NOT EXISTS field_stats (
    kind smallint NOT NULL,
    field smallint NOT NULL,
    docs bigint NOT NULL,
    tokens bigint NOT NULL,
    PRIMARY KEY (kind, field)
);
"""

# The tables that grow with the archive, all keyed by document (``dno``), which is
# what a sharded store distributes them by: each shard holds them exactly as here.
DOCUMENT_DDL = """
CREATE TABLE IF NOT EXISTS documents (
    dno bigserial PRIMARY KEY,
    doc_id text NOT NULL UNIQUE,
    source text NOT NULL,
    title text, date text, outlet text,
    original_text text NOT NULL,
    clean_text text NOT NULL,
    questions text NOT NULL,
    credits text NOT NULL,
    n_sentences integer NOT NULL,
    terms text NOT NULL
);
CREATE TABLE IF NOT EXISTS sentences (
    sid bigint PRIMARY KEY,
    dno bigint NOT NULL REFERENCES documents(dno),
    idx integer NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL,
    terms text NOT NULL,
    dup_key text NOT NULL
);
-- (x, order key): "WHERE x = ? ORDER BY key LIMIT n" reads n index entries whatever the statistics.
CREATE INDEX IF NOT EXISTS sentences_dno ON sentences(dno, idx);
-- Filters (hoidap.models.Filters): articles by date and by outlet.
CREATE INDEX IF NOT EXISTS documents_date ON documents(date COLLATE "C");
CREATE INDEX IF NOT EXISTS documents_outlet ON documents(outlet);
CREATE INDEX IF NOT EXISTS sentences_dup ON sentences(dup_key, sid);
-- One row per term, load batch and partition until PgStore.compact merges a term's rows; dno: one
-- of the documents whose keys the row holds, all of them in dno's partition (the distribution key
-- of a sharded store, hoidap.backends.postgres.shard). keys, tfs, norms: n little-endian u4, u2 and u1 values
-- (hoidap.backends.postgres.keyword.KEY_DTYPE, TF_DTYPE, CODE_DTYPE).
CREATE TABLE IF NOT EXISTS postings (
    dno bigint,
    tid bigint NOT NULL,
    n integer NOT NULL,
    keys bytea NOT NULL,
    tfs bytea NOT NULL,
    norms bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS postings_tid ON postings(tid);
"""
DOCUMENT_TABLES = ("documents", "sentences", "postings")

# ``PgStore.add``'s hook: the open cursor and (sid, doc_id, sentence index) of the sentences stored.
NewSentences = Callable[["psycopg.Cursor[Any]", list[tuple[int, str, int]]], None]

_DDL = "CREATE SCHEMA IF NOT EXISTS hoidap;\nSET search_path TO hoidap;\n" + GLOBAL_DDL + DOCUMENT_DDL

_DOC_COLUMNS = ("doc_id, source, title, date, outlet, original_text, clean_text, questions, credits,"
                " n_sentences, terms")


def _conninfo(url: str, *, write: bool, connect_timeout: int) -> str:
    params = conninfo_to_dict(url)
    # Parallel workers: a question's queries take milliseconds, less than starting workers.
    extra: dict[str, Any] = {"options": f"-c search_path={SCHEMA} -c max_parallel_workers_per_gather=0"}
    params.setdefault("connect_timeout", connect_timeout)
    if write:
        extra["target_session_attrs"] = "read-write"
    else:
        params.setdefault("target_session_attrs", "prefer-standby")
    return make_conninfo("", **{**params, **extra})


class PgStore:
    """A ``hoidap.protocols.Store`` in PostgreSQL; ``url`` as libpq takes it (several hosts allowed)."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.url = url
        self.settings = settings or Settings()
        self._r: psycopg.Connection[Any] | None = None
        self._w: psycopg.Connection[Any] | None = None
        # Stored documents never change, so cached original texts never go stale.
        self._texts: dict[int, str] = {}
        # The (sid, dno, terms) rows of the last documents asked for: retrieval asks
        # document_sentences and then sentence_terms of the same 50 documents, and one
        # round trip serves both, whichever comes first (a document's sentences never change).
        self._rows_of: tuple[tuple[int, ...], list[tuple[Any, ...]]] = ((), [])
        version = None
        if self.read("SELECT to_regclass('hoidap.meta') IS NOT NULL")[0][0]:
            row = self.read("SELECT value FROM meta WHERE key = 'schema_version'")
            version = row[0][0] if row else None
        if not version:
            self._create_schema()
        elif int(version) in (1, 2):
            self._rebuild_postings()
        elif int(version) != SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"store {self._where()} has schema version {version}, this hoidap reads {SCHEMA_VERSION}")

    # -- connections -----------------------------------------------------
    def _where(self) -> str:
        """The URL without its password, for messages."""
        params = conninfo_to_dict(self.url)
        params.pop("password", None)
        return make_conninfo("", **params)

    def _connect(self, write: bool) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(_conninfo(self.url, write=write, connect_timeout=self.settings.pg_connect_timeout), autocommit=True)
        except psycopg.Error as e:
            what = "a writable primary" if write else "a server"
            raise IndexUnavailableError(f"cannot reach {what} of store {self._where()}: {e}") from e

    def _writer(self) -> psycopg.Connection[Any]:
        if self._w is None or self._w.closed or self._w.broken:
            self._w = self._connect(write=True)
        return self._w

    def read(self, sql: str, args: Sequence[Any] = (), binary: bool = False) -> list[tuple[Any, ...]]:
        """Run a read query; if the server went away (primary stopped), once more on a new connection.

        ``binary``: results in PostgreSQL's binary format (bytea without hex decoding).
        """
        for attempt in (0, 1):
            if self._r is None or self._r.closed or self._r.broken:
                self._r = self._connect(write=False)
            try:
                return self._r.execute(sql, tuple(args), binary=binary).fetchall()
            except psycopg.OperationalError as e:
                self._r.close()
                self._r = None
                if attempt:
                    raise IndexUnavailableError(f"store {self._where()}: {e}") from e
        raise AssertionError("unreachable")

    def _create_schema(self) -> None:
        conn = self._writer()
        with conn.transaction():
            # One creator at a time when many processes open a new database at once.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('hoidap schema'))")
            conn.execute(_DDL)
            conn.execute("INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT DO NOTHING",
                         (str(SCHEMA_VERSION),))
        conn.execute(f"SET search_path TO {SCHEMA}")

    def _rebuild_postings(self, batch: int = 2000) -> None:
        """Versions 1 and 2 kept postings as integer arrays: rebuild them, and the term
        statistics, from the stored rows (as the embedded index rebuilds from SQLite).

        One transaction: a reader sees the old index or the new one. A sharded store
        (``hoidap.backends.postgres.shard``) is not upgraded here: create it anew and ingest again.
        """
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('hoidap schema'))")
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row and int(row[0]) == SCHEMA_VERSION:
                return  # another process upgraded it while this one waited
            cur.execute("DROP TABLE postings")
            cur.execute(DOCUMENT_DDL)
            cur.execute("TRUNCATE lexicon, field_stats")
            last_dno = 0
            while True:
                docs = cur.execute("SELECT dno, terms FROM documents WHERE dno > %s ORDER BY dno LIMIT %s",
                                   (last_dno, batch)).fetchall()
                if not docs:
                    break
                last_dno = docs[-1][0]
                sents = cur.execute("SELECT sid, terms FROM sentences WHERE dno >= %s AND dno <= %s ORDER BY sid",
                                    (docs[0][0], last_dno)).fetchall()
                write_postings(cur, [postings_for("sentences", sents, docs[0][0]),
                                     postings_for("documents", docs, docs[0][0])])
            cur.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        for c in (self._r, self._w):
            if c is not None:
                c.close()
        self._r = self._w = None

    # -- writing ---------------------------------------------------------
    def has_document(self, doc_id: str) -> bool:
        # Asked of the primary: a standby may not have replayed the last batch yet.
        return self._writer().execute("SELECT 1 FROM documents WHERE doc_id = %s", (doc_id,)).fetchone() is not None

    def stored(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of these documents are stored (asked of the primary, as ``has_document``)."""
        rows = self._writer().execute("SELECT doc_id FROM documents WHERE doc_id = ANY(%s::text[])",
                                      (list(doc_ids),)).fetchall()
        return {r[0] for r in rows}

    def add(self, batch: Sequence[PreparedArticle], sources: Sequence[tuple[str, str]],
            replaced: Sequence[str] = (), then: NewSentences | None = None) -> None:
        """Store new articles, their BM25 postings and source->doc links in one transaction (COPY).

        ``then`` runs in that transaction with (sid, doc_id, sentence index) of every
        sentence stored, so what it writes (``PgDense.add``: their vectors) commits
        with them or not at all.
        """
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            if replaced:
                self._delete(cur, replaced)
            new = self._add_documents(cur, batch)
            stored = self._add_sentences_and_postings(cur, new) if new else []
            if then is not None and stored:
                then(cur, stored)
            if sources:
                src = list(dict(reversed(sources)).items())  # first link of a source wins, as in SQLite
                cur.execute("INSERT INTO sources SELECT * FROM unnest(%s::text[], %s::text[])"
                            " ON CONFLICT DO NOTHING", ([s for s, _ in src], [d for _, d in src]))

    # -- deleting --------------------------------------------------------
    def delete(self, doc_ids: Sequence[str]) -> list[DeletedDocument]:
        """Delete documents, their sentences, postings, vectors and source links in one transaction."""
        if not doc_ids:
            return []
        conn = self._writer()
        with conn.transaction(), conn.cursor() as cur:
            return self._delete(cur, list(dict.fromkeys(doc_ids)))

    def _delete(self, cur: psycopg.Cursor[Any], doc_ids: Sequence[str]) -> list[DeletedDocument]:
        cur.execute("SELECT dno, doc_id, terms FROM documents WHERE doc_id = ANY(%s::text[]) ORDER BY dno FOR UPDATE",
                    (list(doc_ids),))
        docs = [(int(d), i, t) for d, i, t in cur.fetchall()]
        if not docs:
            return []
        dnos = [d for d, _, _ in docs]
        cur.execute("SELECT sid, dno, terms FROM sentences WHERE dno = ANY(%s::bigint[]) ORDER BY sid", (dnos,))
        sentences = [(int(sid), int(dno), t) for sid, dno, t in cur.fetchall()]
        remove_postings(cur, [postings_for("sentences", [(sid, t) for sid, _, t in sentences]),
                              postings_for("documents", [(d, t) for d, _, t in docs])])
        sids = [sid for sid, _, _ in sentences]
        cur.execute("SELECT to_regclass('sentence_vectors') IS NOT NULL")
        row = cur.fetchone()
        if row is not None and row[0]:
            cur.execute("DELETE FROM sentence_vectors WHERE sid = ANY(%s::bigint[])", (sids,))
        cur.execute("DELETE FROM sentences WHERE dno = ANY(%s::bigint[])", (dnos,))
        cur.execute("DELETE FROM documents WHERE dno = ANY(%s::bigint[])", (dnos,))
        cur.execute("DELETE FROM sources WHERE doc_id = ANY(%s::text[])", ([i for _, i, _ in docs],))
        of: dict[int, list[int]] = {}
        for sid, dno, _ in sentences:
            of.setdefault(dno, []).append(sid)
        return [DeletedDocument(i, d, tuple(of.get(d, []))) for d, i, _ in docs]

    def pending_deletes(self) -> list[DeletedDocument]:
        """None: rows, postings and vectors are deleted in one transaction."""
        return []

    def clear_deletes(self, dnos: Sequence[int]) -> None:
        """Nothing to clear (``pending_deletes``)."""

    def source_document(self, source: str) -> str | None:
        """The document last ingested from ``source`` (its own source), if stored (asked of the primary)."""
        row = self._writer().execute(
            "SELECT d.doc_id FROM sources s JOIN documents d ON d.doc_id = s.doc_id"
            " WHERE s.source = %s AND d.source = %s", (source, source)).fetchone()
        return None if row is None else str(row[0])

    def allowed_documents(self, filters: Filters) -> list[int]:
        """The numbers of the documents ``filters`` lets through, in order (as ``Filters.allows``)."""
        where: list[str] = ["TRUE"]
        args: list[object] = []
        if filters.docs:
            where.append("doc_id = ANY(%s::text[])")
            args.append(list(filters.docs))
        if filters.outlets:
            wanted = {o.casefold() for o in filters.outlets}
            names = [o for o, in self.read("SELECT DISTINCT outlet FROM documents WHERE outlet IS NOT NULL")
                     if o.casefold() in wanted]
            where.append("outlet = ANY(%s::text[])")
            args.append(names)
        if filters.since:
            where.append('date COLLATE "C" >= %s')
            args.append(filters.since)
        if filters.until:
            where.append(f'left(date, {len(filters.until)}) COLLATE "C" <= %s')
            args.append(filters.until)
        rows = self.read(f"SELECT dno, doc_id, date, outlet FROM documents WHERE {' AND '.join(where)} ORDER BY dno",
                         args)
        return [int(d) for d, i, date, outlet in rows if filters.allows(date, outlet, i)]

    def _add_documents(self, cur: psycopg.Cursor[Any],
                       batch: Sequence[PreparedArticle]) -> list[tuple[int, int, PreparedArticle]]:
        """Insert the batch's documents not stored yet; (dno, table, article) of those, in batch order.

        ``table`` is the oid of the table the row went into: ``documents`` itself, or in
        a sharded store (``hoidap.backends.postgres.shard``) the partition, i.e. the shard, of the document.
        """
        unique = list({p.article.doc_id: p for p in reversed(batch)}.values())[::-1]
        if not unique:
            return []
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS stage_documents (pos integer, doc_id text, source text,"
                    " title text, date text, outlet text, original_text text, clean_text text,"
                    " questions text, credits text, n_sentences integer, terms text) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY stage_documents (pos, {_DOC_COLUMNS}) FROM STDIN") as copy:
            for pos, prep in enumerate(unique):
                a = prep.article
                copy.write_row((pos, a.doc_id, a.source, a.title, a.date, a.outlet, a.original_text,
                                a.clean_text, json.dumps(list(a.questions), ensure_ascii=False),
                                json.dumps(list(a.credits), ensure_ascii=False), a.n_sentences,
                                prep.doc_terms))
        # dno follows batch order, like SQLite's rowids (it only breaks BM25 ties).
        # The conflict is on doc_id, the only unique column not drawn from a sequence. It is not
        # named: a sharded coordinator has no unique index on doc_id (its shards and a trigger do).
        cur.execute(f"INSERT INTO documents ({_DOC_COLUMNS}) SELECT {_DOC_COLUMNS} FROM stage_documents"
                    " ORDER BY pos ON CONFLICT DO NOTHING RETURNING dno, doc_id, tableoid")
        dnos = {doc_id: (int(dno), int(table)) for dno, doc_id, table in cur.fetchall()}
        return sorted((*dnos[p.article.doc_id], p) for p in unique if p.article.doc_id in dnos)

    def _add_sentences_and_postings(self, cur: psycopg.Cursor[Any],
                                    new: list[tuple[int, int, PreparedArticle]]) -> list[tuple[int, str, int]]:
        """The sentences and postings of new documents; (sid, doc_id, sentence index) of each sentence."""
        stored: list[tuple[int, str, int]] = []
        n = sum(len(p.sentence_terms) for _, _, p in new)
        cur.execute("SELECT nextval('sentences_sid_seq') FROM generate_series(1, %s)", (n,))
        sids = iter(sorted(int(r[0]) for r in cur.fetchall()))
        # The batch's postings are written per table its documents went into: one group
        # unless the store is sharded, where each shard gets the postings of its documents.
        sentence_rows: dict[int, list[tuple[int, str]]] = {}
        document_rows: dict[int, list[tuple[int, str]]] = {}
        with cur.copy('COPY sentences (sid, dno, idx, start, "end", terms, dup_key) FROM STDIN') as copy:
            for dno, table, prep in new:
                document_rows.setdefault(table, []).append((dno, prep.doc_terms))
                rows = sentence_rows.setdefault(table, [])
                for s, terms, key in zip(prep.article.sentences, prep.sentence_terms, prep.dup_keys,
                                         strict=True):
                    sid = next(sids)
                    copy.write_row((sid, dno, s.index, s.start, s.end, terms, key))
                    rows.append((sid, terms))
                    stored.append((sid, prep.article.doc_id, s.index))
        parts = []
        for table, docs in document_rows.items():
            dno = docs[0][0]  # the postings rows go where this document went
            parts += [postings_for("sentences", sentence_rows[table], dno),
                      postings_for("documents", docs, dno)]
        write_postings(cur, parts)
        return stored

    def analyze(self) -> None:
        """Refresh the planner's statistics: after a bulk load, before autovacuum gets to it."""
        self._writer().execute("ANALYZE documents, sentences, sources, lexicon, postings, field_stats")

    # -- reading ---------------------------------------------------------
    def document(self, doc_id: str) -> Article:
        rows = self.read(
            f"SELECT dno, {_DOC_COLUMNS.replace(', n_sentences, terms', '')} FROM documents WHERE doc_id = %s",
            (doc_id,))
        if not rows:
            raise DocumentNotFoundError(f"no document {doc_id!r} in the index")
        return document_rows.article(rows[0][1:], self.read(
            'SELECT idx, start, "end" FROM sentences WHERE dno = %s ORDER BY idx', (rows[0][0],)))

    def _infos(self, where: str, args: Sequence[Any]) -> list[DocumentInfo]:
        return [document_rows.info(r) for r in self.read(f"SELECT {document_rows.INFO_COLUMNS} FROM documents {where}", args)]

    def documents(self) -> list[DocumentInfo]:
        return self._infos("ORDER BY dno", ())

    def infos(self, doc_ids: Sequence[str]) -> dict[str, DocumentInfo]:
        if not doc_ids:
            return {}
        return {i.doc_id: i for i in self._infos("WHERE doc_id = ANY(%s::text[])", (list(doc_ids),))}

    def _sentences(self, where: str, args: Sequence[Any]) -> list[StoredSentence]:
        rows = self.read(
            'SELECT s.sid, d.doc_id, s.dno, s.idx, s.start, s."end", s.terms, s.dup_key'
            f" FROM sentences s JOIN documents d ON d.dno = s.dno WHERE {where}", args)
        texts = self._originals({int(r[2]) for r in rows})
        return [StoredSentence(sid, doc_id, dno, idx, start, end, texts[dno][start:end], terms, key)
                for sid, doc_id, dno, idx, start, end, terms, key in rows]

    def _originals(self, dnos: set[int]) -> dict[int, str]:
        """Original texts by dno. The sentences are cut here rather than with substr() in
        SQL, which would de-TOAST a document once per sentence (measured 4.7 ms a query)."""
        out = {d: self._texts[d] for d in dnos if d in self._texts}
        missing = [d for d in dnos if d not in out]
        if missing:
            fetched = {int(d): t for d, t in self.read(
                "SELECT dno, original_text FROM documents WHERE dno = ANY(%s::bigint[])", (missing,))}
            out.update(fetched)
            if len(self._texts) + len(fetched) > self.settings.pg_text_cache:
                self._texts.clear()
            self._texts.update(fetched)
        return out

    def sentences(self, sids: Sequence[int]) -> list[StoredSentence]:
        if not sids:
            return []
        by_sid = {s.sid: s for s in self._sentences("s.sid = ANY(%s::bigint[])", (list(sids),))}
        return [by_sid[i] for i in sids if i in by_sid]

    def sentence_documents(self, sids: Sequence[int]) -> dict[int, int]:
        if not sids:
            return {}
        return dict(self.read("SELECT sid, dno FROM sentences WHERE sid = ANY(%s::bigint[])", (list(sids),)))

    def document_sentences(self, dnos: Sequence[int]) -> dict[int, int]:
        if not dnos:
            return {}
        return {sid: dno for sid, dno, _ in self._sentence_rows(dnos)}

    def sentence_terms(self, dnos: Sequence[int]) -> list[tuple[int, str]]:
        """(sid, terms) of the sentences of these documents."""
        if not dnos:
            return []
        return [(sid, terms) for sid, _, terms in self._sentence_rows(dnos)]

    def _sentence_rows(self, dnos: Sequence[int]) -> list[tuple[Any, ...]]:
        key = tuple(dnos)
        if self._rows_of[0] != key:
            rows = self.read("SELECT sid, dno, terms FROM sentences WHERE dno = ANY(%s::bigint[])", (list(dnos),))
            self._rows_of = (key, rows)
        return self._rows_of[1]

    def sentences_of(self, doc_id: str) -> list[StoredSentence]:
        return self._sentences("d.doc_id = %s ORDER BY s.idx", (doc_id,))

    def same_statements(self, dup_keys: Sequence[str], limit: int) -> dict[str, list[int]]:
        """Each key's first ``limit`` sentence ids, in order (for ``PgIndex.same_statements``)."""
        keys = [k for k in dict.fromkeys(dup_keys) if k]
        out: dict[str, list[int]] = {k: [] for k in keys}
        if keys:
            for key, sid in self.read(
                    "SELECT q.key, s.sid FROM unnest(%s::text[]) AS q(key) CROSS JOIN LATERAL"
                    " (SELECT sid FROM sentences WHERE dup_key = q.key ORDER BY sid LIMIT %s) AS s",
                    (keys, int(limit))):
                out[key].append(int(sid))
        for sids in out.values():
            sids.sort()
        return out

    def sentences_after(self, sid: int) -> Iterator[tuple[int, int, str, str]]:
        yield from self.read(
            "SELECT sid, dno, terms, dup_key FROM sentences WHERE sid > %s ORDER BY sid", (sid,))

    def documents_after(self, dno: int) -> Iterator[tuple[int, str]]:
        yield from self.read("SELECT dno, terms FROM documents WHERE dno > %s ORDER BY dno", (dno,))

    def doc_ids(self, dnos: Sequence[int]) -> dict[int, str]:
        if not dnos:
            return {}
        return {int(d): i for d, i in self.read("SELECT dno, doc_id FROM documents WHERE dno = ANY(%s::bigint[])",
                                                (list(dnos),))}

    def counts(self) -> tuple[int, int]:
        """(documents, sentences) stored, from the BM25 statistics (no full-table count)."""
        docs = {k: d for k, d in self.read("SELECT kind, docs FROM field_stats WHERE field = 0")}
        return int(docs.get(KIND_IDS["documents"], 0)), int(docs.get(KIND_IDS["sentences"], 0))

    # -- BM25 (hoidap.backends.postgres.keyword) -------------------------------------------
    def postings(self, tids: Sequence[int]) -> list[tuple[int, int, bytes, bytes, bytes]]:
        """Every postings row ``(tid, n, keys, tfs, norms)`` of these terms.

        One index lookup per term (OFFSET 0 keeps the planner from turning them into a
        scan of the whole table when its statistics are stale, as during a first load).
        """
        if not tids:
            return []
        return self.read("SELECT p.tid, p.n, p.keys, p.tfs, p.norms FROM unnest(%s::bigint[]) AS q(tid)"
                         " CROSS JOIN LATERAL (SELECT * FROM postings p WHERE p.tid = q.tid OFFSET 0) AS p",
                         (list(tids),), binary=True)

    def compact(self, chunk: int = COMPACT_CHUNK) -> int:
        """Merge each term's postings rows into one (per shard); returns the terms merged.

        A load writes one row per term and batch: at 500,000 articles a frequent term
        has hundreds, each an index lookup and a row to send per question. Each chunk
        of terms is one transaction, so readers always see every posting once, and
        loads may run meanwhile (rows they add later stay separate until the next
        compaction). Keys keep no order within a row (scoring does not need one).
        """
        conn = self._writer()
        tids = [int(t) for t, in conn.execute(
            "SELECT tid FROM postings GROUP BY tid HAVING count(*) > 1 ORDER BY tid").fetchall()]
        for start in range(0, len(tids), chunk):
            with conn.transaction():
                conn.execute(
                    "WITH old AS (DELETE FROM postings WHERE tid = ANY(%s::bigint[]) RETURNING tableoid, *)"
                    " INSERT INTO postings (dno, tid, n, keys, tfs, norms)"
                    " SELECT min(dno), tid, sum(n), string_agg(keys, ''::bytea ORDER BY dno, keys),"
                    " string_agg(tfs, ''::bytea ORDER BY dno, keys), string_agg(norms, ''::bytea ORDER BY dno, keys)"
                    " FROM old GROUP BY tableoid, tid", (tids[start:start + chunk],))
        return len(tids)

    # -- BM25 statistics (hoidap.backends.postgres.keyword) --------------------------------
    def field_stats(self, kind: int) -> tuple[int, dict[str, int]]:
        """(documents, {field: tokens}) of one kind."""
        names = {i: f for f, i in FIELD_IDS.items()}
        rows = self.read("SELECT field, docs, tokens FROM field_stats WHERE kind = %s", (kind,))
        docs = max((int(d) for _, d, _ in rows), default=0)
        return docs, {names[f]: int(t) for f, _, t in rows}

    def lookup_terms(self, keys: Sequence[tuple[int, int, str]]) -> dict[tuple[int, int, str], tuple[int, int]]:
        """(kind, field, term) -> (term id, document frequency) for the keys in the lexicon."""
        rows = self.read(
            "SELECT l.kind, l.field, l.term, l.tid, l.df FROM lexicon l"
            " JOIN unnest(%s::smallint[], %s::smallint[], %s::text[]) AS q(kind, field, term)"
            " ON l.kind = q.kind AND l.field = q.field AND l.term = q.term",
            ([k for k, _, _ in keys], [f for _, f, _ in keys], [t for _, _, t in keys]))
        return {(int(k), int(f), t): (int(tid), int(df)) for k, f, t, tid, df in rows}


_NULL = "\\N"  # NULL in COPY's text format


def _copy_text(value: str) -> str:
    """A value in COPY's text format (backslash escapes)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_postings(cur: psycopg.Cursor[Any], parts: Sequence[Postings]) -> None:
    """Append a batch's postings: document frequencies into ``lexicon``, lists into ``postings``.

    ``parts`` may hold several ``Postings`` of one kind (one per shard): their
    document frequencies and field statistics are summed, and each part's lists
    become rows of their own, with the part's ``dno``. Lexicon rows are upserted
    in one sorted order, so concurrent loaders lock shared terms in the same
    order and cannot deadlock.
    """
    fields = [(KIND_IDS[p.kind], FIELD_IDS[fp.field], p, fp) for p in parts for fp in p.fields if fp.terms]
    if fields:
        # The batch's terms go in by COPY (binding 10^4-10^5 array elements as a parameter
        # cost more than the upsert), then into the lexicon in one sorted upsert (summed:
        # a sharded batch has a term once per shard).
        cur.execute('CREATE TEMP TABLE IF NOT EXISTS stage_terms (kind smallint, field smallint,'
                    ' term text COLLATE "C", df bigint) ON COMMIT DELETE ROWS')
        with cur.copy("COPY stage_terms FROM STDIN") as copy:
            for kind, fid, _, fp in fields:
                terms = fp.terms if "\\" not in "".join(fp.terms) else [_copy_text(t) for t in fp.terms]
                copy.write("".join([f"{kind}\t{fid}\t{t}\t{n}\n"
                                    for t, n in zip(terms, np.diff(fp.starts).tolist(), strict=True)]))
        cur.execute(
            "INSERT INTO lexicon (kind, field, term, df) SELECT kind, field, term, sum(df) FROM stage_terms"
            " GROUP BY kind, field, term ORDER BY kind, field, term"
            " ON CONFLICT (kind, field, term) DO UPDATE SET df = lexicon.df + EXCLUDED.df"
            " RETURNING kind, field, term, tid")
        tids: dict[tuple[int, int], dict[str, int]] = {}
        for k, f, t, tid in cur.fetchall():
            tids.setdefault((int(k), int(f)), {})[t] = int(tid)
        with cur.copy("COPY postings (dno, tid, n, keys, tfs, norms) FROM STDIN") as copy:
            for kind, fid, p, fp in fields:
                of_field = tids[(kind, fid)]
                _copy_postings(copy, _NULL if p.dno is None else str(p.dno), [of_field[t] for t in fp.terms], fp)
    docs: Counter[tuple[int, int]] = Counter()
    tokens: Counter[tuple[int, int]] = Counter()
    for p in parts:
        if p.docs:
            for f, n in p.tokens.items():
                docs[(KIND_IDS[p.kind], FIELD_IDS[f])] += p.docs
                tokens[(KIND_IDS[p.kind], FIELD_IDS[f])] += n
    if docs:
        stats = [(k, f, d, tokens[(k, f)]) for (k, f), d in sorted(docs.items())]
        cur.execute(
            "INSERT INTO field_stats SELECT * FROM unnest(%s::smallint[], %s::smallint[], %s::bigint[],"
            " %s::bigint[]) ORDER BY 1, 2"
            " ON CONFLICT (kind, field) DO UPDATE SET docs = field_stats.docs + EXCLUDED.docs,"
            " tokens = field_stats.tokens + EXCLUDED.tokens",
            tuple(list(c) for c in zip(*stats, strict=True)))


def remove_postings(cur: psycopg.Cursor[Any], parts: Sequence[Postings]) -> None:
    """Take the postings of deleted rows out: ``write_postings`` undone for these rows.

    Their terms' document frequencies and the field statistics go down, and each
    postings row holding one of their keys is rewritten without it (or dropped when
    nothing is left), so scores are as if the rows had never been added.
    """
    kind_of: dict[int, int] = {}  # term id -> kind of the deleted rows' terms
    gone: dict[int, np.ndarray] = {}  # kind -> the deleted keys (sentence or document numbers)
    for p in parts:
        kind = KIND_IDS[p.kind]
        fields = [fp for fp in p.fields if fp.terms]
        if fields:
            gone[kind] = np.unique(np.concatenate([fp.keys for fp in fields]).astype(np.int64))
        for fp in fields:
            cur.execute(
                "UPDATE lexicon l SET df = l.df - q.n FROM unnest(%s::text[], %s::bigint[]) AS q(term, n)"
                " WHERE l.kind = %s AND l.field = %s AND l.term = q.term RETURNING l.tid",
                (fp.terms, np.diff(fp.starts).tolist(), kind, FIELD_IDS[fp.field]))
            kind_of.update((int(tid), kind) for tid, in cur.fetchall())
        if p.docs:
            names = sorted(p.tokens)
            cur.execute(
                "UPDATE field_stats f SET docs = f.docs - %s, tokens = f.tokens - q.n"
                " FROM unnest(%s::smallint[], %s::bigint[]) AS q(field, n) WHERE f.kind = %s AND f.field = q.field",
                (p.docs, [FIELD_IDS[f] for f in names], [p.tokens[f] for f in names], kind))
    if not kind_of:
        return
    cur.execute("SELECT tableoid, ctid::text, dno, tid, keys, tfs, norms FROM postings WHERE tid = ANY(%s::bigint[])",
                (list(kind_of),), binary=True)
    rows = cur.fetchall()
    # All rows' keys at once (a numpy call per row cost 40 us on 400,000 rows): a key is
    # deleted when its kind's deleted keys hold it (keys are unique within a kind).
    lengths = np.array([len(r[4]) // KEY_DTYPE.itemsize for r in rows], dtype=np.int64)
    keys = np.frombuffer(b"".join(r[4] for r in rows), KEY_DTYPE).astype(np.int64)
    row_kind = np.repeat(np.array([kind_of[int(r[3])] for r in rows], dtype=np.int64), lengths)
    hit = np.zeros(len(keys), dtype=bool)
    for kind, deleted in gone.items():
        of_kind = row_kind == kind
        hit[of_kind] = np.isin(keys[of_kind], deleted)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    changed = np.unique(np.repeat(np.arange(len(rows)), lengths)[hit])
    if not len(changed):
        return
    ctids = [rows[i][1] for i in changed]
    # ctid = ANY: a TID scan; the pair: a ctid is unique per table only (partitions of a sharded store).
    cur.execute("DELETE FROM postings WHERE ctid = ANY(%s::tid[]) AND (tableoid, ctid) IN"
                " (SELECT * FROM unnest(%s::oid[], %s::tid[]))",
                (ctids, [int(rows[i][0]) for i in changed], ctids))
    with cur.copy("COPY postings (dno, tid, n, keys, tfs, norms) FROM STDIN") as copy:
        for i in changed.tolist():
            _, _, dno, tid, k, tfs, norms = rows[i]
            keep = ~hit[starts[i]:starts[i + 1]]
            if keep.any():
                copy.write_row((dno, tid, int(keep.sum()), np.frombuffer(k, KEY_DTYPE)[keep].tobytes(),
                                np.frombuffer(tfs, TF_DTYPE)[keep].tobytes(),
                                np.frombuffer(norms, CODE_DTYPE)[keep].tobytes()))


def _copy_postings(copy: psycopg.Copy, dno: str, tids: list[int], fp: FieldPostings) -> None:
    """One field's lists as rows in COPY's text format, written directly (psycopg's adapters
    cost ~30 us a row); bytea in hex, ``\\x...`` with its backslash escaped."""
    kb, tb, cb = fp.keys.tobytes(), fp.tfs.tobytes(), fp.codes.tobytes()
    ks, ts = fp.keys.itemsize, fp.tfs.itemsize
    starts = fp.starts.tolist()
    lines: list[str] = []
    for i, tid in enumerate(tids):
        a, b = starts[i], starts[i + 1]
        lines.append(f"{dno}\t{tid}\t{b - a}\t\\\\x{kb[a * ks:b * ks].hex()}"
                     f"\t\\\\x{tb[a * ts:b * ts].hex()}\t\\\\x{cb[a:b].hex()}\n")
        if len(lines) >= 5000:
            copy.write("".join(lines))
            lines.clear()
    if lines:
        copy.write("".join(lines))
