"""Figures from different sources compared as claims: agree / compatible / conflict.

Each figure becomes a claim (``claims``), claims from different documents are
compared pairwise where they are about the same quantity (the same statement
and slot, or the same named measure), and the comparable pairs are joined into
groups: a group is a connected set of comparable pairs, so one figure never
joins a group by resembling its first member only, and a figure unrelated to a
group never flips its label. A group's label follows from its pairs: one pair
that cannot both hold makes a ``conflict`` (224 and "hơn 230"); every pair the
same value, ``agree``; else ``compatible`` (224 and "trên 220").

The cost is linear in the number of claims compared: candidate pairs come
from a blocking index of statement words (``claims.candidate_pairs``), never
from every pair of the collection.
"""

from __future__ import annotations

from collections.abc import Sequence

from hoidap.briefing.claims import Claim, claims_of, compared_pairs, quantity_class
from hoidap.models import Conflict, Figure

_ORDER = {"conflict": 0, "compatible": 1, "agree": 2}


def _interval(f: Figure) -> tuple[float, float, bool, bool]:
    low = f.low if f.low is not None else float("-inf")
    high = f.high if f.high is not None else float("inf")
    return low, high, f.low_strict, f.high_strict


def intersects(a: Figure, b: Figure) -> bool:
    """Whether the two figures' ranges can both hold, strict bounds read strictly
    (224 and "trên 220" can; 224 and "hơn 230" cannot)."""
    al, ah, als, ahs = _interval(a)
    bl, bh, bls, bhs = _interval(b)
    lo, lo_strict = (al, als) if al > bl else (bl, bls) if bl > al else (al, als or bls)
    hi, hi_strict = (ah, ahs) if ah < bh else (bh, bhs) if bh < ah else (ah, ahs or bhs)
    return lo < hi or (lo == hi and not lo_strict and not hi_strict)


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _group_label(verdicts: Sequence[str]) -> str:
    if "conflict" in verdicts:
        return "conflict"
    return "agree" if all(v == "agree" for v in verdicts) else "compatible"


def _quantity(members: Sequence[Claim]) -> str:
    f = members[0].figure
    return f.counts or f.measure or f.unit or ""


def compare(figures: Sequence[Figure]) -> list[Conflict]:
    """Groups of comparable figures stated by two documents or more, labelled by their
    pairs; conflicts first, then by the number of documents."""
    claims = claims_of(figures)
    pairs = compared_pairs(claims)
    parent = list(range(len(claims)))
    for i, j, _ in pairs:
        parent[_root(parent, i)] = _root(parent, j)
    members_of: dict[int, list[int]] = {}
    pairs_of: dict[int, list[tuple[int, int, str]]] = {}
    for i, j, v in pairs:
        pairs_of.setdefault(_root(parent, i), []).append((i, j, v))
    for k in range(len(claims)):
        r = _root(parent, k)
        if r in pairs_of:
            members_of.setdefault(r, []).append(k)
    out = []
    for root, ids in members_of.items():
        position = {k: n for n, k in enumerate(ids)}
        mine = sorted((position[i], position[j], v) for i, j, v in pairs_of[root])
        members = [claims[k] for k in ids]
        out.append(Conflict(_group_label([v for _, _, v in mine]), _quantity(members),
                            tuple(c.figure for c in members), tuple(mine)))
    return sorted(out, key=lambda c: (_ORDER[c.label], -len({f.citation.doc_id for f in c.members})))


def label(members: Sequence[Figure]) -> str:
    """The label of figures taken as one quantity: "conflict" if two from different
    documents cannot both hold, "agree" if all state the same range, else "compatible"."""
    pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]
             if a.citation.doc_id != b.citation.doc_id]
    if any(not intersects(a, b) for a, b in pairs):
        return "conflict"
    if all(_interval(a) == _interval(b) for a, b in pairs):
        return "agree"
    return "compatible"


__all__ = ["compare", "intersects", "label", "quantity_class"]
