"""ROUGE of ``hoidap brief`` against baselines on the multi-document summarisation sets.

Usage::

    .venv/bin/python benchmarks/rouge_brief.py                 # both sets, all clusters
    .venv/bin/python benchmarks/rouge_brief.py --limit 20      # first 20 clusters of each
    .venv/bin/python benchmarks/rouge_brief.py --eval-dir /path/to/eval --workers 2 --json

Every cluster is ingested into a fresh index (``Engine`` on a temporary
directory, ``ingest_documents([RawDocument(...)])``: the same cleaning and
sentence splitting as any user collection) and summarised by:

* hoidap   -- ``Engine.brief(max_words=L)`` (``brief.build`` on the same articles), out-of-fold:
  the shipped sentence model (``src/hoidap/data/brief_model.json``) is trained on both sets
  scored here, so each cluster is briefed instead with a model retrained by
  ``scripts/train_brief.py``'s procedure (``cv_models``: labels, ridge, redundancy chosen by an
  inner cross-validation) on the clusters of the other 4 folds of both sets (fold = cluster
  index mod 5). ``--shipped`` scores the shipped model (in-sample: not a fair figure)
* lead     -- the first sentences of the first article, then of the next
* lead-rr  -- round-robin lead: the first sentence of each article in turn, then the second, ...
* textrank -- TextRank (Mihalcea & Tarau 2004): PageRank over word-overlap similarity
* lexrank  -- LexRank (Erkan & Radev 2004): PageRank over TF-IDF cosine > 0.1

TextRank and LexRank rank the same candidate sentences as hoidap (at least 6
syllables, not a question) and skip a sentence that restates one already
chosen, as hoidap does. Every summary is cut to the length of each reference
(ROUGE's ``-l``), scored against it, and the scores are averaged over the
references of a cluster, then over clusters.

ROUGE (Lin 2004) on syllables: NFC, lower case, punctuation removed (runs of
letters and digits are the tokens); ROUGE-N is the F1 of clipped n-gram
overlap, ROUGE-L the F1 of the longest common subsequence of the two token
sequences (summary level, no sentence split). The ViMs ceiling is the
published inter-annotator agreement (Tran et al., LRE 2020), not computed here.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Appended, not put first: a version named by PYTHONPATH (``conflicts.py``'s way of scoring
# another version) must win over this checkout's source; it did not while this was inserted.
sys.path.append(str(REPO / "src"))

from hoidap.briefing.brief import MIN_SENTENCE_SYLLABLES, MODEL  # noqa: E402
from hoidap.models import Article, RawDocument  # noqa: E402
from hoidap.search.evidence import NEAR_DUPLICATE_JACCARD, jaccard  # noqa: E402
from hoidap.text.normalize import strip_diacritics, terms  # noqa: E402

DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"
SETS = {"vims": "vims_300clusters.jsonl", "abmusu": "abmusu_train.jsonl"}
SYSTEMS = ("hoidap", "lead", "lead-rr", "textrank", "lexrank")
# Published inter-annotator agreement of ViMs (Tran et al., LRE 2020): ROUGE-1/2/L.
VIMS_CEILING = (0.729, 0.507, 0.524)
# Shared memory keeps the per-cluster SQLite/tantivy writes off the disk.
TMP_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
PAGERANK_DAMPING = 0.85
LEXRANK_THRESHOLD = 0.1

_TOKEN_RE = re.compile(r"[^\W_]+")


# -- ROUGE (Lin 2004), on syllables ------------------------------------------------
def rouge_tokens(text: str) -> list[str]:
    """Syllables: NFC, lower case, punctuation removed."""
    return _TOKEN_RE.findall(unicodedata.normalize("NFC", text).lower())


def _f1(overlap: int, n_sys: int, n_ref: int) -> float:
    if overlap == 0 or n_sys == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_sys, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_n(system: Sequence[str], reference: Sequence[str], n: int) -> float:
    """ROUGE-N F1: clipped n-gram overlap."""
    s = Counter(tuple(system[i : i + n]) for i in range(len(system) - n + 1))
    r = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    return _f1(sum((s & r).values()), sum(s.values()), sum(r.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison & Dix 1986; Hyyrö 2004)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        u = v & masks.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def rouge_l(system: Sequence[str], reference: Sequence[str]) -> float:
    """ROUGE-L F1 (the LCS of the two token sequences)."""
    return _f1(lcs_length(system, reference), len(system), len(reference))


def score(summary: str, references: Sequence[Sequence[str]]) -> tuple[float, float, float]:
    """Mean over references of (R1, R2, RL), the summary cut to each reference's length."""
    toks = rouge_tokens(summary)
    rows = [(rouge_n(toks[: len(r)], r, 1), rouge_n(toks[: len(r)], r, 2), rouge_l(toks[: len(r)], r))
            for r in references]
    r1, r2, rl = (statistics.mean(x) for x in zip(*rows, strict=True))
    return r1, r2, rl


