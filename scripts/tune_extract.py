"""Measure ``hoidap.qa.extract.extract`` on SQuAD-format data with the gold sentence given.

Usage::

    python scripts/tune_extract.py                    # table for the three files
    python scripts/tune_extract.py --show date -n 20  # worst "date" items of the tuning files

For each answerable question the gold sentence is the sentence of the context
(split on ``[.!?]\\s+``) containing the first reference's ``answer_start``; the
extractor gets the question and that sentence. EM/F1 are the SQuAD metrics on
syllables (lower case, punctuation removed, whitespace split), max over the
references. "base F1" scores the whole gold sentence as the answer.

``viquad1_dev`` and ``viquad2_train_subset_3290`` are for tuning; ``vinewsqa_dev``
is reported only (never look at its items when changing rules: ``--show`` skips it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hoidap.evaluate import exact_match, f1_score  # noqa: E402  (the gate's own metric)
from hoidap.qa.extract import extract, question_kind  # noqa: E402

EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
TUNING_FILES = ("viquad1_dev.json", "viquad2_train_subset_3290.json")
REPORT_FILES = ("vinewsqa_dev.json",)
_SENT_END_RE = re.compile(r"[.!?]\s+")


@dataclass(frozen=True)
class Item:
    question: str
    sentence: str
    references: tuple[str, ...]
    sentences: tuple[str, ...] = ()  # every sentence of the context


def split_sentences(context: str) -> list[tuple[int, int]]:
    """Sentence spans of ``context``; each ends after its [.!?]."""
    spans = []
    begin = 0
    for m in _SENT_END_RE.finditer(context):
        spans.append((begin, m.start() + 1))
        begin = m.end()
    spans.append((begin, len(context)))
    return spans


def load_items(path: Path, limit: int | None = None) -> list[Item]:
    """Answerable questions of a SQuAD v1/v2 file, each with its gold sentence."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items: list[Item] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            context = para["context"]
            spans = split_sentences(context)
            for qa in para["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                start = qa["answers"][0]["answer_start"]
                sent = next((context[a:b] for a, b in spans if a <= start < b), None)
                if sent is None:
                    continue
                refs = tuple(a["text"] for a in qa["answers"])
                items.append(Item(qa["question"], sent, refs, tuple(context[a:b] for a, b in spans)))
                if limit is not None and len(items) >= limit:
                    return items
    return items


def predict(item: Item) -> str:
    ext = extract(item.question, item.sentence)
    return "" if ext is None else item.sentence[ext.start : ext.end]


def predict_in_paragraph(item: Item) -> tuple[str, bool]:
    """The best-scoring answer over all sentences, and whether it came from the gold one."""
    best: tuple[float, str, bool] = (-1.0, "", False)
    for sent in item.sentences:
        ext = extract(item.question, sent)
        if ext is not None and ext.score > best[0]:
            best = (ext.score, sent[ext.start : ext.end], sent == item.sentence)
    return best[1], best[2]


@dataclass
class Result:
    n: int
    em: float
    f1: float
    base_f1: float
    per_kind: dict[str, tuple[int, float, float]]  # kind -> (count, F1, base F1)
    ms_per_call: float
    para_f1: float | None = None  # answers chosen by score over the whole context
    para_gold: float | None = None  # share of those taken from the gold sentence


def evaluate(items: Iterable[Item]) -> Result:
    em = f1 = base = 0.0
    n = 0
    kinds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    elapsed = 0.0
    for item in items:
        t0 = time.perf_counter()
        pred = predict(item)
        elapsed += time.perf_counter() - t0
        item_f1 = max(f1_score(pred, r) for r in item.references)
        item_base = max(f1_score(item.sentence, r) for r in item.references)
        em += max(exact_match(pred, r) for r in item.references)
        f1 += item_f1
        base += item_base
        n += 1
        acc = kinds[question_kind(item.question)]
        acc[0] += 1
        acc[1] += item_f1
        acc[2] += item_base
    per_kind = {k: (int(c), s / c, b / c) for k, (c, s, b) in sorted(kinds.items())}
    d = max(n, 1)
    return Result(n, em / d, f1 / d, base / d, per_kind, 1000 * elapsed / d)


def evaluate_paragraphs(items: list[Item], result: Result) -> Result:
    f1 = gold = 0.0
    for item in items:
        pred, from_gold = predict_in_paragraph(item)
        f1 += max(f1_score(pred, r) for r in item.references)
        gold += from_gold
    d = max(len(items), 1)
    result.para_f1, result.para_gold = f1 / d, gold / d
    return result


def print_table(name: str, r: Result) -> None:
    print(f"{name}: n={r.n}  EM={r.em:.3f}  F1={r.f1:.3f}  base F1={r.base_f1:.3f}"
          f"  ({r.ms_per_call:.3f} ms/call)")
    print(f"  {'kind':<8}{'n':>6}{'F1':>8}{'base':>8}")
    for kind, (count, kf1, kbase) in r.per_kind.items():
        print(f"  {kind:<8}{count:>6}{kf1:>8.3f}{kbase:>8.3f}")
    if r.para_f1 is not None:
        print(f"  paragraph: F1={r.para_f1:.3f}, gold sentence chosen {r.para_gold:.1%}")


def show_worst(kind: str, limit: int) -> None:
    """Print tuning items of one kind with their F1, lowest first."""
    rows = []
    for name in TUNING_FILES:
        for item in load_items(EVAL_DIR / name):
            if kind != "all" and question_kind(item.question) != kind:
                continue
            pred = predict(item)
            rows.append((max(f1_score(pred, r) for r in item.references), item, pred))
    rows.sort(key=lambda row: row[0])
    for score, item, pred in rows[:limit]:
        print(f"F1={score:.2f} Q: {item.question}\n  S: {item.sentence}\n  P: {pred!r}")
        print(f"  G: {item.references[0]!r}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", metavar="KIND", help="print worst tuning items of KIND (or 'all')")
    parser.add_argument("-n", type=int, default=15, help="how many items --show prints")
    parser.add_argument("--tuning-only", action="store_true", help="skip the report file")
    parser.add_argument("--no-paragraph", action="store_true", help="skip the paragraph mode")
    args = parser.parse_args()
    if not EVAL_DIR.is_dir():
        sys.exit(f"no evaluation data at {EVAL_DIR}")
    if args.show:
        show_worst(args.show, args.n)
        return
    names = TUNING_FILES if args.tuning_only else TUNING_FILES + REPORT_FILES
    for name in names:
        items = load_items(EVAL_DIR / name)
        result = evaluate(items)
        if not args.no_paragraph:
            evaluate_paragraphs(items, result)
        print_table(name, result)


if __name__ == "__main__":
    main()
