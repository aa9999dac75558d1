"""Tests for hoidap.ingest.fetch against a real HTTP server started on 127.0.0.1: saved pages,
an RSS feed, an Atom feed, a sitemap and a sitemap index written for the project, robots.txt,
conditional GET, and the failures a polite fetcher must survive (slow server, 404, redirect loop,
huge body, 503 then success)."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hoidap.engine import Engine
from hoidap.errors import FetchError
from hoidap.ingest.fetch import STATE_FILE, Fetcher, Sources, listed_urls
from hoidap.models import FileFailure, RawDocument
from hoidap.settings import Settings

PAGES = Path(__file__).parent / "data" / "pages"
PLACES = ["Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Hải Phòng", "Nha Trang", "Vinh", "Quy Nhơn"]


def article(i: int) -> bytes:
    """A small article page, different for each ``i``."""
    place = PLACES[i % len(PLACES)]
    paras = "".join(
        f"<p>Sáng ngày {1 + i % 28}/{1 + i % 12}, {place} khánh thành công trình số {i} với tổng vốn "
        f"{i * 7 + k} tỷ đồng, theo thông báo của ủy ban nhân dân thành phố. Đây là dự án thứ {k + 1} "
        f"trong năm nay được đưa vào sử dụng.</p>"
        for k in range(3)
    )
    return (f"<html><head><meta charset='utf-8'><title>Công trình số {i} ở {place} - VnExpress</title></head>"
            f"<body><article><h1>Công trình số {i} ở {place} được khánh thành</h1>{paras}</article>"
            "</body></html>").encode()


@dataclass
class Site:
    """What the test server serves, and what it was asked."""

    base: str = ""
    feed_items: int = 5
    hits: Counter[str] = field(default_factory=Counter)
    flaky_left: int = 1

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Bài {i}</title><link>{self.base}/a/{i}.html</link><guid>{self.base}/a/{i}.html</guid></item>"
            for i in range(self.feed_items)
        )
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tin mới</title>'
                f"<link>{self.base}/</link>{items}</channel></rss>").encode()


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
                 headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path
            site.hits[path] += 1
            if path == "/robots.txt":
                self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            elif path.startswith("/pages/"):
                file = PAGES / path.removeprefix("/pages/")
                self.send(200, file.read_bytes()) if file.is_file() else self.send(404, b"not found")
            elif path.startswith("/a/") and path.endswith(".html"):
                self.send(200, article(int(path[3:-5])))
            elif path == "/feed.xml":
                body = site.feed()
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                else:
                    self.send(200, body, "application/rss+xml", {"ETag": etag})
            elif path == "/atom.xml":
                entries = "".join(f'<entry><title>B {i}</title><link rel="alternate" href="/a/{i}.html"/></entry>'
                                  for i in (100, 101))
                self.send(200, f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">{entries}</feed>'.encode(),
                          "application/atom+xml")
            elif path == "/sitemap.xml":
                locs = "".join(f"<url><loc>{site.base}/a/{i}.html</loc></url>" for i in (200, 201, 202))
                locs += f"<url><loc>{site.base}/missing.html</loc></url>"
                self.send(200, ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                                f'"http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>').encode(),
                          "application/xml")
            elif path == "/sitemap-index.xml":
                self.send(200, ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                f"<sitemap><loc>{site.base}/sitemap.xml</loc></sitemap></sitemapindex>").encode(),
                          "application/xml")
            elif path == "/slow.html":
                time.sleep(1.5)
                self.send(200, article(300))
            elif path == "/loop.html":
                self.send(302, b"", headers={"Location": "/loop.html"})
            elif path == "/huge.html":
                self.send(200, b"<html><body>" + b"x" * 300_000 + b"</body></html>")
            elif path == "/flaky.html":
                if site.flaky_left > 0:
                    site.flaky_left -= 1
                    self.send(503, b"busy")
                else:
                    self.send(200, article(400))
            elif path == "/chuyen-muc.html":  # a category page: teasers of /a/600.html ... /a/615.html
                teasers = "".join(
                    f'<article><h3><a href="/a/{600 + i}.html">Tin thứ {i} trong chuyên mục thời sự hôm nay</a></h3>'
                    f'<p><a href="/a/{600 + i}.html">Tóm tắt ngắn của tin thứ {i}.</a></p></article>'
                    for i in range(16)
                )
                outside = '<h3><a href="http://elsewhere.example/bai.html">Bài của một trang web khác hoàn toàn</a></h3>'
                self.send(200, f"<html><body><main>{teasers}{outside}</main></body></html>".encode())
            elif path == "/moved.html":
                self.send(301, b"", headers={"Location": "/a/500.html"})
            else:
                self.send(404, b"not found")

    return Handler


@pytest.fixture()
def site() -> Iterator[Site]:
    s = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(s))
    server.daemon_threads = True
    s.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield s
    server.shutdown()
    server.server_close()


def settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(index_dir=tmp_path / "idx", fetch_delay_seconds=0.0, fetch_timeout_seconds=0.5,
                    fetch_backoff_seconds=0.01, fetch_max_bytes=200_000)
    return base.with_(**changes)


def read(site: Site, tmp_path: Path, *paths: str, follow: bool = False, **changes: object) -> list[RawDocument | FileFailure]:
    return list(Sources([site.base + p for p in paths], settings(tmp_path, **changes), follow=follow).read())


def test_page_is_fetched_and_extracted(site: Site, tmp_path: Path) -> None:
    [doc] = read(site, tmp_path, "/pages/vnexpress.html")
    assert isinstance(doc, RawDocument)
    assert doc.source == doc.url == site.base + "/pages/vnexpress.html"  # source: the URL
    assert doc.title == "Cảng Cái Mép đón tàu container lớn nhất từ trước đến nay"
    assert doc.text.startswith("Tàu container sức chở 24.000 TEU")  # the lead kept, as from a file
    assert site.hits["/robots.txt"] == 1


def test_source_after_a_redirect_is_the_final_url(site: Site, tmp_path: Path) -> None:
    [doc] = read(site, tmp_path, "/moved.html")
    assert isinstance(doc, RawDocument) and doc.source == site.base + "/a/500.html"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.html", "HTTP 404"),
        ("/loop.html", "redirect loop"),
        ("/huge.html", "over the 200,000-byte limit"),
        ("/slow.html", "timed out after 0.5 s after 2 tries"),
        ("/private/a.html", "disallowed by the site's robots.txt"),
        ("/pages/listing_dantri.html", "a listing page"),
    ],
)
def test_each_failure_has_its_reason(site: Site, tmp_path: Path, path: str, reason: str) -> None:
    [failure] = read(site, tmp_path, path, fetch_retries=1)
    assert isinstance(failure, FileFailure)
    assert failure.source == site.base + path
    assert reason in failure.reason
    if path == "/private/a.html":
        assert site.hits[path] == 0  # never asked


def test_503_is_retried_with_backoff(site: Site, tmp_path: Path) -> None:
    waits: list[float] = []
    fetcher = Fetcher(settings(tmp_path, fetch_backoff_seconds=0.25), sleep=waits.append)
    resp = fetcher.get(site.base + "/flaky.html")
    assert resp.status == 200 and site.hits["/flaky.html"] == 2
    assert waits == [0.25]


def test_per_host_delay(site: Site, tmp_path: Path) -> None:
    waits: list[float] = []
    fetcher = Fetcher(settings(tmp_path, fetch_delay_seconds=5.0), sleep=waits.append)
    fetcher.get(site.base + "/a/1.html")
    fetcher.get(site.base + "/a/2.html")
    # robots.txt, then page 1, then page 2: each waits for the one before (a sleep was asked for).
    assert len(waits) == 2 and all(4.0 < w <= 5.0 for w in waits)


def test_unreachable_host_fails_clearly(tmp_path: Path) -> None:
    fetcher = Fetcher(settings(tmp_path, fetch_retries=0))
    with pytest.raises(FetchError, match="robots.txt could not be read .*cannot connect"):
        fetcher.get("http://127.0.0.1:9/a.html")


def test_rss_atom_and_sitemaps_ingest_their_items(site: Site, tmp_path: Path) -> None:
    docs = read(site, tmp_path, "/feed.xml", "/atom.xml", "/sitemap-index.xml")
    ok = [d.source for d in docs if isinstance(d, RawDocument)]
    assert ok == [f"{site.base}/a/{i}.html" for i in (0, 1, 2, 3, 4, 100, 101, 200, 201, 202)]
    [failure] = [d for d in docs if isinstance(d, FileFailure)]
    assert failure.source == site.base + "/missing.html" and "HTTP 404" in failure.reason


def test_listed_urls_parses_without_network() -> None:
    rss = b'<?xml version="1.0"?><rss><channel><item><link>/a/1.html</link></item><item><guid>http://x.vn/2</guid></item></channel></rss>'
    assert listed_urls(rss, "http://x.vn/feed") == ("feed", ["http://x.vn/a/1.html", "http://x.vn/2"])
    assert listed_urls(b"<html><body>trang</body></html>", "http://x.vn/") is None
    sitemap = b'<?xml version="1.0"?><urlset><url><loc>http://x.vn/a.html</loc></url></urlset>'
    assert listed_urls(gzip.compress(sitemap), "http://x.vn/sitemap.xml.gz") == ("sitemap", ["http://x.vn/a.html"])
    assert listed_urls(b"\x1f\x8b broken", "http://x.vn/s.gz") is None


def test_follow_fetches_only_new_items(site: Site, tmp_path: Path) -> None:
    """Issue 21: a feed of 200 items ingests once; a second poll fetches 0 pages (conditional GET);
    a third, after 20 new items, fetches exactly those 20."""
    site.feed_items = 200
    s = settings(tmp_path)
    feed = site.base + "/feed.xml"
    with Engine(settings=s) as eng:
        first = eng.ingest([feed], follow=True)
        assert len(first.ingested) == 200 and first.ok
        pages = sum(n for p, n in site.hits.items() if p.startswith("/a/"))
        assert pages == 200
        second = eng.ingest([feed], follow=True)
        assert second.ingested == () and second.ok
        assert sum(n for p, n in site.hits.items() if p.startswith("/a/")) == 200  # 0 pages
        assert site.hits["/feed.xml"] == 2  # answered 304
        site.feed_items = 220
        third = eng.ingest([feed], follow=True)
        assert len(third.ingested) == 20
        assert sum(n for p, n in site.hits.items() if p.startswith("/a/")) == 220
    state = json.loads((s.index_dir / STATE_FILE).read_text(encoding="utf-8"))
    assert len(state["feeds"][feed]["seen"]) == 220 and state["feeds"][feed]["etag"]


def test_without_follow_every_item_is_fetched_again(site: Site, tmp_path: Path) -> None:
    s = settings(tmp_path)
    with Engine(settings=s) as eng:
        eng.ingest([site.base + "/feed.xml"])
        again = eng.ingest([site.base + "/feed.xml"])
    assert again.ingested == () and len(again.duplicates) == 5  # fetched, but already stored
    assert site.hits["/a/0.html"] == 2


def test_failed_item_is_tried_again_on_the_next_poll(site: Site, tmp_path: Path) -> None:
    sources = Sources([site.base + "/sitemap.xml"], settings(tmp_path), follow=True)
    assert sum(isinstance(d, FileFailure) for d in sources.read()) == 1
    sources.commit()
    again = Sources([site.base + "/sitemap.xml"], settings(tmp_path), follow=True)
    assert [d.source for d in again.read()] == [site.base + "/missing.html"]


def test_state_is_written_only_on_commit(site: Site, tmp_path: Path) -> None:
    """A killed ingest (no commit) leaves no state: its items are fetched again next time."""
    s = settings(tmp_path)
    sources = Sources([site.base + "/feed.xml"], s, follow=True)
    assert len(list(sources.read())) == 5
    assert not (s.index_dir / STATE_FILE).exists()
    sources.commit()
    assert (s.index_dir / STATE_FILE).exists()


def test_cli_ingest_url_and_follow(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI keeps the default politeness (a second between requests to a host): a few requests."""
    from hoidap import cli

    site.feed_items = 1
    index = str(tmp_path / "cli-idx")
    assert cli.main(["ingest", "--index", index, site.base + "/pages/dantri.html", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["ingested"]) == 1
    assert cli.main(["ingest", "--index", index, "--follow", site.base + "/feed.xml"]) == 0
    assert cli.main(["ingest", "--index", index, "--follow", site.base + "/feed.xml"]) == 0
    assert "ingested: 0" in capsys.readouterr().out
    assert cli.main(["ingest", "--index", index, site.base + "/missing.html"]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_listing_page_refused_or_followed_with_links(site: Site, tmp_path: Path) -> None:
    [failure] = read(site, tmp_path, "/chuyen-muc.html")
    assert isinstance(failure, FileFailure) and "a listing page" in failure.reason
    s = settings(tmp_path)
    sources = Sources([site.base + "/chuyen-muc.html"], s, follow=True, links=True)
    docs = list(sources.read())
    assert [d.source for d in docs] == [f"{site.base}/a/{600 + i}.html" for i in range(16)]  # own host only
    assert all(isinstance(d, RawDocument) for d in docs)
    sources.commit()
    again = Sources([site.base + "/chuyen-muc.html"], s, follow=True, links=True)
    assert list(again.read()) == [] and site.hits["/a/600.html"] == 1  # polled: nothing new


def test_spark_engine_refuses_urls(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from hoidap import cli

    code = cli.main(["ingest", "--index", str(tmp_path / "i"), "--engine", "spark", "https://example.vn/rss"])
    assert code == 2 and "without --engine spark" in capsys.readouterr().err


@pytest.mark.parametrize(("url", "reason"), [("http://[::1/a", "not a valid URL"), ("http:///a.html", "not a valid http(s) URL")])
def test_malformed_urls_fail_clearly(tmp_path: Path, url: str, reason: str) -> None:
    [failure] = Sources([url], settings(tmp_path)).read()
    assert isinstance(failure, FileFailure) and failure.source == url and reason in failure.reason