# -- baselines -------------------------------------------------------------------
def lead(articles: Sequence[Article], budget: int) -> str:
    out: list[str] = []
    n = 0
    for a in articles:
        for s in a.sentences:
            if n >= budget:
                return " ".join(out)
            out.append(s.text)
            n += len(rouge_tokens(s.text))
    return " ".join(out)


def lead_round_robin(articles: Sequence[Article], budget: int) -> str:
    out, n = [], 0
    for i in range(max((len(a.sentences) for a in articles), default=0)):
        for a in articles:
            if i < len(a.sentences) and n < budget:
                out.append(a.sentences[i].text)
                n += len(rouge_tokens(a.sentences[i].text))
    return " ".join(out)


class _Sent:
    def __init__(self, doc: int, index: int, text: str) -> None:
        self.doc, self.index, self.text = doc, index, text
        self.terms = terms(text)
        self.plain = frozenset(strip_diacritics(t) for t in self.terms)


def _candidates(articles: Sequence[Article]) -> list[_Sent]:
    return [_Sent(d, s.index, s.text) for d, a in enumerate(articles) for s in a.sentences
            if len(terms(s.text)) >= MIN_SENTENCE_SYLLABLES and not s.text.rstrip().endswith("?")]


def pagerank(weights: list[list[float]], iterations: int = 50) -> list[float]:
    n = len(weights)
    out_sum = [sum(row) for row in weights]
    pr = [1.0 / n] * n
    for _ in range(iterations):
        pr = [(1 - PAGERANK_DAMPING) / n + PAGERANK_DAMPING * sum(
            pr[j] * weights[j][i] / out_sum[j] for j in range(n) if out_sum[j] > 0 and weights[j][i] > 0)
            for i in range(n)]
    return pr


def _pick(cands: Sequence[_Sent], ranks: Sequence[float], budget: int) -> str:
    chosen: list[_Sent] = []
    n = 0
    for i in sorted(range(len(cands)), key=lambda k: (-ranks[k], k)):
        if n >= budget:
            break
        c = cands[i]
        if any(jaccard(c.plain, o.plain) >= NEAR_DUPLICATE_JACCARD for o in chosen):
            continue
        chosen.append(c)
        n += len(rouge_tokens(c.text))
    chosen.sort(key=lambda c: (c.doc, c.index))
    return " ".join(c.text for c in chosen)


def textrank(articles: Sequence[Article], budget: int) -> str:
    cands = _candidates(articles)
    if not cands:
        return ""
    sets = [set(c.terms) for c in cands]
    w = [[0.0 if i == j or len(sets[i]) < 2 or len(sets[j]) < 2 else
          len(sets[i] & sets[j]) / (math.log(len(cands[i].terms)) + math.log(len(cands[j].terms)))
          for j in range(len(cands))] for i in range(len(cands))]
    return _pick(cands, pagerank(w), budget)


