"""Cost against one document's length: ``ask``, ``brief`` and ``facts`` over a single article
of 100,000, 1,000,000 (and more) characters (issue 22: at most linear).

Usage::

    .venv/bin/python benchmarks/long_document.py [--sizes 100000 1000000] [--what ask brief facts]

The document is VietNews test articles (``../shared/eval/vietnews_test.jsonl.xz``) laid end
to end, paragraphs kept, up to each size; it is ingested alone into a fresh index (the
default ``Settings``: the file limit is raised to fit), then each operation is timed (ask:
the median of 5 questions about its first articles; brief and facts: the fastest of
``--repeat`` runs, as ``bench.py`` times its questions: one run of the 4M brief varied by
~10%; the per-sentence memos are emptied before each run, see ``cold``). Prints seconds and
the ratio of each size's time to the smallest size's, next to the ratio of the lengths.
"""

from __future__ import annotations

import argparse
import json
import lzma
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.engine import Engine  # noqa: E402
from hoidap.models import RawDocument  # noqa: E402
from hoidap.settings import Settings  # noqa: E402
from hoidap.text import normalize, segment  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "vietnews_test.jsonl.xz"
QUESTIONS = 5


def long_text(chars: int) -> tuple[str, list[str]]:
    """About ``chars`` characters of news and questions made from the first articles' titles."""
    parts: list[str] = []
    titles: list[str] = []
    size = 0
    with lzma.open(DATA, "rt", encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            title, body = a["title"].replace("_", " "), a["body"].replace("_", " ")
            parts.append(f"{title}\n\n{body}")
            if len(titles) < QUESTIONS:
                titles.append(f"{title}?")
            size += len(parts[-1]) + 2
            if size >= chars:
                break
    return "\n\n".join(parts)[:chars], titles


def cold() -> None:
    """Empty the per-sentence memos (a sentence's underthesea segmentation, its tokens). A
    repeated run of a 100,000-character document finds all of its sentences there and one of
    4,000,000 none: with them, facts grew x56 for x40 the length; without, each run costs what
    a new document does."""
    segment._word_ends.cache_clear()
    normalize.tokens_of.cache_clear()


def timed(fn: object) -> float:
    cold()
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000])
    ap.add_argument("--what", nargs="+", default=["ask", "brief", "facts"])
    ap.add_argument("--repeat", type=int, default=3, help="brief and facts: the fastest of this many runs")
    args = ap.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    results: dict[int, dict[str, float]] = {}
    for n in args.sizes:
        text, questions = long_text(n)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(index_dir=Path(tmp), store=None, max_file_bytes=4 * n + 1024)
            with Engine(settings=settings) as eng:
                row = {"ingest": timed(lambda t=text: eng.ingest_documents([RawDocument("long.txt", t)]))}
                doc = eng.documents()[0].doc_id
                if "ask" in args.what:
                    eng.ask(questions[0])  # warm-up: the reader's model, caches
                    row["ask"] = statistics.median(timed(lambda q=q: eng.ask(q)) for q in questions)
                if "brief" in args.what:
                    row["brief"] = min(timed(lambda d=doc: eng.brief(docs=[d], with_facts=False))
                                       for _ in range(args.repeat))
                if "facts" in args.what:
                    row["facts"] = min(timed(lambda d=doc: eng.facts(docs=[d])) for _ in range(args.repeat))
        results[n] = row
        print(f"{n:>10,} chars: " + "  ".join(f"{k} {v:.3f} s" for k, v in row.items()), flush=True)
    first = args.sizes[0]
    for n in args.sizes[1:]:
        ratios = "  ".join(f"{k} x{results[n][k] / max(results[first][k], 1e-9):.1f}" for k in results[n])
        print(f"{n:>10,} / {first:,} = length x{n / first:.0f}: {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
