"""Abstention of the shipped engine on the ViQuAD 2.0 slice, out of fold.

Usage::

    .venv/bin/python benchmarks/reader_abstention.py

The ViQuAD 2.0 slice (``../shared/eval/viquad2_train_subset_3290.json``) holds answerable
and unanswerable questions. Its fold B (``crc32(title) % 2 == 1``: articles the reader was
never trained on, scripts/train_reader.py) is split again by article: B1 (``crc32 % 4 == 1``)
fitted the reader's calibrated confidence and chose its threshold
(``scripts/train_reader_confidence.py``), B2 (``% 4 == 3``) reports it. Each half is asked in
the open-collection setting (every context of the half a document) twice: with the default
settings (the reader's confidence gate) and with every gate off. Prints, per half, F1 / EM of
the answerable questions and abstention on the unanswerable ones, the F1 the gate costs, and
whether the confidence tells the two kinds apart at all, whatever the threshold: the AUC of the
answers' confidence, answerable over unanswerable (0.5 is chance).
"""

from __future__ import annotations

import json
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import exact_match, f1_score, load_squad, roc_auc  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "viquad2_train_subset_3290.json"
UNGATED = {"min_support": 0.0, "min_confidence": 0.0, "min_reader_confidence": 0.0}


def half(data: dict[str, Any], rest: int, folder: Path) -> Path:
    """The articles with ``crc32(title) % 4 == rest`` as a SQuAD file."""
    keep = [a for a in data["data"] if zlib.crc32(a["title"].encode("utf-8")) % 4 == rest]
    path = folder / f"half{rest}.json"
    path.write_text(json.dumps({"version": "v2.0", "data": keep}, ensure_ascii=False), encoding="utf-8")
    return path


def scores(path: Path, settings: Settings) -> tuple[float, float, float, float | None]:
    """(F1, EM) over the answerable questions, abstention over the unanswerable ones, and the
    AUC of the answers' confidence: P(an answerable question's > an unanswerable one's)."""
    docs, questions = load_squad(path)
    f1 = em = 0.0
    right = n_answerable = n_impossible = 0
    sure: dict[bool, list[float]] = {True: [], False: []}  # impossible -> confidences
    with Engine(settings=settings) as eng:
        eng.ingest_documents(docs)
        for q in questions:
            ans = eng.ask(q["question"])
            pred = ans.answer
            sure[q["impossible"]].append(ans.confidence)
            if q["impossible"]:
                n_impossible += 1
                right += pred is None
            else:
                n_answerable += 1
                f1 += max(f1_score(pred or "", g) for g in q["answers"])
                em += max(exact_match(pred or "", g) for g in q["answers"])
    return (f1 / max(n_answerable, 1), em / max(n_answerable, 1), right / max(n_impossible, 1),
            roc_auc(sure[False], sure[True]))


def main() -> int:
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, rest in (("B1 (chose)", 1), ("B2 (reports)", 3)):
            path = half(data, rest, Path(tmp))
            base = Settings(store=None, reader="trained")
            open_ = scores(path, base.with_(index_dir=Path(tmp) / f"open{rest}", **UNGATED))
            gated = scores(path, base.with_(index_dir=Path(tmp) / f"gated{rest}"))
            print(f"{name}: no gate F1 {open_[0]:.4f} EM {open_[1]:.4f} abstention {open_[2]:.4f}; "
                  f"default F1 {gated[0]:.4f} EM {gated[1]:.4f} abstention {gated[2]:.4f} "
                  f"(F1 cost {open_[0] - gated[0]:.4f}); confidence AUC, answerable over "
                  f"unanswerable: {gated[3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
