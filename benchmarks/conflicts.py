"""Precision and recall of "sources disagree" on news clusters nobody tuned on.

Usage::

    .venv/bin/python benchmarks/conflicts.py            # both halves, one line each, and the recall
    .venv/bin/python benchmarks/conflicts.py --json
    PYTHONPATH=/path/to/old/src python benchmarks/conflicts.py   # the same figures for another version

Two hand-made sets in ``tests/data`` (the sentences are kept there, the articles
are read from ``../shared/eval``):

* ``conflict_verdicts.jsonl``: pairs of figures (or event dates) from two articles
  of one cluster of ViMs (``vims_300clusters.jsonl``) or AbMuSu
  (``abmusu_train.jsonl``), each judged by reading: the same measure and scope?
  (``same_measure``) and ``verdict``: ``conflict`` (same measure, values that cannot
  both hold), ``agree`` (same measure, same or compatible values) or
  ``not_comparable``. ``half`` says what the pair's cluster was used for; the
  claim comparison was designed in rounds, each scored on clusters it had
  not seen and then designed further on them:
  ``design-1`` (30 clusters, crc32 of the key even: the first design's thresholds),
  ``design-2`` (their odd half, held out from the first design, then used for the
  second), ``design-3`` (20 clusters held out from the second design, then used for
  the third), ``design-4`` (20 clusters drawn after the third design was frozen and
  only scored, the ``heldout`` set of the first report; used for the seventh design step),
  ``heldout-2`` (20 fresh clusters, scored once after the seventh step was frozen, then
  design data), ``heldout-3`` (20 fresh clusters drawn after the eighth), ``heldout-4`` (20
  fresh clusters drawn on 2026-12-07, after the eighth step, and only scored: its system reported
  no conflict, and 34 of its 100 agreements, sampled, were judged blind). Round 1 drew,
  before any new code ran, every pair the old grouping called a conflict and the most
  alike pairs with different and equal values; later rounds added the pairs either
  version reported that were not judged yet (all of the new version's conflicts, samples
  of the old version's conflicts and of the new one's agreements), shuffled so the reader
  could not tell which version reported a pair; ``round: designer`` marks the pairs the designer judged,
  ``round: recall`` a reported pair that is one of the disagreements the annotators found by reading
  its cluster (``conflict_recall.jsonl``), judged by them.
* ``conflict_recall.jsonl``: 130 clusters read whole, one line per cluster with
  every real disagreement between two articles found by reading. ``set``:
  ``design-1`` (15 clusters of the odd half, read after the first design, used for
  the second), ``design-2`` (15 fresh clusters, read after the first design, used
  for the second and third), ``design-3`` (20 fresh clusters, held out from the
  second design, used for the third), ``design-4`` (20 fresh clusters, read after
  the third design was frozen, only scored then; used for the seventh step), ``heldout-2``
  ``heldout-3`` and ``heldout-4`` (20 fresh clusters each, read by annotators who never saw the
  engine's output, as the halves of the same names).

Each cluster is ingested into a fresh index (as ``rouge_brief.py`` does) and
``facts`` compares its figures. Printed: conflict precision (of the system's
conflict pairs that were judged, the share judged ``conflict``), agree precision
(of its agree/compatible pairs judged, the share judged ``agree``), how many of
its pairs were judged at all, and recall (of the disagreements found by reading,
the share the system reports as a conflict pair).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from rouge_brief import cluster_articles, load  # noqa: E402

from hoidap.briefing import brief as briefing  # noqa: E402
from hoidap.briefing.conflicts import intersects  # noqa: E402
from hoidap.models import Conflict, Figure  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
FILES = {"vims": "vims_300clusters.jsonl", "abmusu": "abmusu_train.jsonl"}
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")

Key = tuple[int, str, str]


def number_of(text: str) -> str:
    """The first number of a figure as written ("trên 1.655 tỉ đồng" -> "1.655"): the part
    of a figure that stays the same when the extractor reads its words differently."""
    m = _NUMBER.search(text)
    return m.group().split("/")[0] if m else text


def _pairs(c: Conflict) -> list[tuple[Figure, Figure, str]]:
    """The pairs a comparison reports, with their verdicts; a version without pairs
    (before claims) reports every cross-document pair with its group's label read
    pair by pair: a conflict only where the two ranges cannot both hold."""
    members = c.members
    if getattr(c, "pairs", None):
        return [(members[i], members[j], v) for i, j, v in c.pairs]
    out = []
    for k, a in enumerate(members):
        for b in members[k + 1 :]:
            if a.citation.doc_id == b.citation.doc_id:
                continue
            if c.label == "conflict":
                out.append((a, b, "conflict" if not intersects(a, b) else "compatible"))
            else:
                out.append((a, b, c.label))
    return out


def sets_of(recall_rows: list[dict[str, Any]], verdicts: list[dict[str, Any]]) -> list[str]:
    """The sets the data holds, design rounds first, each in the order it was drawn."""
    names = {r["set"] for r in recall_rows} | {v["half"] for v in verdicts}
    return sorted(names, key=lambda n: (n.startswith("heldout"), n))


def system_pairs(cluster: str, eval_dir: Path, cache: dict[str, Any]) -> tuple[list[tuple[Key, Key, str]], float]:
    name, ci = cluster.split(":")
    if name not in cache:
        cache[name] = load(eval_dir / FILES[name])
    docs, _ = cache[name][int(ci)]
    arts = cluster_articles((name, int(ci), docs))
    index = {a.doc_id: k for k, a in enumerate(arts)}
    t = time.perf_counter()
    facts = briefing.facts_of(arts)
    took = time.perf_counter() - t

    def key(f: Figure) -> Key:
        return (index[f.citation.doc_id], f.citation.sentence, number_of(f.text))

    return [(key(a), key(b), v) for c in facts.conflicts for a, b, v in _pairs(c)], took


def run(eval_dir: Path) -> dict[str, Any]:
    verdicts = [json.loads(x) for x in (DATA / "conflict_verdicts.jsonl").read_text(encoding="utf-8").splitlines()]
    recall_file = DATA / "conflict_recall.jsonl"
    recall_rows = ([json.loads(x) for x in recall_file.read_text(encoding="utf-8").splitlines()]
                   if recall_file.exists() else [])
    judged: dict[tuple[str, frozenset[Key]], dict[str, Any]] = {}
    for v in verdicts:
        a = (v["a"]["doc"], v["a"]["sentence"], number_of(v["a"]["figure"]))
        b = (v["b"]["doc"], v["b"]["sentence"], number_of(v["b"]["figure"]))
        judged[(v["cluster"], frozenset((a, b)))] = v
    half_of = {r["cluster"]: r["set"] for r in recall_rows} | {v["cluster"]: v["half"] for v in verdicts}
    clusters = sorted({v["cluster"] for v in verdicts} | {r["cluster"] for r in recall_rows})
    cache: dict[str, Any] = {}
    found: dict[str, list[tuple[Key, Key, str]]] = {}
    seconds = 0.0
    for c in clusters:
        found[c], took = system_pairs(c, eval_dir, cache)
        seconds += took
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c, pairs in found.items():
        half = half_of[c]
        for a, b, verdict in pairs:
            side = "conflict" if verdict == "conflict" else "agree"
            counts[half][f"{side}_pairs"] += 1
            j = judged.get((c, frozenset((a, b))))
            if j is None:
                continue
            counts[half][f"{side}_judged"] += 1
            counts[half][f"{side}_right"] += int(j["verdict"] == side)
    out: dict[str, Any] = {}
    for half, n in sorted(counts.items()):
        out[half] = {
            "conflict_pairs": n["conflict_pairs"], "conflict_judged": n["conflict_judged"],
            "conflict_precision": round(n["conflict_right"] / n["conflict_judged"], 3) if n["conflict_judged"] else None,
            "agree_pairs": n["agree_pairs"], "agree_judged": n["agree_judged"],
            "agree_precision": round(n["agree_right"] / n["agree_judged"], 3) if n["agree_judged"] else None,
        }
    out["recall"] = {}
    out["sets"] = sets_of(recall_rows, verdicts)
    for which in out["sets"]:
        real = hit = 0
        missed = []
        rows = [r for r in recall_rows if r.get("set") == which]
        for r in rows:
            # A disagreement is found when the system reports those two documents' values as
            # a conflict, in whichever of their sentences (an article may state a figure twice).
            reported = {frozenset(((a[0], a[2]), (b[0], b[2]))) for a, b, v in found[r["cluster"]] if v == "conflict"}
            for d in r["disagreements"]:
                real += 1
                k = frozenset(((d["a"]["doc"], number_of(d["a"]["number"])),
                               (d["b"]["doc"], number_of(d["b"]["number"]))))
                if k in reported:
                    hit += 1
                else:
                    missed.append(f'{r["cluster"]}: {d["a"]["number"]} / {d["b"]["number"]} ({d.get("what", "")})')
        if rows:
            out["recall"][which] = {"clusters_read": len(rows), "disagreements": real, "found": hit,
                                    "recall": round(hit / real, 3) if real else None, "missed": missed}
    out["judged_pairs"] = len(verdicts)
    out["facts_seconds"] = round(seconds, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "eval")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.eval_dir / FILES["vims"]).exists():
        sys.exit(f"no evaluation data at {args.eval_dir} (../shared/eval): nothing to measure")
    res = run(args.eval_dir)
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    for half in res["sets"]:
        if half in res:
            r = res[half]
            print(f"{half:9s} conflict precision {r['conflict_precision']} ({r['conflict_judged']} of "
                  f"{r['conflict_pairs']} conflict pairs judged)  agree precision {r['agree_precision']} "
                  f"({r['agree_judged']} of {r['agree_pairs']} judged)")
    for which, rc in res["recall"].items():
        print(f"recall {which}: {rc['recall']} ({rc['found']} of {rc['disagreements']} disagreements found by "
              f"reading {rc['clusters_read']} clusters)")
        for m in rc["missed"]:
            print("  missed", m)
    print(f"judged pairs {res['judged_pairs']}, facts over all clusters {res['facts_seconds']} s")


if __name__ == "__main__":
    main()
