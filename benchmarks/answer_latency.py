"""Answer latency on a 500-article index (issue 3: median <= 50 ms BM25, <= 150 ms hybrid).

Usage::

    .venv/bin/python benchmarks/answer_latency.py [--retriever bm25 hybrid] [--reader rules trained] [--questions 500]
    .venv/bin/python benchmarks/answer_latency.py --reader trained --unmarked   # also typed without diacritics

The 500 ViNewsQA dev articles are ingested into ``benchmarks/out/latency-<retriever>``
(kept, so the dense vectors are computed once), then ``Engine.ask`` is timed on the first
``--questions`` questions after a warm-up of 20, once per reader (``Settings.reader``).
Prints p50/p90/p99 in milliseconds, the trained reader's load time, and the process's peak
memory (what one server reader process holds). ``--unmarked`` adds a row per reader for the
same questions stripped of their diacritics (given back their marks by ``text.remark``,
then ranked and read again), timed in the same run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import load_squad  # noqa: E402
from hoidap.settings import Settings  # noqa: E402
from hoidap.text.normalize import strip_diacritics  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "vinewsqa_dev.json"
OUT = REPO / "benchmarks" / "out"
WARM_UP = 20


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))]


def run(retriever: str, reader: str, n_questions: int, unmarked: bool = False) -> dict[str, float]:
    docs, questions = load_squad(DATA)
    root = OUT / f"latency-{retriever}"
    # Dense and hybrid are timed against real vectors: they are computed at ingest
    # (about 15 minutes for the 500 articles on 2 cores, once; resumable).
    embed = retriever != "bm25"
    settings = Settings().with_(index_dir=root, retriever=retriever, reader=reader)
    marker = root / "complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        with Engine(settings=settings.with_(retriever="bm25", embed=embed)) as engine:
            engine.ingest_documents(docs)
        marker.write_text("ok\n")
    with Engine(settings=settings) as engine:
        qs = [strip_diacritics(q["question"]) if unmarked else q["question"] for q in questions]
        for q in qs[:WARM_UP]:
            engine.ask(q)
        times = []
        for q in qs[:n_questions]:
            t = time.perf_counter()
            engine.ask(q)
            times.append((time.perf_counter() - t) * 1000)
    return {"p50": statistics.median(times), "p90": percentile(times, 90), "p99": percentile(times, 99),
            "n": len(times)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--retriever", nargs="+", default=["bm25"])
    ap.add_argument("--reader", nargs="+", default=["rules", "trained"])
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--unmarked", action="store_true", help="also time the questions stripped of diacritics")
    args = ap.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    if "trained" in args.reader:
        from hoidap.qa import reader

        t = time.perf_counter()
        loaded = reader.shipped() is not None
        print(f"trained reader: {'loaded' if loaded else 'NOT available'} in {time.perf_counter() - t:.2f} s")
    print(f"{'retriever':10s} {'reader':8s} {'typed':8s} {'n':>5s} {'p50 ms':>8s} {'p90 ms':>8s} {'p99 ms':>8s}")
    for r in args.retriever:
        for rd in args.reader:
            for unmarked in (False, True) if args.unmarked else (False,):
                res = run(r, rd, args.questions, unmarked)
                typed = "unmarked" if unmarked else "marked"
                print(f"{r:10s} {rd:8s} {typed:8s} {res['n']:5.0f} {res['p50']:8.1f} {res['p90']:8.1f} {res['p99']:8.1f}")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
