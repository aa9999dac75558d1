"""A sharded PostgreSQL store: the big tables hash-partitioned by document over several servers.

``create_sharded_schema(coordinator_url, shard_urls)`` lays out a new
``hoidap.backends.postgres.store`` schema on a coordinator database, after which
``--store <coordinator_url>`` (``PgStore``, ``Engine``, the CLI, Spark ingest)
uses it with the same SQL as an unsharded store:

- ``documents``, ``sentences`` and ``postings`` (the tables that grow with the
  archive, ``backends.postgres.store.DOCUMENT_DDL``) are ``PARTITION BY HASH (dno)`` on the
  coordinator, and partition *i* of each is a ``postgres_fdw`` foreign table
  on shard *i*, where it is an ordinary table with its indexes and keys. The
  three tables share the key and the partition bounds, so a document, its
  sentences and its postings are on one shard (the store writes a batch's
  postings one group per shard: ``PgStore._add_sentences_and_postings``).
- ``lexicon`` and ``field_stats`` (term statistics), ``meta``, ``sources``
  and the sequences numbering documents and sentences stay whole on the
  coordinator, so document frequencies and collection sizes are global and
  BM25 scores equal the unsharded store's.
- ``doc_id`` is unique across shards: a trigger on the coordinator's
  ``documents`` claims each new ``doc_id`` in ``doc_ids`` (coordinator) and
  skips the row when it is taken, as ``ON CONFLICT DO NOTHING`` does in an
  unsharded store (a shard's own unique index only sees that shard).

This is the layout Citus gives with ``create_distributed_table(..., 'dno')``
and the statistics kept on the coordinator (docs/scale.md), run here with
stock PostgreSQL, which is how tests/test_postgres_shard.py exercises it.

Limits of postgres_fdw (PostgreSQL 15), not of the layout: a batch commits on
each shard separately, without two-phase commit, so a failure between two
shards' commits can leave part of a batch on one shard (Citus commits with
2PC); each row sent to a shard by COPY is one round trip (PostgreSQL 16
batches them); and the client scores the postings the shards send rather
than each shard scoring its own.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from hoidap.backends.postgres.store import (
    DOCUMENT_DDL,
    DOCUMENT_TABLES,
    GLOBAL_DDL,
    SCHEMA,
    SCHEMA_VERSION,
)
from hoidap.errors import HoidapError

# libpq options that belong to a user mapping rather than to a foreign server.
_MAPPING_OPTIONS = ("user", "password", "sslpassword", "sslcert", "sslkey")

_CLAIM_DDL = """
CREATE TABLE doc_ids (doc_id text PRIMARY KEY);
CREATE FUNCTION claim_doc_id() RETURNS trigger LANGUAGE plpgsql SET search_path = hoidap AS $$
BEGIN
    INSERT INTO doc_ids VALUES (NEW.doc_id) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    RETURN NULL;  -- stored already, maybe on another shard: skip the row
END $$;
CREATE TRIGGER claim_doc_id BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION claim_doc_id();
"""


def _columns(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Column definitions (name, type, NOT NULL) of the document tables, as a shard has them."""
    rows = conn.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s) AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        (SCHEMA, list(DOCUMENT_TABLES))).fetchall()
    out: dict[str, list[str]] = {}
    for table, name, type_, not_null in rows:
        out.setdefault(table, []).append(
            sql.SQL("{} {}{}").format(sql.Identifier(name), sql.SQL(type_),
                                      sql.SQL(" NOT NULL" if not_null else "")).as_string(conn))
    return out


