"""Parity of the embedded (SQLite + tantivy) and PostgreSQL stores on a SQuAD-format file.

Ingests every context into both stores, asks every question of each, and
counts the questions whose answer and top-10 citations (doc_id, start, end)
are the same. Also prints each store's question latency (p50/p99, ms).

    .venv/bin/python benchmarks/pg_parity.py ../shared/eval/vinewsqa_dev.json
    .venv/bin/python benchmarks/pg_parity.py FILE --store postgresql://user@host/db

Without ``--store`` it starts a throwaway PostgreSQL on 127.0.0.1 (tests/pgserver.py).
The issue's bar: >= 95% of questions identical.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import load_squad  # noqa: E402
from hoidap.models import Answer  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

CITATIONS = 10


def _key(a: Answer) -> tuple[object, ...]:
    return a.answer, tuple((c.doc_id, c.start, c.end) for c in a.citations[:CITATIONS])


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


def run(path: Path, url: str, limit: int | None) -> dict[str, object]:
    docs, questions = load_squad(path)
    if limit:
        questions = questions[:limit]
    with tempfile.TemporaryDirectory(prefix="hoidap-parity-") as tmp:
        base = Settings(index_dir=Path(tmp), max_citations=CITATIONS)
        with Engine(settings=base.with_(store=None)) as emb, Engine(settings=base.with_(store=url)) as pge:
            ingest_s = {}
            for name, eng in (("embedded", emb), ("postgresql", pge)):
                t = time.perf_counter()
                eng.ingest_documents(docs)
                ingest_s[name] = round(time.perf_counter() - t, 1)
            same = 0
            lat: dict[str, list[float]] = {"embedded": [], "postgresql": []}
            differ: list[dict[str, object]] = []
            for q in questions:
                answers = []
                for name, eng in (("embedded", emb), ("postgresql", pge)):
                    t = time.perf_counter()
                    answers.append(eng.ask(q["question"]))
                    lat[name].append(time.perf_counter() - t)
                if _key(answers[0]) == _key(answers[1]):
                    same += 1
                elif len(differ) < 5:
                    differ.append({"question": q["question"], "embedded": answers[0].answer,
                                   "postgresql": answers[1].answer})
            counts = pge.store.counts()
    n = len(questions)
    return {
        "file": path.name, "documents": counts[0], "sentences": counts[1], "questions": n,
        "identical": same, "identical_share": round(same / max(n, 1), 4), "ingest_seconds": ingest_s,
        "latency_ms": {k: {"p50": _pct(v, 0.5), "p99": _pct(v, 0.99), "mean": round(statistics.mean(v) * 1000, 1)}
                       for k, v in lat.items()},
        "examples_of_differences": differ,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path)
    p.add_argument("--store", help="postgresql://... (default: a throwaway local server)")
    p.add_argument("--limit", type=int)
    args = p.parse_args()
    if args.store:
        print(json.dumps(run(args.file, args.store, args.limit), ensure_ascii=False, indent=2))
        return
    from tests.pgserver import PgServer, skip_reason

    if skip_reason():
        sys.exit(f"pg_parity: {skip_reason()}")
    server = PgServer.init().start()
    try:
        url = server.create_database("parity")
        print(json.dumps(run(args.file, url, args.limit), ensure_ascii=False, indent=2))
    finally:
        server.remove()


if __name__ == "__main__":
    main()
