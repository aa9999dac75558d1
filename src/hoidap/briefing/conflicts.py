"""Figures from different sources compared: same quantity, and agree / compatible / conflict.

Two figures from different documents are about the same quantity when their
units fall in one class ("quốc gia", "nước", "đối tác", "thị trường" are all
polities; "USD" is money) and the key words around them overlap (the
modifiers that say *which* count it is: "thương mại", "ngoại giao",
"vắc xin"). Each such group is labelled ``agree``, ``compatible`` or
``conflict`` by intersecting the ranges.
"""

from __future__ import annotations

from collections.abc import Sequence

from hoidap.models import Conflict, Figure
from hoidap.text.lexicons import fold_phrase, lexicon, synonymised

# Figures whose key words overlap this much (overlap coefficient: shared /
# smaller set) are about the same quantity. 0.5 lets "kinh tế - thương mại"
# match "thương mại" while "đối tác toàn diện" and "thương mại" stay apart.
SAME_QUANTITY_OVERLAP = 0.5


def quantity_class(fig: Figure) -> str:
    """The class a figure's unit falls in: "polity", "money:USD", "%", or the head noun."""
    lex = lexicon()
    unit = fig.unit or ""
    if unit in lex.currencies.values():
        return f"money:{unit}"
    folded = fold_phrase(unit)
    folded = " ".join(synonymised(folded.split(), lex))
    return lex.noun_class.get(folded, folded)


def same_quantity(a: Figure, b: Figure) -> bool:
    """Whether two figures count the same thing (unit class, key words, dates)."""
    if quantity_class(a) != quantity_class(b) or not a.unit:
        return False
    if a.date and b.date and a.date[:4] != b.date[:4]:
        return False
    ca, cb = set(a.context), set(b.context)
    if not ca or not cb:
        return False
    shared = ca & cb
    return bool(shared) and len(shared) / min(len(ca), len(cb)) >= SAME_QUANTITY_OVERLAP


def _interval(f: Figure) -> tuple[float, float, bool, bool]:
    low = f.low if f.low is not None else float("-inf")
    high = f.high if f.high is not None else float("inf")
    return low, high, f.low_strict, f.high_strict


def intersects(a: Figure, b: Figure) -> bool:
    """Whether the two figures' ranges can both hold (224 and "trên 220" can; 224 and "hơn 230" cannot)."""
    al, ah, als, ahs = _interval(a)
    bl, bh, bls, bhs = _interval(b)
    lo, lo_strict = (al, als) if al > bl else (bl, bls) if bl > al else (al, als or bls)
    hi, hi_strict = (ah, ahs) if ah < bh else (bh, bhs) if bh < ah else (ah, ahs or bhs)
    return lo < hi or (lo == hi and not lo_strict and not hi_strict)


def label(members: Sequence[Figure]) -> str:
    """ "conflict" if two figures from different documents cannot both hold, "agree" if all
    state the same range, else "compatible"."""
    pairs = [(a, b) for k, a in enumerate(members) for b in members[k + 1 :]
             if a.citation.doc_id != b.citation.doc_id]
    if any(not intersects(a, b) for a, b in pairs):
        return "conflict"
    if all(_interval(a) == _interval(b) for a, b in pairs):
        return "agree"
    return "compatible"


def compare(figures: Sequence[Figure]) -> list[Conflict]:
    """Groups of figures about the same quantity stated by two documents or more, labelled.

    A figure joins the first group whose first figure is about the same quantity
    (as ``evidence.group_hits`` does for sentences). Conflicts come first.
    """
    groups: list[list[Figure]] = []
    # Only a group of the figure's own quantity class can take it (``same_quantity``): looking
    # in those alone gives the same groups without comparing every figure with every group
    # (a 1M-character document's figures took 25 s that way).
    by_class: dict[str, list[list[Figure]]] = {}
    for f in figures:
        cls = quantity_class(f)
        for g in by_class.get(cls, ()):
            if same_quantity(g[0], f):
                g.append(f)
                break
        else:
            groups.append([f])
            by_class.setdefault(cls, []).append(groups[-1])
    out = []
    for g in groups:
        if len({f.citation.doc_id for f in g}) < 2:
            continue
        out.append(Conflict(label(g), g[0].counts or g[0].unit or "", tuple(g)))
    order = {"conflict": 0, "compatible": 1, "agree": 2}
    return sorted(out, key=lambda c: order[c.label])
