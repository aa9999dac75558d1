"""How well the cleaner finds the article in scraped pages of outlets it was not written on.

Usage::

    .venv/bin/python benchmarks/page_cleaning.py DIR [DIR ...]          # one row per folder
    .venv/bin/python benchmarks/page_cleaning.py DIR --show              # and every lost or leaked line
    PYTHONPATH=/path/to/old/src python benchmarks/page_cleaning.py DIR   # the same for another version

A folder holds plain-text pages (as a scraper flattens a news page) and ``gold.jsonl``, one line
per page: ``{"file", "outlet", "title", "date" (YYYY-MM-DD), "body": [the article's lines as
on the page], "furniture": [every other non-empty line]}``. The sets measured in the CHANGELOG
embed article text of ``../shared/eval``, so they are kept outside the repository (see there).

Each folder is ingested into a fresh index (``Engine.ingest``: the same reading and cleaning as
any user's files). Printed per folder:

* body recall: the share of gold body lines found in the article's clean text (an outlet tag
  opening the lead, "TTO - ", is allowed to be left out);
* furniture leak: the share of furniture lines of 12 characters or more found in it;
* title, date (its first 10 characters) and outlet (case-insensitive) right, of the pages.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "src"))  # after PYTHONPATH: another version can be scored

from hoidap.engine import Engine  # noqa: E402
from hoidap.settings import Settings  # noqa: E402
from hoidap.text.normalize import nfc  # noqa: E402

# A furniture line shorter than this ("Chia sẻ", "Video") may well occur inside body text.
MIN_FURNITURE_CHARS = 12
_TAG = re.compile(r"^\(?[A-ZĐ][\w.&]{1,12}\)?\s*[-–]\s*")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", nfc(text)).strip()


def score(folder: Path, show: bool = False) -> dict[str, Any]:
    gold = [json.loads(x) for x in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    n = {"body": 0, "kept": 0, "furniture": 0, "leaked": 0, "title": 0, "date": 0, "outlet": 0}
    with tempfile.TemporaryDirectory() as tmp, Engine(settings=Settings(index_dir=Path(tmp))) as eng:
        eng.ingest([folder / g["file"] for g in gold])
        by_file = {Path(d.source).name: d.doc_id for d in eng.documents()}
        for g in gold:
            art = eng.document(by_file[g["file"]]) if g["file"] in by_file else None
            clean = _flat(art.clean_text) if art else ""
            kept = [b for b in g["body"] if _flat(b) in clean or _flat(_TAG.sub("", b)) in clean]
            furniture = [f for f in g["furniture"] if len(_flat(f)) >= MIN_FURNITURE_CHARS]
            leaked = [f for f in furniture if _flat(f) in clean]
            n["body"] += len(g["body"])
            n["kept"] += len(kept)
            n["furniture"] += len(furniture)
            n["leaked"] += len(leaked)
            if art is not None:
                n["title"] += _flat(art.title or "") == _flat(g["title"])
                n["date"] += (art.date or "")[:10] == g["date"]
                n["outlet"] += (art.outlet or "").casefold() == g["outlet"].casefold()
            if show:
                print(f"{folder.name}/{g['file']}: title {art.title if art else None!r} date {art.date if art else None} "
                      f"outlet {art.outlet if art else None!r}")
                for line in g["body"]:
                    if line not in kept:
                        print(f"    lost: {line[:120]}")
                for line in leaked:
                    print(f"    leak: {line[:120]}")
    pages = len(gold)
    return {"set": folder.name, "pages": pages,
            "body_recall": round(n["kept"] / max(n["body"], 1), 3),
            "furniture_leak": round(n["leaked"] / max(n["furniture"], 1), 3),
            "title": f"{n['title']}/{pages}", "date": f"{n['date']}/{pages}", "outlet": f"{n['outlet']}/{pages}"}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--show", action="store_true", help="print every lost body line and leaked furniture line")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = [score(f, args.show) for f in args.folders]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    print(f"{'set':10} {'pages':>5} {'body recall':>11} {'leak':>6} {'title':>6} {'date':>6} {'outlet':>6}")
    for r in rows:
        print(f"{r['set']:10} {r['pages']:5d} {r['body_recall']:11.3f} {r['furniture_leak']:6.3f} "
              f"{r['title']:>6} {r['date']:>6} {r['outlet']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
