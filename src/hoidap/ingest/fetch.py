"""Fetch web pages, RSS/Atom feeds and sitemaps into ``RawDocument``s, politely.

``hoidap ingest https://...`` fetches a page and extracts it like a saved page (``ingest.read``);
a feed or sitemap URL (told apart by its body, not its name) ingests the pages it lists, a sitemap
index its sitemaps' pages. ``--follow`` polls a feed again and fetches only what is new. A listing
page (homepage, category page) is refused like a saved one, or with ``--links`` read as a feed of
the articles it links to on its own host.

The fetcher (``Fetcher``) is polite:

* robots.txt (``urllib.robotparser``) is read once per host and obeyed, its Crawl-delay too; a
  robots.txt that answers 4xx allows everything and one that cannot be read (5xx, no answer)
  forbids everything, as RFC 9309 says.
* one request per ``Settings.fetch_delay_seconds`` per host;
* timeouts on connecting and on each read (``fetch_timeout_seconds``), and 4x that for a whole
  body, so a server that trickles bytes cannot hold an ingest;
* bodies over ``fetch_max_bytes`` refused (from Content-Length before reading when given);
* conditional GET: the ETag and Last-Modified of each feed and sitemap are remembered and sent
  back, so an unchanged feed costs one 304 and no page;
* retries with exponential backoff on timeouts, dropped connections, 429 and 5xx (Retry-After
  honoured up to a minute); other 4xx, redirect loops and robots.txt refusals fail at once;
* every failure is a ``FileFailure`` for that URL, with the reason, in the ingest report.

Feeds and sitemaps are parsed here with lxml (RSS ``item/link``, Atom ``entry/link@href``,
sitemap ``loc``). trafilatura's ``feeds.extract_links`` and ``sitemaps.SitemapObject`` do parse a
given body offline, but they drop every link whose host has a port (courlan's URL filter), which
rules out intranet mirrors and the tests' local server; the few lines below keep every http(s) link.
Fetching uses urllib (the standard library): trafilatura's own downloader reads no robots.txt
and keeps no ETag.

What a feed has given is remembered in the index directory (``sources.json``: per feed or sitemap
URL its ETag, Last-Modified and the item URLs already read), written atomically after the ingest
has stored the articles (``Sources.commit``), so a killed ingest fetches its items again rather
than losing them.

``source`` of a fetched article is its URL (after redirects).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from hoidap.errors import BadInputError, FetchError
from hoidap.files import atomic_write_text
from hoidap.ingest.html import page_shape
from hoidap.ingest.office import docx_text, pdf_text
from hoidap.ingest.read import checked_document, decode_bytes, read_all, read_text_bytes
from hoidap.models import FileFailure, RawDocument
from hoidap.settings import Settings

logger = logging.getLogger(__name__)

URL_PREFIXES = ("http://", "https://")
STATE_FILE = "sources.json"
STATE_VERSION = 1
# A sitemap index lists sitemaps, which could list sitemap indexes again: two levels is what
# sites use (an index of monthly sitemaps); deeper is a loop or a trap.
MAX_SITEMAP_DEPTH = 2
# A Retry-After longer than this is not waited for: the URL fails, to be tried on a later run.
MAX_RETRY_AFTER_SECONDS = 60.0
# A whole body must arrive within this many timeouts (each read already has one).
BODY_DEADLINE_TIMEOUTS = 4
READ_CHUNK = 64 * 1024
# A gzipped sitemap is unpacked up to this: the sitemap protocol's own limit (50 MB, 50,000 URLs).
GUNZIP_MAX_BYTES = 50 * 1024 * 1024
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})


def is_url(path: str | Path) -> bool:
    return isinstance(path, str) and path.lower().startswith(URL_PREFIXES)


@dataclass(frozen=True)
class Response:
    """A fetched URL: ``status`` 200 with a body, or 304 (not modified) without one."""

    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None


class _Retry(Exception):
    """A failure worth another try (timeout, dropped connection, 429, 5xx)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class Fetcher:
    """HTTP GET with robots.txt, a per-host delay, timeouts, a size limit and retries."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._sleep = sleep
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self._last_request: dict[str, float] = {}
        self._opener = urllib.request.build_opener()
        self.requests = 0  # every request sent, robots.txt included (for tests and logs)

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """Fetch ``url`` (conditionally, given a previous ETag/Last-Modified). Raises FetchError."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise FetchError(f"not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not a valid http(s) URL")
        self._check_robots(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._with_retries(url, headers)

    def _with_retries(self, url: str, headers: dict[str, str]) -> Response:
        s = self.settings
        for attempt in range(s.fetch_retries + 1):
            try:
                return self._once(url, headers)
            except _Retry as exc:
                if attempt == s.fetch_retries:
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    raise FetchError(f"{exc}{tries}") from None
                wait = s.fetch_backoff_seconds * 2**attempt
                if exc.wait is not None:
                    if exc.wait > MAX_RETRY_AFTER_SECONDS:
                        raise FetchError(f"{exc}; the server asks to wait {exc.wait:.0f} s") from None
                    wait = max(wait, exc.wait)
                logger.info("fetch %s: %s; trying again in %.1f s", url, exc, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict[str, str]) -> Response:
        s = self.settings
        host = urlsplit(url).netloc
        self._wait_turn(host)
        request = urllib.request.Request(
            url, headers={"User-Agent": s.user_agent, "Accept-Encoding": "identity", **headers}
        )
        self.requests += 1
        try:
            with self._opener.open(request, timeout=s.fetch_timeout_seconds) as resp:
                body = self._read_body(resp)
                return _response(resp.geturl(), resp.status, body, resp.headers)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return _response(url, 304, b"", exc.headers)
            if 300 <= exc.code < 400:
                raise FetchError(f"redirect loop or too many redirects (HTTP {exc.code})") from None
            if exc.code in _RETRY_STATUSES:
                raise _Retry(f"HTTP {exc.code} {exc.reason}", _retry_after(exc.headers)) from None
            raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retry(f"timed out after {s.fetch_timeout_seconds:g} s") from None
            raise _Retry(f"cannot connect: {exc.reason}") from None
        except TimeoutError:
            raise _Retry(f"timed out after {s.fetch_timeout_seconds:g} s") from None
        except (OSError, http.client.HTTPException) as exc:  # reset mid-body, a bad status line
            raise _Retry(f"connection failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._last_request[host] = time.monotonic()

    def _read_body(self, resp: Any) -> bytes:
        s = self.settings
        limit = s.fetch_max_bytes
        length = resp.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > limit:
            raise FetchError(_too_big(int(length), limit))
        deadline = time.monotonic() + BODY_DEADLINE_TIMEOUTS * s.fetch_timeout_seconds
        chunks: list[bytes] = []
        size = 0
        while chunk := resp.read(READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError(_too_big(size, limit, at_least=True))
            if time.monotonic() > deadline:
                raise _Retry(f"body not read in {BODY_DEADLINE_TIMEOUTS * s.fetch_timeout_seconds:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _wait_turn(self, host: str) -> None:
        delay = self.settings.fetch_delay_seconds
        robots = self._robots.get(host)
        if isinstance(robots, urllib.robotparser.RobotFileParser):
            crawl_delay = robots.crawl_delay(self.settings.user_agent)
            if crawl_delay is not None:
                delay = max(delay, float(crawl_delay))
        last = self._last_request.get(host)
        if last is not None and delay > 0:
            wait = last + delay - time.monotonic()
            if wait > 0:
                self._sleep(wait)

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        robots = self._robots.get(parts.netloc)
        if robots is None:
            robots = self._robots[parts.netloc] = self._read_robots(f"{parts.scheme}://{parts.netloc}")
        if isinstance(robots, str):
            raise FetchError(robots)
        if not robots.can_fetch(self.settings.user_agent, url):
            raise FetchError("disallowed by the site's robots.txt")

    def _read_robots(self, root: str) -> urllib.robotparser.RobotFileParser | str:
        """The site's rules, or the reason nothing may be fetched from it."""
        parser = urllib.robotparser.RobotFileParser(f"{root}/robots.txt")
        try:
            resp = self._with_retries(f"{root}/robots.txt", {})
        except FetchError as exc:
            reason = str(exc)
            if reason.startswith("HTTP 4"):  # RFC 9309: unavailable, so no rules
                parser.parse([])
                return parser
            return f"robots.txt could not be read ({reason}); not fetching from this site"
        parser.parse(resp.body.decode("utf-8", errors="replace").splitlines())
        return parser


def _response(url: str, status: int, body: bytes, headers: Message) -> Response:
    return Response(
        url=url,
        status=status,
        body=body,
        content_type=(headers.get_content_type() or "").lower(),
        charset=headers.get_content_charset(),
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
    )


def _retry_after(headers: Message) -> float | None:
    value = headers.get("Retry-After")
    return float(value) if value and value.strip().isdigit() else None


def _too_big(size: int, limit: int, at_least: bool = False) -> str:
    more = "over " if at_least else ""
    return f"body is {more}{size:,} bytes, over the {limit:,}-byte limit (Settings.fetch_max_bytes)"


# --- feeds and sitemaps ---------------------------------------------------------


def listed_urls(body: bytes, base: str) -> tuple[str, list[str]] | None:
    """("feed" | "sitemap" | "sitemapindex", the URLs it lists) when ``body`` is an RSS/Atom feed
    or a sitemap (gzipped too: ``sitemap.xml.gz``), else None (a page)."""
    if body.startswith(b"\x1f\x8b"):
        body = _gunzip(body)
    head = body[:2048].lstrip()
    if not head.startswith(b"<?xml") and not head.startswith((b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf")):
        return None
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    name = etree.QName(root).localname
    urls: list[str] = []
    if name in _SITEMAP_ROOTS:
        for el in root.iter("{*}loc"):
            if el.text and el.text.strip():
                urls.append(el.text.strip())
        kind = "sitemapindex" if name == "sitemapindex" else "sitemap"
    elif name in _FEED_ROOTS:
        kind = "feed"
        for item in root.iter("{*}item", "{*}entry"):
            link = _item_link(item)
            if link:
                urls.append(link)
    else:
        return None
    absolute = (urljoin(base, u) for u in urls)
    return kind, list(dict.fromkeys(u for u in absolute if u.lower().startswith(URL_PREFIXES)))


def _gunzip(data: bytes) -> bytes:
    """A gzipped body, unpacked up to GUNZIP_MAX_BYTES (a zip bomb stops there); b"" if broken."""
    unpack = zlib.decompressobj(wbits=31)
    try:
        out = unpack.decompress(data, GUNZIP_MAX_BYTES)
    except zlib.error:
        return b""
    return out


def _item_link(item: Any) -> str | None:
    for link in item.iter("{*}link"):
        href = link.get("href")
        if href and link.get("rel", "alternate") == "alternate":
            return str(href).strip()
        if link.text and link.text.strip():
            return str(link.text).strip()
    guid = next(item.iter("{*}guid"), None)
    if guid is not None and guid.text and guid.get("isPermaLink", "true") == "true":
        return str(guid.text).strip()
    return None


# --- one ingest's sources ----------------------------------------------------------


@dataclass
class _FeedState:
    etag: str | None = None
    last_modified: str | None = None
    seen: dict[str, None] = field(default_factory=dict)  # item URLs read, in order (a set that keeps it)


class Sources:
    """The inputs of one ingest: files and folders (``ingest.read``), and URLs of pages, feeds and
    sitemaps. ``read()`` yields their documents and failures; ``commit()``, called once the
    articles are stored, remembers what the feeds gave (for ``follow``)."""

    def __init__(self, paths: Sequence[str | Path], settings: Settings, follow: bool = False,
                 fetcher: Fetcher | None = None, links: bool = False) -> None:
        self.settings = settings
        self.follow = follow
        self.links = links  # a listing page given as a URL: fetch the articles it links to
        self.files = [p for p in paths if not is_url(p)]
        self.urls = [str(p) for p in paths if is_url(p)]
        self._fetcher = fetcher
        self._state_path = Path(settings.index_dir) / STATE_FILE
        self._state: dict[str, _FeedState] | None = None
        self._changed = False
        self.pages_fetched = 0  # pages (not feeds, sitemaps or robots.txt) fetched by read()

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            self._fetcher = Fetcher(self.settings)
        return self._fetcher

    def read(self) -> Iterator[RawDocument | FileFailure]:
        if self.files:
            yield from read_all(self.files, self.settings.max_file_bytes)
        for url in self.urls:
            try:
                yield from self._read_url(url)
            except Exception as exc:  # one odd URL must not stop the others (as for files)
                logger.exception("unexpected error fetching %s", url)
                yield FileFailure(url, f"unexpected error: {type(exc).__name__}: {exc}")

    def commit(self) -> None:
        """Write what the feeds gave, atomically (a temporary file renamed over the old one)."""
        if not self._changed or self._state is None:
            return
        state = {
            "version": STATE_VERSION,
            "feeds": {url: {"etag": f.etag, "last_modified": f.last_modified, "seen": list(f.seen)}
                      for url, f in self._state.items()},
        }
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._state_path, json.dumps(state, ensure_ascii=False))
        self._changed = False

    # -- reading --------------------------------------------------------------
    def _feeds(self) -> dict[str, _FeedState]:
        if self._state is None:
            self._state = {}
            try:
                raw = json.loads(self._state_path.read_text(encoding="utf-8"))
                for url, f in raw.get("feeds", {}).items():
                    self._state[url] = _FeedState(f.get("etag"), f.get("last_modified"), dict.fromkeys(f.get("seen", [])))
            except FileNotFoundError:
                pass
            except (OSError, ValueError, AttributeError) as exc:
                logger.warning("%s unreadable (%s): every feed item counts as new", self._state_path, exc)
        return self._state

    def _read_url(self, url: str) -> Iterator[RawDocument | FileFailure]:
        previous = self._feeds().get(url) if self.follow else None
        try:
            resp = self.fetcher.get(url, *((previous.etag, previous.last_modified) if previous else (None, None)))
        except FetchError as exc:
            yield FileFailure(url, str(exc))
            return
        if resp.status == 304:
            logger.info("%s: not modified since the last poll", url)
            return
        listed = listed_urls(resp.body, resp.url)
        if listed is None and self.links:
            listed = _listing_links(resp)
        if listed is None:
            self.pages_fetched += 1
            yield _page(url, resp)
            return
        kind, items = listed
        if kind == "sitemapindex":
            items, failures = self._sitemap_pages(items, depth=1)
            yield from failures
        state = self._feeds().setdefault(url, _FeedState())
        state.etag, state.last_modified = resp.etag, resp.last_modified
        self._changed = True
        for item in items:
            if self.follow and item in state.seen:
                continue
            doc = self._fetch_page(item)
            if isinstance(doc, RawDocument):
                state.seen[item] = None
            yield doc

    def _sitemap_pages(self, sitemaps: list[str], depth: int) -> tuple[list[str], list[FileFailure]]:
        pages: list[str] = []
        failures: list[FileFailure] = []
        for sitemap in sitemaps:
            try:
                resp = self.fetcher.get(sitemap)
            except FetchError as exc:
                failures.append(FileFailure(sitemap, str(exc)))
                continue
            listed = listed_urls(resp.body, resp.url)
            if listed is None or listed[0] == "feed":
                failures.append(FileFailure(sitemap, "listed in a sitemap index but not a sitemap"))
            elif listed[0] == "sitemap":
                pages.extend(listed[1])
            elif depth < MAX_SITEMAP_DEPTH:
                more, bad = self._sitemap_pages(listed[1], depth + 1)
                pages.extend(more)
                failures.extend(bad)
            else:
                failures.append(FileFailure(sitemap, f"sitemap indexes nested over {MAX_SITEMAP_DEPTH} deep"))
        return list(dict.fromkeys(pages)), failures

    def _fetch_page(self, url: str) -> RawDocument | FileFailure:
        try:
            resp = self.fetcher.get(url)
        except FetchError as exc:
            return FileFailure(url, str(exc))
        self.pages_fetched += 1
        if listed_urls(resp.body, resp.url) is not None:
            return FileFailure(url, "a feed or sitemap listed as a page; give its URL directly")
        return _page(url, resp)


def _listing_links(resp: Response) -> tuple[str, list[str]] | None:
    """("listing", its teaser links on the same host) when ``resp`` is a listing page, else None.

    With ``links``, a homepage or category page is read as a feed of the articles it links to
    (and ``follow`` then polls it for new ones)."""
    if resp.content_type not in ("text/html", "application/xhtml+xml", ""):
        return None
    try:
        html, _ = decode_bytes(resp.body)
    except BadInputError:
        return None
    shape = page_shape(html)
    if not shape.listing_reason:
        return None
    host = urlsplit(resp.url).netloc
    urls = (urljoin(resp.url, href) for href in shape.links)
    same_host = [u for u in urls if u.lower().startswith(URL_PREFIXES) and urlsplit(u).netloc == host]
    return "listing", list(dict.fromkeys(same_host))


def _page(url: str, resp: Response) -> RawDocument | FileFailure:
    """One fetched page as an article (HTML, plain text, PDF or DOCX by its Content-Type)."""
    source = resp.url or url
    try:
        kind = resp.content_type
        if kind == "application/pdf" or (not kind and source.lower().endswith(".pdf")):
            text, title, authors = pdf_text(resp.body)
            return checked_document(RawDocument(source, text, title=title, url=source, credits=authors))
        if "wordprocessingml" in kind:
            text, title, authors = docx_text(resp.body)
            return checked_document(RawDocument(source, text, title=title, url=source, credits=authors))
        body = resp.body
        if resp.charset and resp.charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            # Else decode_bytes decides from the bytes, as for a saved page.
            with contextlib.suppress(LookupError, UnicodeDecodeError):
                body = body.decode(resp.charset).encode("utf-8")
        return read_text_bytes(body, source, html=kind != "text/plain", url=source)
    except BadInputError as exc:
        return FileFailure(source, str(exc))
    except Exception as exc:  # one odd page must not stop the feed
        logger.exception("unexpected error reading %s", source)
        return FileFailure(source, f"unexpected error: {type(exc).__name__}: {exc}")
