"""Multi-process ``prepare``: clean, segment and normalise articles on several cores.

``prepare`` is a pure function of a ``RawDocument`` and costs ~1.5 ms per news
article, while writing the prepared article (SQLite + tantivy) costs a fraction
of that; so the writes stay in the calling process, where the one-writer rule of
SQLite and tantivy holds, and only ``prepare`` is farmed out.

Results come back in input order, so a duplicate is always the later copy and a
re-run gives the same document numbers. At most ``workers * PIPELINE_DEPTH``
blocks are in flight, so memory stays bounded on collections of any size.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from multiprocessing.pool import AsyncResult

from hoidap.errors import BadInputError
from hoidap.ingest.prepare import prepare
from hoidap.models import FileFailure, PreparedArticle, RawDocument

log = logging.getLogger(__name__)

Item = RawDocument | FileFailure
Outcome = PreparedArticle | FileFailure

# Articles sent to a worker at a time: large enough that pickling and queue
# round trips (~50 us each) are lost in ~1.5 ms of work per article, small enough
# that the first results arrive at once.
CHUNK = 32
# Blocks (of ``workers * CHUNK`` articles) in flight: one being consumed by the
# writer while the next ones are prepared keeps every core busy.
PIPELINE_DEPTH = 3


def prepare_one(item: Item) -> Outcome:
    """``prepare`` with every failure turned into a ``FileFailure`` (one bad page never stops the rest)."""
    if isinstance(item, FileFailure):
        return item
    try:
        return prepare(item)
    except BadInputError as e:
        return FileFailure(item.source, str(e))
    except Exception as e:
        log.exception("failed to prepare %s", item.source)
        return FileFailure(item.source, f"internal error: {type(e).__name__}: {e}")


def _context() -> mp.context.BaseContext:
    # fork starts workers in milliseconds with the modules already imported;
    # where it is unavailable (Windows, macOS default) spawn works the same, slower.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def prepare_many(items: Iterable[Item], workers: int = 1, chunk: int = CHUNK) -> Iterator[tuple[Item, Outcome]]:
    """``(item, prepare_one(item))`` for every item, in input order, on ``workers`` processes.

    ``workers <= 1`` prepares in this process (no start-up cost, the default).
    """
    if workers <= 1:
        for item in items:
            yield item, prepare_one(item)
        return
    it = iter(items)
    block_size = workers * chunk
    pending: deque[tuple[list[Item], AsyncResult[list[Outcome]]]] = deque()
    with _context().Pool(workers) as pool:
        while True:
            while len(pending) < PIPELINE_DEPTH:
                block = list(islice(it, block_size))
                if not block:
                    break
                pending.append((block, pool.map_async(prepare_one, block, chunksize=chunk)))
            if not pending:
                break
            block, result = pending.popleft()
            yield from zip(block, result.get(), strict=True)
