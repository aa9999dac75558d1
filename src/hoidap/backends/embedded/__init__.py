"""The embedded backend, one directory: ``hoidap.sqlite`` (``store``), ``keyword/``
(tantivy, ``keyword``) and ``dense/`` (vector shards, ``vectors``)."""
