"""Latency of ``facts`` and ``brief`` over many articles, and the cost of ``--conflicts``.

Usage::

    .venv/bin/python benchmarks/brief_latency.py                 # 50, 100, 200, 400 articles
    .venv/bin/python benchmarks/brief_latency.py --sizes 200 --runs 3

The articles are the first ones of ViMs (``../shared/eval/vims_300clusters.jsonl``),
cluster after cluster, ingested into one fresh index per size (a mixed collection, as a
newsroom's is). For each size: the median wall time of ``Engine.facts()`` and of
``Engine.brief()`` (8 sentences, with its facts), and for the comparison alone the
claims compared, the candidate pairs the blocking index gave and the comparable pairs,
with the pairs per claim: linear cost means pairs per claim stays flat as the
collection grows (all pairs would grow with it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hoidap.briefing.claims import candidate_pairs, claims_of, compared_pairs
from hoidap.briefing.facts import extract_dates, extract_figures
from hoidap.engine import Engine
from hoidap.models import RawDocument


def _articles(path: Path, n: int) -> list[RawDocument]:
    out: list[RawDocument] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for k, d in enumerate(r["docs"]):
                out.append(RawDocument(f"vims/{r['cluster_id']}/{k}", d["text"], title=(d.get("title") or "").strip() or None))
                if len(out) == n:
                    return out
    return out


def _median(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "eval")
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    src = args.eval_dir / "vims_300clusters.jsonl"
    if not src.exists():
        sys.exit(f"no evaluation data at {args.eval_dir} (../shared/eval): nothing to measure")
    print(f"{'articles':>8} {'facts s':>8} {'brief s':>8} {'claims':>7} {'candidates':>10} {'comparable':>10} "
          f"{'cand/claim':>10}")
    for n in args.sizes:
        docs = _articles(src, n)
        with tempfile.TemporaryDirectory() as tmp, Engine(tmp) as eng:
            eng.ingest_documents(docs)
            facts_s = _median(eng.facts, args.runs)
            brief_s = _median(eng.brief, args.runs)
            arts = list(eng.articles())
        claims = claims_of(extract_figures(arts) + extract_dates(arts))
        cands = sum(1 for _ in candidate_pairs(claims))
        comp = len(compared_pairs(claims))
        print(f"{len(docs):>8} {facts_s:>8.2f} {brief_s:>8.2f} {len(claims):>7} {cands:>10} {comp:>10} "
              f"{cands / max(1, len(claims)):>10.2f}")


if __name__ == "__main__":
    main()
