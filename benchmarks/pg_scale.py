"""Scale run: N VietNews articles (varied copies) through Spark into PostgreSQL, then question latency.

    .venv/bin/python benchmarks/pg_scale.py --articles 20000            # throwaway local server
    .venv/bin/python benchmarks/pg_scale.py --articles 500000 --store postgresql://... --master spark://...
    # bench.py's 500,000 articles and questions, with its embedded index measured beside:
    .venv/bin/python benchmarks/pg_scale.py --input benchmarks/out/data/vietnews-500000/part-*.jsonl \
        --questions-file benchmarks/out/bench-dup/questions.json --embedded INDEX_DIR --keep

Copy k > 0 of an article gets a first line "Bản cập nhật số k." so every copy
is a distinct document with the same statements (as re-published wire stories
are); ``--input`` takes existing JSONL files instead (bench.py's collections).
Questions are article titles (as benchmarks/load_test.py) or ``--questions-file``
(a JSON list), asked one at a time through ``Engine.ask``, each its fastest of
PASSES sweeps (as bench.py); ``--embedded DIR`` times the same questions on an
embedded index of the same articles. Prints ingest rate, table sizes and latency
p50/p99 as JSON. The throwaway server gets SCALE_SETTINGS.
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hoidap.engine import Engine  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

VIETNEWS = ROOT.parent / "shared" / "eval" / "vietnews_test.jsonl.xz"


def write_input(path: Path, n: int) -> list[str]:
    """N articles as JSONL (varied copies of VietNews); returns the titles."""
    base = []
    with lzma.open(VIETNEWS, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            base.append((r["id"], r["title"].replace("_", " "), (r["abstract"] + "\n" + r["body"]).replace("_", " ")))
            if len(base) >= n:
                break
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            copy, (aid, title, text) = divmod(i, len(base))[0], base[i % len(base)]
            body = f"Bản cập nhật số {copy}.\n{text}" if copy else text
            out.write(json.dumps({"text": body, "title": title, "source": f"vietnews:{aid}:{copy}"},
                                 ensure_ascii=False) + "\n")
    return [t for _, t, _ in base if t.strip()]


# The throwaway server for a scale run: memory for the lexicon's and the postings'
# indexes (the tests' 128 MB thrash at 500,000 articles), fewer checkpoints during the load.
SCALE_SETTINGS = {"shared_buffers": "4GB", "maintenance_work_mem": "1GB", "work_mem": "256MB",
                  "max_wal_size": "4GB", "checkpoint_timeout": "30min"}
PASSES = 3


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


def _latency(settings: Settings, qs: list[str]) -> dict[str, float]:
    """p50/p90/p99 of ``Engine.ask`` over ``qs``, each question's fastest of PASSES sweeps."""
    with Engine(settings=settings) as eng:
        for q in qs[:10]:  # warm the caches
            eng.ask(q)
        best = [float("inf")] * len(qs)
        for _ in range(PASSES):
            for i, q in enumerate(qs):
                t = time.perf_counter()
                eng.ask(q)
                best[i] = min(best[i], time.perf_counter() - t)
    return {"p50": _pct(best, 0.5), "p90": _pct(best, 0.9), "p99": _pct(best, 0.99)}


def run(url: str, n: int, master: str, partitions: int | None, n_questions: int, work: Path,
        ingest: bool = True, shares: tuple[float | None, ...] = (None,), inputs: list[Path] | None = None,
        questions: list[str] | None = None, embedded: Path | None = None) -> dict[str, object]:
    from hoidap.ingest.spark import run as spark_run

    if inputs:
        data, titles = inputs, []
    else:
        data = [work / "input.jsonl"]
        titles = write_input(data[0], n)
    out: dict[str, object] = {"articles": n}
    if ingest:
        report = spark_run(data, url, master=master, partitions=partitions)
        out.update(ingested=report.ingested, failed=report.failed, ingest_seconds=report.seconds,
                   articles_per_second=round(report.read / report.seconds, 1))
        print(json.dumps(out), file=sys.stderr, flush=True)
    with Engine(settings=Settings(index_dir=work / "x", store=url)) as eng:
        sizes = eng.store.read(  # type: ignore[attr-defined]
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'hoidap' AND c.relkind = 'r'")
        out["table_mb"] = {name: round(size / 2**20, 1) for name, size in sizes}
        out["documents"], out["sentences"] = eng.store.counts()
    qs = questions or random.Random(0).sample(titles, min(n_questions, len(titles)))
    out["questions"] = len(qs)
    for share in shares:
        out[f"latency_ms_prune_{share}"] = _latency(Settings(index_dir=work / "x", store=url, max_term_share=share), qs)
        if embedded:
            out[f"embedded_latency_ms_prune_{share}"] = _latency(Settings(index_dir=embedded, max_term_share=share), qs)
        print(json.dumps(out), file=sys.stderr, flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=20000)
    p.add_argument("--store", help="postgresql://... (default: a throwaway local server)")
    p.add_argument("--master", default="local[2,4]")
    p.add_argument("--partitions", type=int)
    p.add_argument("--questions", type=int, default=300)
    p.add_argument("--skip-ingest", action="store_true", help="only measure questions (--store already loaded)")
    p.add_argument("--prune", type=float, action="append",
                   help="measure with frequent-term pruning at this share (default: Settings' default)")
    p.add_argument("--input", type=Path, nargs="+", help="JSONL files to ingest (default: generated)")
    p.add_argument("--questions-file", type=Path, help="a JSON list of questions (default: titles)")
    p.add_argument("--embedded", type=Path, help="an embedded index of the same articles, timed beside")
    p.add_argument("--keep", action="store_true", help="leave the throwaway server running (prints its URL)")
    args = p.parse_args()
    shares = tuple(args.prune) if args.prune else (Settings().max_term_share,)
    questions = json.loads(args.questions_file.read_text(encoding="utf-8")) if args.questions_file else None
    extra = dict(inputs=args.input, questions=questions, embedded=args.embedded)
    with tempfile.TemporaryDirectory(prefix="hoidap-scale-") as tmp:
        if args.store:
            result = run(args.store, args.articles, args.master, args.partitions, args.questions, Path(tmp),
                         ingest=not args.skip_ingest, shares=shares, **extra)
        else:
            from tests.pgserver import PgServer

            server = PgServer.init(SCALE_SETTINGS).start()
            try:
                url = server.create_database("scale")
                print(json.dumps({"store": url, "data": str(server.data)}), file=sys.stderr, flush=True)
                result = run(url, args.articles, args.master, args.partitions, args.questions, Path(tmp),
                             shares=shares, **extra)
            finally:
                if not args.keep:
                    server.remove()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
