"""What issue 21's sources cost and do: feed polling against a local server, and the read stage's
new checks (mojibake, language, over-long) against the same reads without them.

Usage::

    .venv/bin/python benchmarks/sources.py [--items 200] [--new 20] [--articles 2000]

1. Feed: a local ``http.server`` serves an RSS feed of ``--items`` article pages (with an ETag).
   ``hoidap ingest --follow FEED`` three times (through ``Engine.ingest(follow=True)``): the first
   poll, a second with nothing new, a third after ``--new`` items were added. Prints the pages
   fetched, the articles ingested and the seconds of each poll (politeness delay 0: one local
   host).
2. Read stage: ``--articles`` VietNews test articles (``../shared/eval/vietnews_test.jsonl.xz``) as
   a JSONL file read by ``ingest.read.read_all`` with the checks, then with them switched off, in
   the same run (best of 3 each); prints both and the ratio. Also the HTML fixtures
   (``tests/data/pages``, the listing page left out): trafilatura's extraction alone against the whole HTML read.
"""

from __future__ import annotations

import argparse
import json
import lzma
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import trafilatura  # noqa: E402

import hoidap.ingest.read as read  # noqa: E402
from hoidap.engine import Engine  # noqa: E402
from hoidap.settings import Settings  # noqa: E402

DATA = REPO.parent / "shared" / "eval" / "vietnews_test.jsonl.xz"
PAGES = REPO / "tests" / "data" / "pages"


def feed_polls(items: int, new: int) -> None:
    state = {"items": items}
    hits: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            hits[self.path] += 1
            if self.path == "/feed.xml":
                n = state["items"]
                etag = f'"items-{n}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                links = "".join(f"<item><link>{base}/a/{i}.html</link></item>" for i in range(n))
                body = f'<?xml version="1.0"?><rss version="2.0"><channel>{links}</channel></rss>'.encode()
                headers = {"Content-Type": "application/rss+xml", "ETag": etag}
            elif self.path.startswith("/a/"):
                i = int(self.path[3:-5])
                paras = "".join(f"<p>Sáng ngày {1 + i % 28}, công trình số {i} được khánh thành với tổng vốn {i * 7 + k} "
                                f"tỷ đồng, theo thông báo của ủy ban nhân dân. Đây là dự án thứ {k + 1} trong năm.</p>"
                                for k in range(4))
                body = (f"<html><head><meta charset='utf-8'><title>Công trình số {i} - VnExpress</title></head>"
                        f"<body><article><h1>Công trình số {i} được khánh thành</h1>{paras}</article></body></html>").encode()
                headers = {"Content-Type": "text/html; charset=utf-8"}
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                Engine(settings=Settings(index_dir=Path(tmp) / "idx", fetch_delay_seconds=0.0)) as eng:
            for label in ("first poll", "second poll (unchanged)", f"third poll ({new} new items)"):
                if label.startswith("third"):
                    state["items"] += new
                before = sum(n for p, n in hits.items() if p.startswith("/a/"))
                t = time.perf_counter()
                report = eng.ingest([f"{base}/feed.xml"], follow=True)
                seconds = time.perf_counter() - t
                pages = sum(n for p, n in hits.items() if p.startswith("/a/")) - before
                print(f"{label:28} pages fetched {pages:4}  ingested {len(report.ingested):4}  "
                      f"failed {len(report.failed)}  {seconds:6.2f} s")
    finally:
        server.shutdown()


def best_of(n: int, f: object) -> float:
    times = []
    for _ in range(n):
        t = time.process_time()
        f()  # type: ignore[operator]
        times.append(time.process_time() - t)
    return min(times)


def read_stage(articles: int) -> None:
    if not DATA.exists():
        print(f"{DATA} not found: read-stage comparison skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vietnews.jsonl"
        with lzma.open(DATA, "rt", encoding="utf-8") as f, path.open("w", encoding="utf-8") as out:
            for n, line in enumerate(f):
                if n >= articles:
                    break
                rec = json.loads(line)
                out.write(json.dumps({"text": rec["body"].replace("_", " ")}, ensure_ascii=False) + "\n")

        def run() -> None:
            assert sum(1 for _ in read.read_all([path], 16 * 1024 * 1024)) == articles

        with_checks = best_of(3, run)
        saved = read.repair_mojibake, read.language_note, read.MAX_ARTICLE_CHARS
        read.repair_mojibake = lambda text: (text, None)  # type: ignore[assignment]
        read.language_note = lambda text: None  # type: ignore[assignment]
        try:
            without = best_of(3, run)
        finally:
            read.repair_mojibake, read.language_note, read.MAX_ARTICLE_CHARS = saved
    print(f"read {articles} VietNews JSON lines: with the checks {with_checks * 1e3 / articles:.3f} ms "
          f"an article, without {without * 1e3 / articles:.3f} ms, ratio {with_checks / without:.2f}")
    pages = sorted(p for p in PAGES.glob("*.html") if not p.name.startswith("listing"))
    htmls = [p.read_text(encoding="utf-8") for p in pages]

    def extract_only() -> None:
        for h in htmls * 10:
            trafilatura.bare_extraction(h, favor_recall=True, include_comments=False, include_tables=True,
                                        with_metadata=True, deduplicate=False)

    def whole_read() -> None:
        for p in pages * 10:
            read.read_file(p, 16 * 1024 * 1024)

    base, full = best_of(3, extract_only), best_of(3, whole_read)
    print(f"read {len(pages)} HTML fixtures x10: trafilatura alone {base * 1e3 / (10 * len(pages)):.2f} ms a page, "
          f"whole read (listing check, lead, mojibake, language) {full * 1e3 / (10 * len(pages)):.2f} ms, "
          f"ratio {full / base:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--new", type=int, default=20)
    ap.add_argument("--articles", type=int, default=2000)
    args = ap.parse_args()
    feed_polls(args.items, args.new)
    read_stage(args.articles)


if __name__ == "__main__":
    main()
