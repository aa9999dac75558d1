"""Scale run: N VietNews articles (varied copies) through Spark into PostgreSQL, then question latency.

    .venv/bin/python benchmarks/pg_scale.py --articles 20000            # throwaway local server
    .venv/bin/python benchmarks/pg_scale.py --articles 500000 --store postgresql://... --master spark://...

Copy k > 0 of an article gets a first line "Bản cập nhật số k." so every copy
is a distinct document with the same statements (as re-published wire stories
are). Questions are article titles (as benchmarks/load_test.py), asked one at a
time through ``Engine.ask``; prints ingest rate, table sizes and latency
p50/p99 as JSON.
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


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 1)


def run(url: str, n: int, master: str, partitions: int | None, n_questions: int, work: Path,
        ingest: bool = True, shares: tuple[float | None, ...] = (None,)) -> dict[str, object]:
    from hoidap.spark_ingest import run as spark_run

    data = work / "input.jsonl"
    titles = write_input(data, n)
    out: dict[str, object] = {"articles": n}
    if ingest:
        report = spark_run([data], url, master=master, partitions=partitions)
        out.update(ingested=report.ingested, failed=report.failed, ingest_seconds=report.seconds,
                   articles_per_second=round(report.read / report.seconds, 1))
        print(json.dumps(out), file=sys.stderr, flush=True)
    with Engine(settings=Settings(index_dir=work / "x", store=url)) as eng:
        sizes = eng.store.read(  # type: ignore[attr-defined]
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = 'hoidap' AND c.relkind = 'r'")
        out["table_mb"] = {name: round(size / 2**20, 1) for name, size in sizes}
        out["documents"], out["sentences"] = eng.store.counts()
        qs = random.Random(0).sample(titles, min(n_questions, len(titles)))
        out["questions"] = len(qs)
    for share in shares:
        with Engine(settings=Settings(index_dir=work / "x", store=url, max_term_share=share)) as eng:
            for q in qs[:10]:  # warm the caches
                eng.ask(q)
            lat = []
            for q in qs:
                t = time.perf_counter()
                eng.ask(q)
                lat.append(time.perf_counter() - t)
        out[f"latency_ms_prune_{share}"] = {"p50": _pct(lat, 0.5), "p90": _pct(lat, 0.9), "p99": _pct(lat, 0.99)}
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
                   help="also measure with frequent-term pruning at this share (Settings.max_term_share)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoidap-scale-") as tmp:
        if args.store:
            result = run(args.store, args.articles, args.master, args.partitions, args.questions, Path(tmp),
                         ingest=not args.skip_ingest, shares=(None, *(args.prune or ())))
        else:
            from tests.pgserver import PgServer

            server = PgServer.init().start()
            try:
                url = server.create_database("scale")
                result = run(url, args.articles, args.master, args.partitions, args.questions, Path(tmp),
                             shares=(None, *(args.prune or ())))
            finally:
                server.remove()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
