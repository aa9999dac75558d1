"""Short answers on a hand-written question set about a collection of files, as a user asks them.

Usage::

    .venv/bin/python benchmarks/question_sets.py --docs ../shared/seeds --questions SET.jsonl
    .venv/bin/python benchmarks/question_sets.py --docs DIR1 DIR2 --questions SET.jsonl --show
    PYTHONPATH=/path/to/old/src python benchmarks/question_sets.py ...   # another version, same set

The files (folders are read whole) are ingested into a fresh index with the default settings
and every question of ``SET.jsonl`` is asked of the whole collection. A line of the set is
``{"id", "q", "answers": [gold spans; empty when nothing in the collection answers it], "style"
(optional: "diacritics", "no-diacritics", ...), "from" (optional: "body", "furniture", "none")}``.
The sets measured in the CHANGELOG were written by helpers who never saw the engine; they quote
``../shared`` text, so they are kept outside the repository (``/work/pages-bench``, then
``/work/qsets``: scratch, lost between sessions). The 2026-12-07 ones were asked for as: natural
questions paraphrased in the asker's own words (not a sentence with its answer blanked out), each
answered by a short span copied verbatim from one body (checked with ``grep -F``), one or more
acceptable spans; a tenth plausible but unanswered by the pages; about a sixth typed without
marks; the lines split by the parity of their ids into a design half and a held-out half.

Printed: for the answerable questions EM and F1 (SQuAD's, on syllables, ``hoidap.evaluate``) and
"right" (the answer holds a gold span and is at most ``RIGHT_EXTRA`` syllables longer: a reader
would accept it), and how many were refused; for the others, the share refused; and the same
by ``style`` and ``from`` when the set has them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "src"))  # after PYTHONPATH: another version can be scored

from hoidap.engine import Engine  # noqa: E402
from hoidap.evaluate import exact_match, f1_score, normalize_answer  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

# How many syllables an answer may run past a gold span and still be right to a reader
# ("224 thị trường và đối tác" for "224 thị trường").
RIGHT_EXTRA = 4


def right(answer: str | None, golds: Sequence[str]) -> bool:
    if not answer:
        return False
    got = normalize_answer(answer)
    return any(" ".join(normalize_answer(g)) in " ".join(got) and len(got) <= len(normalize_answer(g)) + RIGHT_EXTRA
               for g in golds)


def ask_all(docs: Sequence[Path], questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp, Engine(settings=Settings(index_dir=Path(tmp))) as eng:
        eng.ingest(list(docs))
        for q in questions:
            a = eng.ask(q["q"])
            golds = q["answers"]
            row = {**q, "answer": a.answer, "understood": a.understood, "confidence": a.confidence}
            if golds:
                row.update(em=max(exact_match(a.answer or "", g) for g in golds),
                           f1=max(f1_score(a.answer or "", g) for g in golds), right=right(a.answer, golds))
            else:
                row.update(em=float(a.answer is None), f1=float(a.answer is None), right=a.answer is None)
            out.append(row)
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answers"]]
    others = [r for r in rows if not r["answers"]]
    out: dict[str, Any] = {"answerable": len(answerable)}
    if answerable:
        n = len(answerable)
        out.update(em=round(sum(r["em"] for r in answerable) / n, 3), f1=round(sum(r["f1"] for r in answerable) / n, 3),
                   right=round(sum(r["right"] for r in answerable) / n, 3),
                   refused=sum(r["answer"] is None for r in answerable))
    if others:
        out.update(unanswerable=len(others), unanswerable_refused=round(sum(r["right"] for r in others) / len(others), 3))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", nargs="+", type=Path, required=True, help="files or folders to ingest")
    ap.add_argument("--questions", type=Path, required=True, help="the question set (JSON lines)")
    ap.add_argument("--show", action="store_true", help="print every question that is not right")
    args = ap.parse_args(argv)
    questions = [json.loads(x) for x in args.questions.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = ask_all(args.docs, questions)
    print("all", json.dumps(summary(rows), ensure_ascii=False))
    for key in ("style", "from"):
        for value in sorted({str(r[key]) for r in rows if r.get(key) is not None}):
            print(f"{key}={value}", json.dumps(summary([r for r in rows if str(r.get(key)) == value]),
                                               ensure_ascii=False))
    if args.show:
        for r in rows:
            if not r["right"]:
                read_as = f" (read as: {r['understood']})" if r["understood"] else ""
                print(f"{r['id']}: {r['q']}\n    gold {r['answers'][:2]} | answer {r['answer']!r}{read_as}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