def lexrank(articles: Sequence[Article], budget: int) -> str:
    cands = _candidates(articles)
    if not cands:
        return ""
    n = len(cands)
    sf = Counter(t for c in cands for t in set(c.terms))
    vecs = []
    for c in cands:
        tf = Counter(c.terms)
        v = {t: k * math.log(n / sf[t]) for t, k in tf.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({t: x / norm for t, x in v.items()})
    w = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = (vecs[i], vecs[j]) if len(vecs[i]) < len(vecs[j]) else (vecs[j], vecs[i])
            cos = sum(x * b.get(t, 0.0) for t, x in a.items())
            if cos > LEXRANK_THRESHOLD:
                w[i][j] = w[j][i] = 1.0
    return _pick(cands, pagerank(w), budget)


# -- one cluster -----------------------------------------------------------------
def load(path: Path) -> list[tuple[list[tuple[str, str]], list[str]]]:
    """(documents as (title, text), reference summaries) per cluster, for both file formats."""
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if "docs" in r:  # ViMs
                out.append(([(d.get("title") or "", d["text"]) for d in r["docs"]],
                            [s["text"] for s in r["summaries"]]))
            else:  # AbMuSu
                out.append(([(d.get("title") or "", d["raw_text"]) for d in r["single_documents"]],
                            [r["summary"]]))
    return out


def _ingest(eng: Any, name: str, ci: int, docs: Sequence[tuple[str, str]]) -> None:
    eng.ingest_documents([RawDocument(source=f"{name}/{ci}/{k}", text=text, title=title.strip() or None)
                          for k, (title, text) in enumerate(docs)])


def cluster_articles(item: tuple[str, int, list[tuple[str, str]]]) -> list[Article]:
    """The articles of one cluster as hoidap stores them (a fresh index, as ``run_cluster``)."""
    from hoidap.engine import Engine

    name, ci, docs = item
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp, Engine(tmp) as eng:
        _ingest(eng, name, ci, docs)
        return [eng.document(i.doc_id) for i in eng.documents()]


def run_cluster(item: tuple[str, int, list[tuple[str, str]], list[str], dict[str, Any] | None],
                ) -> dict[str, tuple[float, float, float]]:
    """Every system's scores on one cluster; hoidap briefs with ``model`` (None: the shipped one)."""
    from hoidap.briefing import brief
    from hoidap.engine import Engine

    name, ci, docs, refs, model = item
    references = [rouge_tokens(r) for r in refs]
    budget = max(len(r) for r in references)
    with tempfile.TemporaryDirectory(dir=TMP_ROOT) as tmp, Engine(tmp) as eng:
        _ingest(eng, name, ci, docs)
        articles = [eng.document(i.doc_id) for i in eng.documents()]

        def hoidap() -> str:
            if model is None:
                b = eng.brief(max_words=budget, with_facts=False)
            else:  # what Engine.brief does, with the fold's model
                b = brief.build(brief.choose_articles(eng.store, None, None), eng.store, eng.index, max_words=budget,
                                with_facts=False, model=model)
            return " ".join(s.text for s in b.sentences)

        systems: dict[str, Callable[[], str]] = {
            "hoidap": hoidap,
            "lead": lambda: lead(articles, budget),
            "lead-rr": lambda: lead_round_robin(articles, budget),
            "textrank": lambda: textrank(articles, budget),
            "lexrank": lambda: lexrank(articles, budget),
        }
        return {k: score(f(), references) for k, f in systems.items()}


def _map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(fn, items, chunksize=4)
    return [fn(it) for it in items]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR,
                    help=f"folder with {' and '.join(SETS.values())} (default ../shared/eval)")
    ap.add_argument("--limit", type=int, help="only the first N clusters of each set")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default 2)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--shipped", action="store_true",
                    help="score hoidap with the shipped model (trained on these very sets: in-sample, "
                         "not a fair figure) instead of out-of-fold models")
    args = ap.parse_args(argv)
    missing = [f for f in SETS.values() if not (args.eval_dir / f).exists()]
    if missing:
        print(f"rouge_brief: {', '.join(missing)} not found in {args.eval_dir} "
              "(the eval data lives in ../shared/eval, present only in the project's workspace and CI; "
              "pass --eval-dir)", file=sys.stderr)
        return 2
    t0 = time.time()
    data = {name: load(args.eval_dir / fname)[: args.limit] for name, fname in SETS.items()}
    # hoidap's model was trained on both sets (scripts/train_brief.py): score each cluster with a
    # model retrained, by the same procedure, on the other folds of both sets (out-of-fold).
    models: list[dict[str, Any] | None] = [None]
    if not args.shipped:
        sys.path.insert(0, str(REPO / "scripts"))
        import train_brief

        sets = {name: [train_brief.make_cluster(arts, refs) for arts, (_, refs) in zip(
            _map(cluster_articles, [(name, ci, docs) for ci, (docs, _) in enumerate(clusters)], args.workers),
            clusters, strict=True)] for name, clusters in data.items()}
        models = list(train_brief.cv_models(sets))
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    counts: dict[str, int] = {}
    for name, clusters in data.items():
        items = [(name, ci, docs, refs, models[ci % len(models)]) for ci, (docs, refs) in enumerate(clusters)]
        rows = _map(run_cluster, items, args.workers)
        counts[name] = len(rows)
        results[name] = {}
        for s in SYSTEMS:
            r1, r2, rl = (round(statistics.mean(r[s][k] for r in rows), 4) for k in range(3))
            results[name][s] = (r1, r2, rl)
    seconds = round(time.time() - t0, 1)
    if args.json:
        out: dict[str, Any] = {"clusters": counts, "seconds": seconds, "ceiling_vims": VIMS_CEILING,
                               "hoidap_model": {"version": MODEL["version"], "data": MODEL["data"],
                                                "scored": "shipped (in-sample)" if args.shipped
                                                else "out-of-fold"},
                               "rouge": {n: {s: dict(zip(("r1", "r2", "rl"), v, strict=True))
                                             for s, v in r.items()} for n, r in results.items()}}
        print(json.dumps(out))
        return 0
    names = list(SETS)
    head = "system".ljust(22) + "".join(f"{n} ({counts[n]}) R1/R2/RL".ljust(28) for n in names)
    print(head)
    print("-" * len(head))
    for s in SYSTEMS:
        print(s.ljust(22) + "".join(" / ".join(f"{x:.3f}" for x in results[n][s]).ljust(28) for n in names))
    print("ceiling (ViMs agr.)".ljust(22) + " / ".join(f"{x:.3f}" for x in VIMS_CEILING).ljust(28) + "n/a")
    print(f"\n{seconds} s, {args.workers} worker(s); syllable ROUGE F1, each summary cut to each reference's length")
    if args.shipped:
        print(f"hoidap: the shipped model v{MODEL['version']} ({MODEL['command']}), IN-SAMPLE -- {MODEL['data']}")
    else:
        print("hoidap: out-of-fold (5 folds by cluster; each fold's model trained on the other folds of both "
              f"sets by scripts/train_brief.py's procedure); shipped model v{MODEL['version']} is trained on all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
