"""Scaled VietNews collections for benchmarks/bench.py: 22,644 real articles grown to any size.

    .venv/bin/python benchmarks/scale.py 100000 benchmarks/out/data/vietnews-100000

Copy 0 of every article is the article itself (``_`` joins words in the
source: replaced by spaces). Copy ``c > 0`` is a variant a news site could
have published: the body's sentences after the lead reordered, one in ten
dropped, every number perturbed and a syllable of every name swapped with
another name's, so the content hash (``doc_id``) differs and deduplication
keeps every copy, while vocabulary, lengths and term statistics stay those of
real news. Variants are deterministic (seeded by copy and article number).

The collection is written as JSONL shards of ``SHARD`` articles, so ``hoidap
ingest DIR`` never holds more than one shard in memory.
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIETNEWS = REPO.parent / "shared" / "eval" / "vietnews_test.jsonl.xz"
SHARD = 10_000
# Share of body sentences a variant drops (after the first).
DROP_SHARE = 0.1

_NUMBER_RE = re.compile(r"\d+")
# A capitalised syllable that is not the first of its sentence: names, places, organisations.
_WORD_RE = re.compile(r"(?<=[^\s.!?…] )[^\W\d_]{2,}")


def _names(text: str) -> list[str]:
    return [w for w in _WORD_RE.findall(text) if w[0].isupper() and not w.isupper()]


def articles(path: Path = VIETNEWS) -> list[dict[str, str]]:
    """Every VietNews article as {"id", "title", "text"}, words separated by spaces."""
    out = []
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            fix = (lambda s: (s or "").replace("_", " "))  # noqa: E731
            out.append({"id": r["id"], "title": fix(r["title"]),
                        "text": fix(r["abstract"]) + "\n" + fix(r["body"])})
    return out


def _perturb_number(m: re.Match[str], rng: random.Random) -> str:
    digits = m.group()
    if len(digits) > 6:  # phone numbers, ids: leave them
        return digits
    value = max(0, int(digits) + rng.randint(-3, 3) * max(1, int(digits) // 10))
    return str(value).zfill(len(digits)) if digits.startswith("0") else str(value)


def variant(article: dict[str, str], copy: int, index: int, names: list[str]) -> dict[str, str]:
    """Copy ``copy`` of an article (``copy == 0``: the article itself)."""
    if copy == 0:
        return article
    rng = random.Random(copy * 1_000_003 + index)
    lines = article["text"].split("\n")
    lead, body = lines[:1], lines[1:]
    kept = [s for s in body if rng.random() >= DROP_SHARE] or body
    rng.shuffle(kept)
    text = "\n".join(lead + kept)
    text = _NUMBER_RE.sub(lambda m: _perturb_number(m, rng), text)
    swap = {n: rng.choice(names) for n in sorted(set(_names(text))) if rng.random() < 0.5}
    if swap:
        text = _WORD_RE.sub(lambda m: swap.get(m.group(), m.group()), text)
    return {"id": f"{article['id']}-{copy}", "title": article["title"], "text": text}


def collection(base: list[dict[str, str]], n: int) -> Iterator[dict[str, str]]:
    """``n`` articles: copy 0 of every base article, then copy 1 of every one, and so on."""
    names = sorted({w for a in base[:2000] for w in _names(a["text"])})
    for i in range(n):
        copy, index = divmod(i, len(base))
        yield variant(base[index], copy, index, names)


def write(n: int, folder: Path, base: list[dict[str, str]] | None = None) -> Path:
    """Write (once) ``n`` articles as JSONL shards under ``folder``; returns ``folder``."""
    done = folder / "complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    base = base or articles()
    shard = None
    for i, a in enumerate(collection(base, n)):
        if i % SHARD == 0:
            if shard:
                shard.close()
            shard = (folder / f"part-{i // SHARD:04d}.jsonl").open("w", encoding="utf-8")
        assert shard is not None
        shard.write(json.dumps({"source": f"vietnews:{a['id']}", "title": a["title"], "text": a["text"]},
                               ensure_ascii=False) + "\n")
    if shard:
        shard.close()
    done.write_text(str(n))
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", type=int, help="articles")
    ap.add_argument("folder", type=Path)
    args = ap.parse_args(argv)
    write(args.n, args.folder)
    print(args.folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
