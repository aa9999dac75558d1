"""Abstention by the trained reader's no-answer score, chosen and measured out of fold.

Usage::

    .venv/bin/python benchmarks/reader_abstention.py [--budget 0.03]

The ViQuAD 2.0 slice (``../shared/eval/viquad2_train_subset_3290.json``) holds answerable
and unanswerable questions. Its fold B (``crc32(title) % 2 == 1``: articles the reader was
never trained on, scripts/train_reader.py) is split again by article: B1
(``crc32 % 4 == 1``) chooses the threshold, B2 (``% 4 == 3``) reports it. Each half is
asked in the open-collection setting (every context a document, as ``hoidap eval squad``)
with ``Settings.reader = "trained"`` and no reader abstention; each answer's no-answer score
is kept, and every threshold is then applied offline. The threshold chosen is the one with
the most abstention on B1's unanswerable questions that costs its answerable ones at most
``--budget`` F1 (the issue's 3 points). Prints both halves' table and the B2 figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import exact_match, f1_score, load_squad  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "viquad2_train_subset_3290.json"
THRESHOLDS = (-5.0, -4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def half(data: dict[str, Any], rest: int, folder: Path) -> Path:
    """The articles with ``crc32(title) % 4 == rest`` as a SQuAD file."""
    keep = [a for a in data["data"] if zlib.crc32(a["title"].encode("utf-8")) % 4 == rest]
    path = folder / f"half{rest}.json"
    path.write_text(json.dumps({"version": "v2.0", "data": keep}, ensure_ascii=False), encoding="utf-8")
    return path


class _Recording(Engine):
    """The engine, keeping the reader's no-answer score of the last question."""

    last_no_answer: float | None = None

    def _read(self, *args: Any) -> Any:
        choice = super()._read(*args)
        self.last_no_answer = choice.no_answer
        return choice


def answers(path: Path, index: Path) -> list[dict[str, Any]]:
    """Each question's answer with the reader (never abstaining by itself) and its no-answer score."""
    docs, questions = load_squad(path)
    rows = []
    with _Recording(settings=Settings(index_dir=index, store=None, reader="trained", max_no_answer=None)) as eng:
        eng.ingest_documents(docs)
        for q in questions:
            eng.last_no_answer = None
            ans = eng.ask(q["question"])
            rows.append({"impossible": q["impossible"], "answers": q["answers"], "pred": ans.answer,
                         "no_answer": eng.last_no_answer})
    return rows


def scores(rows: list[dict[str, Any]], threshold: float | None) -> tuple[float, float, float]:
    """(F1, EM) over the answerable questions and abstention over the unanswerable ones."""
    f1 = em = 0.0
    right = n_answerable = n_impossible = 0
    for r in rows:
        pred = r["pred"]
        if pred is not None and threshold is not None and r["no_answer"] is not None \
                and r["no_answer"] > threshold:
            pred = None
        if r["impossible"]:
            n_impossible += 1
            right += pred is None
        else:
            n_answerable += 1
            f1 += max(f1_score(pred or "", g) for g in r["answers"])
            em += max(exact_match(pred or "", g) for g in r["answers"])
    return f1 / max(n_answerable, 1), em / max(n_answerable, 1), right / max(n_impossible, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=0.03, help="F1 the threshold may cost on B1")
    args = ap.parse_args(argv)
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        rows = {name: answers(half(data, rest, Path(tmp)), Path(tmp) / f"index-{name}")
                for name, rest in (("B1", 1), ("B2", 3))}
    chosen: float | None = None
    for name, rs in rows.items():
        base = scores(rs, None)
        print(f"{name}: {len(rs)} questions; reader without abstention: F1 {base[0]:.4f} EM {base[1]:.4f}"
              f" abstention {base[2]:.4f}")
        print(f"  {'threshold':>9} {'F1':>7} {'EM':>7} {'abstain':>8} {'F1 cost':>8}")
        for t in THRESHOLDS:
            f1, em, ab = scores(rs, t)
            print(f"  {t:9.1f} {f1:7.4f} {em:7.4f} {ab:8.4f} {base[0] - f1:8.4f}")
            if name == "B1" and base[0] - f1 <= args.budget and (chosen is None or t < chosen):
                chosen = t
    if chosen is not None:
        base, got = scores(rows["B2"], None), scores(rows["B2"], chosen)
        print(f"chosen on B1: max_no_answer {chosen}; on B2 (out of fold): abstention {base[2]:.4f} -> "
              f"{got[2]:.4f}, F1 {base[0]:.4f} -> {got[0]:.4f} (cost {base[0] - got[0]:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
