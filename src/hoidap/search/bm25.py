"""The BM25 formula both keyword indexes score with, as small pure functions.

tantivy scores the embedded index; the PostgreSQL backend scores its postings
on the client with these same functions and constants, so both rank alike:

    score(q, d) = sum over clauses (field, term, boost) matching d of
        boost * idf(df, N) * (K1 + 1) * tf / (tf + K1 * (1 - B + B * norm(len) / avgdl))

with tantivy's K1 = 1.2, B = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))
(tantivy ``src/query/bm25.rs``), ``avgdl`` = the field's tokens / documents,
and ``norm`` tantivy's one-byte field-length code decoded back (Lucene's
``SmallFloat.intToByte4``, tantivy ``src/fieldnorm/code.rs``): lengths up to
40 are exact, longer ones rounded down to 4 significant bits. The answer
ranker's term weights (``hoidap.qa.rank``) use the same ``idf``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import lru_cache

# tantivy's BM25 parameters (src/query/bm25.rs: K1 = 1.2, B = 0.75), fixed there.
K1 = 1.2
B = 0.75


@lru_cache(maxsize=1)
def fieldnorm_table() -> tuple[int, ...]:
    """The 256 field lengths a one-byte fieldnorm code decodes to.

    Lucene ``SmallFloat.byte4ToInt`` (as tantivy ``FIELD_NORMS_TABLE``): codes
    below 24 are the length itself; above, a 3-bit mantissa with an implicit
    leading bit, shifted by the exponent, plus 24.
    """
    free = 24  # 255 - longToInt4(Integer.MAX_VALUE) = 255 - 231
    out = []
    for code in range(256):
        if code < free:
            out.append(code)
            continue
        i = code - free
        bits, shift = i & 0x07, (i >> 3) - 1
        out.append(free + (bits if shift == -1 else (bits | 0x08) << shift))
    return tuple(out)


def fieldnorm_code(n_tokens: int) -> int:
    """The one-byte code tantivy stores for a field of ``n_tokens`` tokens (rounded down)."""
    return bisect_right(fieldnorm_table(), n_tokens) - 1


def quantized_length(n_tokens: int) -> int:
    """A field length as tantivy scores it: rounded down to the nearest table value."""
    return fieldnorm_table()[fieldnorm_code(n_tokens)]


def idf(df: int, n: int) -> float:
    """tantivy's BM25 idf (src/query/bm25.rs), Lucene's non-negative form of Robertson-Sparck Jones."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def bm25(tf: int, length: int, avgdl: float, df: int, n: int) -> float:
    """One term's BM25 in one document (Robertson & Zaragoza 2009, eq. 3.15, tantivy's constants)."""
    return idf(df, n) * (K1 + 1) * tf / (tf + K1 * (1 - B + B * quantized_length(length) / avgdl))
