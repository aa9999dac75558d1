"""Fusing ranked lists: score normalisation and combination (pure functions).

Each function cites where its rule comes from; retrieval (``hoidap.search.retrieve``)
composes them: BM25 sentences with their documents, then BM25 with vectors.
"""

from __future__ import annotations

from collections.abc import Sequence


def max_normalised(scores: dict[int, float]) -> dict[int, float]:
    """Scores divided by their maximum (none when the maximum is not positive)."""
    top = max(scores.values(), default=0.0)
    return {k: v / top for k, v in scores.items()} if top > 0 else {}


def rrf(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: ``sum 1 / (k + rank)`` over the rankings, rank from 1.

    Cormack, Clarke & Buettcher 2009, "Reciprocal Rank Fusion outperforms
    Condorcet and individual rank learning methods" (SIGIR); k=60 is theirs.
    benchmarks/dense_retrieval.py measured it below ``score_fusion`` (Settings.dense_weight).
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict[int, float]) -> dict[int, float]:
    """Scores mapped linearly onto [0, 1] (all equal -> all 1)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi <= lo:
        return dict.fromkeys(scores, 1.0)
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def score_fusion(bm25: dict[int, float], dense: dict[int, float], weight: float) -> dict[int, float]:
    """Convex combination ``(1 - weight) * bm25 + weight * dense`` of min-max normalised scores.

    CombSUM over normalised scores (Fox & Shaw 1994; min-max as in Lee 1997);
    a key missing from one list counts as that list's minimum (0).
    """
    b, d = min_max(bm25), min_max(dense)
    return {key: (1.0 - weight) * b.get(key, 0.0) + weight * d.get(key, 0.0) for key in b.keys() | d.keys()}


def ranked(scores: dict[int, float]) -> list[int]:
    """Keys by score, best first; ties by key (a fixed rule)."""
    return sorted(scores, key=lambda key: (-scores[key], key))
