"""Train the briefing's sentence-relevance model (``src/hoidap/data/brief_model.json``).

Usage::

    .venv/bin/python scripts/train_brief.py                 # writes src/hoidap/data/brief_model.json
    .venv/bin/python scripts/train_brief.py --clusters 500 --out /tmp/m.json

Data: VietNews (VNDS) test, ``../shared/eval/vietnews_test.jsonl.xz`` -- single-document
news with a human abstract (``_`` joins words: replaced by a space; each body line is a
sentence); *not* the multi-document sets the briefing is evaluated on (ViMs, AbMuSu),
which this script never reads. About 2 minutes on one core.

1. Pseudo-clusters of one event: TF-IDF (syllable uni- and bigrams) over all the
   articles; from the articles with the closest neighbours down, an article and its
   unassigned neighbours at cosine >= ``MIN_NEIGHBOUR_COSINE`` (at most 5; clusters of
   fewer than 3 are dropped). ``--clusters`` of them (seeded shuffle), 80% train, 20% dev.
2. Every candidate sentence (``brief._candidates``) gets ``brief.features`` -- the
   multi-document ones (centroid, cross-document support, titles) over its cluster --
   and one label per variant of ``LABELS`` (against its article's abstract or the
   cluster's concatenated abstracts).
3. Ridge regression on standardised features, the label divided by its standard
   deviation (scores are in label-sd units, the scale of ``brief.W_QUERY``).
4. The label variant and the MMR redundancy penalty are the pair whose briefings of
   the dev clusters (``brief._select``, cut to the length of the concatenated
   abstracts) have the best ROUGE-2 F1 against those abstracts -- VietNews only.

Deterministic: fixed seed, no parallelism.
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge
from sklearn.neighbors import NearestNeighbors

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from rouge_brief import rouge_n, rouge_tokens  # noqa: E402

from hoidap import brief  # noqa: E402
from hoidap.models import Article, Sentence  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "vietnews_test.jsonl.xz"
OUT = REPO / "src" / "hoidap" / "data" / "brief_model.json"
SEED = 13
ALPHA = 1.0
REDUNDANCY_GRID = (0.0, 0.5, 1.0, 2.0, 4.0)
NEIGHBOURS = 8
MIN_NEIGHBOUR_COSINE = 0.2
VERSION = 1
LABELS = {
    "own_f1": "ROUGE-2 F1 (syllables) of the sentence against its own article's abstract",
    "cluster_precision": "share of the sentence's syllable bigrams found in the cluster's abstracts",
    "cluster_recall": "share of the cluster's abstract bigrams found in the sentence",
    "cluster_f1": "ROUGE-2 F1 of the sentence against the cluster's concatenated abstracts",
}


def load(path: Path) -> list[tuple[Article, str]]:
    """Every usable (article, abstract) pair, in id order."""
    with lzma.open(path, "rt", encoding="utf-8") as f:
        rows = sorted((json.loads(line) for line in f), key=lambda r: r["id"])
    out = []
    for r in rows:
        lines = [ln.replace("_", " ").strip() for ln in r["body"].split("\n")]
        lines = [ln for ln in lines if ln]
        if len(lines) < 3 or not r.get("abstract"):
            continue
        text, sents, pos = "", [], 0
        for i, ln in enumerate(lines):
            sents.append(Sentence(r["id"], i, pos, pos + len(ln), ln))
            text += ln + "\n"
            pos = len(text)
        title = (r.get("title") or "").replace("_", " ").strip() or None
        art = Article(r["id"], "vietnews/" + r["id"], title, None, None, text, text, sentences=tuple(sents))
        out.append((art, r["abstract"].replace("_", " ")))
    return out


def pseudo_clusters(items: Sequence[tuple[Article, str]], max_clusters: int, seed: int) -> list[list[int]]:
    """Groups of 3-6 articles on one event: an article with its unassigned neighbours whose
    TF-IDF cosine (syllable uni- and bigrams) is at least ``MIN_NEIGHBOUR_COSINE``."""
    docs = [" ".join(rouge_tokens((a.title or "") + " " + a.clean_text)) for a, _ in items]
    x = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, min_df=2, max_df=0.5,
                        ngram_range=(1, 2)).fit_transform(docs)
    dist, nn = NearestNeighbors(n_neighbors=NEIGHBOURS, metric="cosine").fit(x).kneighbors(x)
    sim = 1 - dist
    # Seeds with the most close neighbours first (ties by id order): the tightest events.
    order = sorted(range(len(items)), key=lambda i: (-float(sim[i, 2]), i))
    free = set(range(len(items)))
    out = []
    for i in order:
        if sim[i, 2] < MIN_NEIGHBOUR_COSINE:
            break
        if i not in free:
            continue
        group = [i] + [int(j) for j, v in zip(nn[i], sim[i], strict=True)
                       if j != i and j in free and v >= MIN_NEIGHBOUR_COSINE][:5]
        if len(group) < 3:
            continue
        free -= set(group)
        out.append(group)
    random.Random(seed).shuffle(out)
    return out[:max_clusters]


def _prf(sent: list[str], ref: list[str]) -> tuple[float, float, float]:
    s = Counter(zip(sent, sent[1:], strict=False))
    r = Counter(zip(ref, ref[1:], strict=False))
    hit = sum((s & r).values())
    p = hit / max(1, sum(s.values()))
    rec = hit / max(1, sum(r.values()))
    return p, rec, (2 * p * rec / (p + rec) if hit else 0.0)


def cluster_rows(items: Sequence[tuple[Article, str]], group: Sequence[int]) -> dict[str, Any]:
    """Candidates, features and every label variant of one pseudo-cluster."""
    arts = [items[k][0] for k in group]
    own = {items[k][0].doc_id: rouge_tokens(items[k][1]) for k in group}
    ref = [t for k in group for t in rouge_tokens(items[k][1])]
    cands = brief._candidates(arts)
    feats = brief.features(cands, arts) if cands else []
    labels: dict[str, list[float]] = {k: [] for k in LABELS}
    for c in cands:
        toks = rouge_tokens(c.text)
        labels["own_f1"].append(_prf(toks, own[c.article.doc_id])[2])
        p, r, f = _prf(toks, ref)
        labels["cluster_precision"].append(p)
        labels["cluster_recall"].append(r)
        labels["cluster_f1"].append(f)
    return {"cands": cands, "feats": feats, "labels": labels, "ref": ref}


def fit(rows: Sequence[dict[str, Any]], label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    x = np.array([f for r in rows for f in r["feats"]], dtype=float)
    y = np.array([v for r in rows for v in r["labels"][label]], dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    ysd = float(y.std()) or 1.0
    model = Ridge(alpha=ALPHA).fit((x - mean) / scale, y / ysd)
    return mean, scale, model.coef_, float(model.intercept_), ysd


def dev_rouge2(rows: Sequence[dict[str, Any]], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
               intercept: float, redundancy: float) -> float:
    """Mean ROUGE-2 F1 of the briefings of ``rows`` against their concatenated abstracts."""
    out = []
    for r in rows:
        cands, ref = r["cands"], r["ref"]
        if not cands:
            continue
        scores = list(intercept + ((np.array(r["feats"]) - mean) / scale) @ coef)
        chosen = brief._select(cands, scores, None, len(ref), redundancy)
        chosen.sort(key=lambda i: (cands[i].doc, cands[i].index))
        toks = [t for i in chosen for t in rouge_tokens(cands[i].text)][: len(ref)]
        out.append(rouge_n(toks, ref, 2))
    return statistics.mean(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--clusters", type=int, default=1500, help="pseudo-clusters used at most (default 1500)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    items = load(args.data)
    groups = pseudo_clusters(items, args.clusters, SEED)
    split = int(0.8 * len(groups))
    rows = [cluster_rows(items, g) for g in groups]
    train, dev = rows[:split], rows[split:]
    grid: dict[str, dict[str, float]] = {}
    best: tuple[float, str, float] = (-1.0, "", 0.0)
    for label in LABELS:
        mean, scale, coef, intercept, _ = fit(train, label)
        grid[label] = {}
        for red in REDUNDANCY_GRID:
            v = round(dev_rouge2(dev, mean, scale, coef, intercept, red), 4)
            grid[label][str(red)] = v
            if v > best[0]:
                best = (v, label, red)
        print(label, grid[label], file=sys.stderr)
    _, label, redundancy = best
    mean, scale, coef, intercept, ysd = fit(train, label)
    n_train = sum(len(r["cands"]) for r in train)
    n_dev = sum(len(r["cands"]) for r in dev)
    result = {
        "version": VERSION,
        "kind": "ridge regression on standardised features: score = intercept + sum(coef * (x - mean) / scale)",
        "features": list(brief.FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in coef],
        "intercept": round(intercept, 6),
        "redundancy": redundancy,
        "label": f"{label}: {LABELS[label]}, divided by its sd on the training sentences ({ysd:.4f})",
        "data": f"VietNews test (../shared/eval/vietnews_test.jsonl.xz, {len(items)} articles): "
                f"{len(groups)} TF-IDF pseudo-clusters of 3-6 articles (neighbour cosine >= "
                f"{MIN_NEIGHBOUR_COSINE}); {split} clusters ({n_train} sentences) train, "
                f"{len(groups) - split} ({n_dev}) dev. No ViMs or AbMuSu data was read.",
        "selection": "label and redundancy: best dev ROUGE-2 F1 of the briefings against the "
                     "concatenated abstracts of each dev cluster",
        "dev_rouge2": grid,
        "command": "python scripts/train_brief.py" + (f" --clusters {args.clusters}"
                                                     if args.clusters != 1500 else ""),
        "alpha": ALPHA,
        "seed": SEED,
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("coef", "intercept", "redundancy", "label", "data")},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
