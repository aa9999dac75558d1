"""The PostgreSQL backend: store, BM25 postings and sentence vectors in one database.

Needs the ``postgres`` extra (psycopg); ``hoidap.backends.open_backend`` imports it
only for a ``postgresql://`` store. Modules: ``store`` (``PgStore``), ``postings``
(a batch's postings lists), ``keyword`` (``PgIndex``, scored on the client with
``hoidap.search.bm25``), ``vectors`` (``PgDense``), ``shard`` (the sharded schema).
"""
