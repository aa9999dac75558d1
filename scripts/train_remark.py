"""Count the syllable bigrams that give an unmarked question its marks (``src/hoidap/data/remark_lm.npz``).

Usage::

    .venv/bin/python scripts/train_remark.py            # writes src/hoidap/data/remark_lm.npz (~20 s)

``text.remark`` decodes a question typed without diacritics ("nhung nam nao") into the marked
syllables a bigram language model finds likeliest ("những năm nào"), its counts interpolated
with those of the sentences the question found. This script makes the model's counts.

Data: the bodies, titles and abstracts of ``../shared/eval/vietnews_test.jsonl.xz`` (22,644 news
articles; words joined by "_" there, read as syllables), less every article that shares a run of
``SHINGLE`` syllables with a context of the QA sets the remarking is measured on (ViNewsQA dev,
ViQuAD 1.0 dev, the ViQuAD 2.0 slice): their articles' wording is never counted. VietNews is no
QA set and nothing reports on it as such. Then the questions of the training QA sets
(``../shared/train``: ViCoQA dev and test, the SQuAD 2.0-format news sample; 6,374 questions),
each count weighted ``QUESTION_WEIGHT``: questions use words news rarely writes ("thứ mấy").

Counted: syllables (runs of letters) in lower case with their tone mark placed canonically
(``normalize.fold_token``), within stretches between punctuation marks; unigrams seen at least
``MIN_UNIGRAM`` times, bigrams of those seen at least ``MIN_BIGRAM`` times. Written as numpy arrays:
``vocab`` (sorted), ``unigrams`` (counts), ``bigram_keys`` (``a * len(vocab) + b``, sorted) and
``bigram_counts``, with ``meta`` (JSON: sources, thresholds, sizes). Deterministic.
"""

from __future__ import annotations

import argparse
import json
import lzma
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hoidap.text.normalize import fold_token  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
CORPUS = EVAL / "vietnews_test.jsonl.xz"
HELD_OUT = ("vinewsqa_dev.json", "viquad1_dev.json", "viquad2_train_subset_3290.json")
OUT = REPO / "src" / "hoidap" / "data" / "remark_lm.npz"
TRAIN = REPO.parent / "shared" / "train"
# Questions are written unlike news ("thứ mấy", "số mấy", "ở đâu"): the questions of the training
# QA sets (``../shared/train``: ViCoQA dev and test, the SQuAD 2.0-format news sample; no
# evaluation set) are counted too, each count weighted this much (6,374 questions against 10.8
# million syllables of news).
QUESTION_WEIGHT = 20
QUESTION_SETS = ("vicoqa_dev.json", "vicoqa_test.json", "squad2_vi_sample.json")
# An article sharing a run of this many syllables with a held-out context is left out: 1,166 of
# 22,644 share one (most of them a stock phrase), and dropping them all costs 5% of the counts.
SHINGLE = 8
# Counts below these are left out: rarer forms are mostly typos and names spelt once; at these
# floors the file is 1.0 MB and restores questions as well as every count kept (ViNewsQA dev
# fold A: exact restoration 0.567 with bigrams >= 3 alone, the same as with all of them).
MIN_UNIGRAM = 2
MIN_BIGRAM = 3

_SYLLABLE = re.compile(r"[^\W\d_]+")
# Where a stretch of text ends: no bigram is counted across punctuation.
_BREAK = re.compile(r"[.!?;:,()\[\]\"“”‘’…\n]+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"\w+", text)]


def held_out_shingles(eval_dir: Path) -> set[str]:
    out: set[str] = set()
    for name in HELD_OUT:
        data = json.loads((eval_dir / name).read_text(encoding="utf-8"))
        for art in data["data"]:
            for p in art["paragraphs"]:
                w = _words(p["context"])
                out.update(" ".join(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1))
    return out


def count(corpus: Path, held_out: set[str]) -> tuple[Counter[str], Counter[tuple[str, str]], int, int]:
    """Unigram and bigram counts of the corpus, less the articles that overlap ``held_out``."""
    uni: Counter[str] = Counter()
    bi: Counter[tuple[str, str]] = Counter()
    kept = dropped = 0
    with lzma.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            text = "\n".join((r["title"], r["abstract"], r["body"])).replace("_", " ")
            w = _words(text)
            if any(" ".join(w[i : i + SHINGLE]) in held_out for i in range(len(w) - SHINGLE + 1)):
                dropped += 1
                continue
            kept += 1
            count_text(text, 1, uni, bi)
    return uni, bi, kept, dropped


def count_text(text: str, weight: int, uni: Counter[str], bi: Counter[tuple[str, str]]) -> None:
    """Add ``text``'s syllables and the bigrams within each stretch (none across punctuation),
    each counted ``weight`` times."""
    for stretch in _BREAK.split(text):
        toks = [fold_token(s) for s in _SYLLABLE.findall(stretch)]
        for t in toks:
            uni[t] += weight
        for pair in zip(toks, toks[1:], strict=False):
            bi[pair] += weight


def training_questions(train_dir: Path) -> list[str]:
    """The questions of ``QUESTION_SETS`` (CoQA or SQuAD JSON)."""
    out: list[str] = []
    for name in QUESTION_SETS:
        data = json.loads((train_dir / name).read_text(encoding="utf-8"))["data"]
        for item in data:
            if "questions" in item:  # CoQA: a story and its conversation
                out.extend(q["input_text"] for q in item["questions"])
            else:
                out.extend(q["question"] for p in item["paragraphs"] for q in p["qas"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=EVAL)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--train-dir", type=Path, default=TRAIN)
    ap.add_argument("--question-weight", type=int, default=QUESTION_WEIGHT)
    args = ap.parse_args(argv)
    corpus = args.eval_dir / CORPUS.name
    if not corpus.exists():
        raise SystemExit(f"needs {corpus} (../shared/eval)")
    uni, bi, kept, dropped = count(corpus, held_out_shingles(args.eval_dir))
    questions = training_questions(args.train_dir) if args.question_weight else []
    for q in questions:
        count_text(q, args.question_weight, uni, bi)
    vocab = sorted(w for w, c in uni.items() if c >= MIN_UNIGRAM)
    index = {w: k for k, w in enumerate(vocab)}
    pairs = sorted((index[a] * len(vocab) + index[b], c) for (a, b), c in bi.items()
                   if c >= MIN_BIGRAM and a in index and b in index)
    meta = {"format": "hoidap-remark-lm", "version": 1, "corpus": CORPUS.name, "articles": kept,
            "left_out": dropped, "left_out_because": f"a run of {SHINGLE} syllables shared with {', '.join(HELD_OUT)}",
            "tokens": sum(uni.values()), "min_unigram": MIN_UNIGRAM, "min_bigram": MIN_BIGRAM,
            "vocab": len(vocab), "bigrams": len(pairs), "script": "scripts/train_remark.py",
            **({"questions": len(questions), "question_sets": list(QUESTION_SETS),
                "question_weight": args.question_weight} if questions else {})}
    np.savez_compressed(args.out, vocab=np.array(vocab), unigrams=np.array([uni[w] for w in vocab], dtype=np.uint32),
                        bigram_keys=np.array([k for k, _ in pairs], dtype=np.int64),
                        bigram_counts=np.array([c for _, c in pairs], dtype=np.uint32),
                        meta=np.array(json.dumps(meta, ensure_ascii=False)))
    print(json.dumps(meta, ensure_ascii=False))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
