"""Delete and update at scale, and filtered answering (issue 21).

Usage::

    .venv/bin/python benchmarks/delete_update.py [--articles 2000] [--questions 200] [--backends embedded postgres]

Ingests ``--articles`` articles: the 500 ViNewsQA dev contexts (whose questions are asked)
and VietNews test articles for the rest. Neither set has outlets or dates, so each article
gets one of five outlets and a date in 2021 by its position (deterministic). Then, in each
backend (``postgres``: a throwaway server on 127.0.0.1, tests/pgserver.py):

1. deletes 5% of the articles and replaces another 5% (``--removed``: how many in all;
   re-ingested from the same source with a changed text), chosen among the ViNewsQA
   contexts first, and times both;
2. times compaction: the embedded keyword index rebuilt from the store (tantivy drops
   deleted rows only when it merges segments), ``PgStore.compact`` for PostgreSQL;
3. asks ``--questions`` questions, those about removed or replaced articles first, and
   counts citations (``also`` included) of a removed version (must be 0);
4. times ``ask`` unfiltered, filtered by outlet and filtered by date on the same
   questions, interleaved, and prints the p50 ratios (filtered / unfiltered).

With both backends it also compares the filtered answers of SQLite and PostgreSQL.
The issue's 22,644-article run is not what this does by default (``--articles 22644``).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from scale import articles as vietnews_articles  # noqa: E402

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import load_squad  # noqa: E402
from hoidap.models import Answer, Filters, RawDocument  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

VINEWSQA = REPO.parent / "shared" / "eval" / "vinewsqa_dev.json"
OUT = REPO / "benchmarks" / "out" / "delete_update"
OUTLETS = ["VnExpress", "Dân trí", "Tuổi Trẻ", "Thanh Niên", "VOV"]
REMOVED_SHARE = 0.05  # deleted; as many again replaced
WARM_UP = 20


def dated(i: int) -> tuple[str, str]:
    """The outlet and date the benchmark gives article ``i``."""
    return OUTLETS[i % len(OUTLETS)], (date(2021, 1, 1) + timedelta(days=(i * 7) % 365)).isoformat()


def collection(n: int) -> tuple[list[RawDocument], list[dict[str, Any]]]:
    docs, questions = load_squad(VINEWSQA)
    docs = docs[:n]
    extra = vietnews_articles()[: max(0, n - len(docs))]
    docs += [RawDocument(f"vietnews:{a['id']}", a["text"], title=a["title"]) for a in extra]
    out = []
    for i, d in enumerate(docs):
        outlet, day = dated(i)
        out.append(RawDocument(d.source, d.text, title=d.title, date=day, outlet=outlet))
    return out, questions


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def cited(ans: Answer) -> set[str]:
    return {c.doc_id for c in ans.citations} | {r.doc_id for c in ans.citations for r in c.also}


def run(backend: str, settings: Settings, n: int, n_questions: int, removed: int | None = None) -> dict[str, Any]:
    docs, questions = collection(n)
    rng = random.Random(21)
    res: dict[str, Any] = {"backend": backend, "articles": len(docs)}
    with Engine(settings=settings) as eng:
        t = time.perf_counter()
        report = eng.ingest_documents(docs)
        res["ingest_s"] = round(time.perf_counter() - t, 2)
        res["ingested"] = len(report.ingested)
        id_of = {info.source: info.doc_id for info in eng.documents()}
        qa_sources = sorted({q["source"] for q in questions} & set(id_of))
        others = sorted(set(id_of) - set(qa_sources))
        n_removed = removed if removed is not None else round(2 * REMOVED_SHARE * len(docs))
        # The articles questions are asked about first, then others: half deleted, half replaced.
        chosen = (rng.sample(qa_sources, min(n_removed, len(qa_sources)))
                  + rng.sample(others, max(0, n_removed - len(qa_sources))))
        deleted, replaced = chosen[0::2], chosen[1::2]
        t = time.perf_counter()
        done = eng.delete([id_of[s] for s in deleted])
        res["delete_s"] = round(time.perf_counter() - t, 3)
        res["deleted"] = len(done.deleted)
        by_source = {d.source: d for d in docs}
        changed = [RawDocument(s, by_source[s].text + "\n\nBài viết được cập nhật lúc 10:00.",
                               title=by_source[s].title, date=by_source[s].date, outlet=by_source[s].outlet)
                   for s in replaced]
        t = time.perf_counter()
        up = eng.ingest_documents(changed)
        res["replace_s"] = round(time.perf_counter() - t, 3)
        res["replaced"] = len(up.replaced)
        removed = {id_of[s] for s in chosen}
        res["size_before_compaction_mb"] = size_mb(eng, settings)
    t = time.perf_counter()
    compact(backend, settings)
    res["compaction_s"] = round(time.perf_counter() - t, 2)
    with Engine(settings=settings) as eng:
        res["size_after_compaction_mb"] = size_mb(eng, settings)
        about = [q for q in questions if q["source"] in set(chosen)]
        rest = [q for q in questions if q["source"] in id_of and q["source"] not in set(chosen)]
        asked = (about + rest)[:n_questions]
        # Timed on questions whose article is still there (in its new version, if replaced).
        kept = [q["question"] for q in rest + about if q["source"] not in set(deleted)][:n_questions]
        bad = sum(bool(cited(eng.ask(q["question"])) & removed) for q in asked)
        res["questions"] = len(asked)
        res["questions_about_removed_or_replaced"] = min(len(about), n_questions)
        res["answers_citing_a_removed_version"] = bad
        res.update(filtered_latency(eng, kept))
        res["filtered_answers"] = filtered_answers(eng, kept)
    return res


def size_mb(eng: Engine, settings: Settings) -> float | None:
    if settings.store:
        return None
    root = Path(settings.index_dir)
    return round(sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 2**20, 1)


def compact(backend: str, settings: Settings) -> None:
    if backend == "embedded":
        shutil.rmtree(Path(settings.index_dir) / "keyword")  # rebuilt from the store on open
        Engine(settings=settings).close()
    else:
        with Engine(settings=settings) as eng:
            eng.store.compact()  # type: ignore[attr-defined]


FILTERS = {"outlet": Filters(outlets=("Dân trí",)), "date": Filters(since="2021-07-01")}


def filtered_latency(eng: Engine, qs: list[str]) -> dict[str, float]:
    for q in qs[:WARM_UP]:
        eng.ask(q)
        for f in FILTERS.values():
            eng.ask(q, f)
    times: dict[str, list[float]] = {"none": [], **{name: [] for name in FILTERS}}
    for q in qs:  # interleaved, so that load from other jobs falls on every kind alike
        for name, f in [("none", None), *FILTERS.items()]:
            t = time.perf_counter()
            eng.ask(q, f)
            times[name].append(time.perf_counter() - t)
    out = {f"ask_p50_ms_{name}": round(p50(v), 2) for name, v in times.items()}
    for name in FILTERS:
        out[f"ask_p50_ratio_{name}"] = round(p50(times[name]) / p50(times["none"]), 3)
    return out


def filtered_answers(eng: Engine, qs: list[str]) -> list[Any]:
    return [[(a.answer, round(a.confidence, 4), [c.doc_id for c in a.citations])
             for a in (eng.ask(q, f) for f in FILTERS.values())] for q in qs]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--articles", type=int, default=2000)
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--removed", type=int, help="articles deleted or replaced, half each (default 10%%)")
    p.add_argument("--backends", nargs="+", default=["embedded"], choices=["embedded", "postgres"])
    args = p.parse_args()
    results = []
    server = None
    try:
        for backend in args.backends:
            root = OUT / backend
            shutil.rmtree(root, ignore_errors=True)
            settings = Settings(index_dir=root, store=None)
            if backend == "postgres":
                from tests.pgserver import PgServer, skip_reason

                if skip_reason():
                    sys.exit(f"delete_update: {skip_reason()}")
                server = PgServer.init().start()
                settings = settings.with_(store=server.create_database("delete_update"))
            results.append(run(backend, settings, args.articles, args.questions, args.removed))
            shown = {k: v for k, v in results[-1].items() if k != "filtered_answers"}
            print(json.dumps(shown, ensure_ascii=False), flush=True)  # each backend as soon as it is done
    finally:
        if server is not None:
            server.remove()
    answers = [r.pop("filtered_answers") for r in results]
    if len(answers) == 2:
        same = sum(a == b for a, b in zip(answers[0], answers[1], strict=True))
        print(json.dumps({"filtered_questions_same_in_both_backends": f"{same}/{len(answers[0])}"}))


if __name__ == "__main__":
    main()