def _prepare_shard(url: str) -> dict[str, list[str]]:
    """Create the document tables on one shard (empty ones may exist already); their columns."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('hoidap schema'))")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"SET LOCAL search_path TO {SCHEMA}")
        conn.execute(DOCUMENT_DDL)
        if conn.execute("SELECT EXISTS (SELECT FROM documents)").fetchone() != (True,):
            return _columns(conn)
    raise HoidapError(f"shard {_where(url)} already holds documents")


def _where(url: str) -> str:
    params = conninfo_to_dict(url)
    params.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in params.items())


def create_sharded_schema(coordinator_url: str, shard_urls: Sequence[str]) -> None:
    """Make a new hoidap store on ``coordinator_url`` whose documents live on ``shard_urls``.

    Each URL is a libpq URL of an existing database (the shards' may list
    several hosts: everything but the user name and password becomes the
    foreign server's options, those two its user mapping, for every role of the
    coordinator). Needs a coordinator role allowed to ``CREATE EXTENSION
    postgres_fdw`` (a superuser, or the extension already created) and, on the
    shards, a role that can create the schema ``hoidap``. The number of shards
    is fixed from then on. Raises ``HoidapError`` if the coordinator already has
    a hoidap store or a shard holds documents.
    """
    if not shard_urls:
        raise HoidapError("a sharded store needs at least one shard")
    columns = [_prepare_shard(url) for url in shard_urls][0]
    n = len(shard_urls)
    with psycopg.connect(coordinator_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('hoidap schema'))")
        if conn.execute("SELECT to_regclass('hoidap.meta') IS NOT NULL").fetchone() == (True,):
            raise HoidapError(f"{_where(coordinator_url)} already has a hoidap store")
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"SET LOCAL search_path TO {SCHEMA}")
        conn.execute(GLOBAL_DDL)
        conn.execute("CREATE SEQUENCE documents_dno_seq")
        for table in DOCUMENT_TABLES:
            conn.execute(f"CREATE TABLE {table} ({', '.join(columns[table])}) PARTITION BY HASH (dno)")
        conn.execute("ALTER TABLE documents ALTER COLUMN dno SET DEFAULT nextval('documents_dno_seq')")
        conn.execute("ALTER SEQUENCE documents_dno_seq OWNED BY documents.dno")
        conn.execute(_CLAIM_DDL)
        version = int(conn.execute("SHOW server_version_num").fetchall()[0][0])
        for i, url in enumerate(shard_urls):
            params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
            mapping = {k: params.pop(k) for k in _MAPPING_OPTIONS if k in params}
            # Scan the shards concurrently (an Append over foreign partitions), fetch rows by the
            # thousand, and commit on all shards at once (PostgreSQL 15).
            params |= {"async_capable": "true", "fetch_size": "1000"}
            if version >= 150000:
                params["parallel_commit"] = "true"
            server = sql.Identifier(f"hoidap_shard_{i}")
            conn.execute(sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({})").format(
                server, _options(params)))
            conn.execute(sql.SQL("CREATE USER MAPPING FOR PUBLIC SERVER {}{}").format(
                server, sql.SQL(" OPTIONS ({})").format(_options(mapping)) if mapping else sql.SQL("")))
            for table in DOCUMENT_TABLES:
                conn.execute(sql.SQL(
                    "CREATE FOREIGN TABLE {} PARTITION OF {} FOR VALUES WITH (MODULUS {}, REMAINDER {})"
                    " SERVER {} OPTIONS (schema_name {}, table_name {})").format(
                        sql.Identifier(f"{table}_{i}"), sql.Identifier(table), n, i, server,
                        sql.Literal(SCHEMA), sql.Literal(table)))
        # Join a shard's sentences with its documents on the shard, not on the coordinator.
        for setting in ("enable_partitionwise_join", "enable_partitionwise_aggregate"):
            conn.execute(sql.SQL("ALTER DATABASE {} SET {} = on").format(
                sql.Identifier(conn.info.dbname), sql.Identifier(setting)))
        conn.execute("INSERT INTO meta VALUES ('schema_version', %s), ('shards', %s)",
                     (str(SCHEMA_VERSION), str(n)))
        # Autovacuum never analyzes foreign tables: without statistics, the planner guesses
        # 1,280 rows a shard and joins sentences with documents on the coordinator, after
        # fetching every document number. Statistics of the empty tables make it send the
        # join to each shard, and stay on that side as the shards grow (PgStore.analyze
        # after a bulk load brings them up to date).
        conn.execute(f"ANALYZE {', '.join(DOCUMENT_TABLES)}")


def _options(params: dict[str, str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
                              for k, v in params.items())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hoidap.backends.postgres.shard",
        description="Create a sharded hoidap store: documents hash-partitioned over the shards "
                    "(postgres_fdw), term statistics on the coordinator. Then use --store COORDINATOR.",
        epilog="example: python -m hoidap.backends.postgres.shard postgresql://db0/news postgresql://db1/news "
               "postgresql://db2/news")
    parser.add_argument("coordinator", help="libpq URL of the coordinator database")
    parser.add_argument("shards", nargs="+", help="libpq URLs of the shard databases")
    args = parser.parse_args(argv)
    create_sharded_schema(args.coordinator, args.shards)
    print(f"sharded store on {_where(args.coordinator)}: {len(args.shards)} shards")


if __name__ == "__main__":
    main()
