"""``hoidap serve``: the HTTP API and the web page, a thin layer over ``Engine``.

FastAPI on uvicorn, one process for HTTP, and worker processes for the engine:

- Reads (ask, search, documents, brief, facts) go to ``Settings.readers`` reader processes
  (one per core), each with its own ``Engine``, each answering one request at a
  time, fed from one first-come queue. Before each request a reader reloads its
  tantivy searchers if the index's ``meta.json`` files changed: tantivy commits
  after SQLite, so a searcher only ever names rows SQLite already holds, and a
  reader sees whole batches or nothing (never a half-written index).
- Ingests run as jobs (``hoidap.jobs``: ``POST /api/ingest`` answers 202, ``GET /api/jobs/{id}``
  gives progress and the per-file report) in one more process with its own writer ``Engine``,
  at ``Settings.ingest_niceness`` (0: one process's fair share of the CPU beside the readers),
  one ingest at a time (also across servers: a lock file in the index directory); the jobs
  waiting when it is free go in together (``IngestQueue``: one engine, one keyword commit and
  one reload of the readers per pass, not per job), so questions keep being answered meanwhile.
- Worker processes end when the server dies, even by ``kill -9`` (``_die_with_parent``).
- Access rules (token, read-only) in ``hoidap.auth``; metrics and the access log in ``hoidap.metrics``.

Errors are JSON ``{"status", "error", "message"}`` with the matching status code;
``hoidap.errors`` are translated here, as the CLI does for exit codes.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, replace
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hoidap import serialize
from hoidap.auth import Guard, check_bind
from hoidap.dimmer import Dimmer
from hoidap.engine import Engine
from hoidap.errors import (
    BadInputError,
    DocumentNotFoundError,
    HoidapError,
    IndexUnavailableError,
    QuestionError,
)
from hoidap.ingest.read import read_all
from hoidap.jobs import PROGRESS_SECONDS, Job, Jobs, write_progress
from hoidap.metrics import CONTENT_TYPE, Metrics, Observe
from hoidap.models import (
    Answer,
    Article,
    Briefing,
    DeleteReport,
    DocumentInfo,
    Facts,
    FileFailure,
    Filters,
    Hit,
    PreparedArticle,
    RawDocument,
)
from hoidap.qa.question import checked
from hoidap.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

WEB_DIR = Path(__file__).parent / "web"

# -- limits -------------------------------------------------------------------
# The published API's limits (the OpenAPI schema and the README state them): constants
# here, not deployment knobs; the processes and queues a deployment sizes are in Settings.
# JSON bodies: 100 questions of 1,000 characters need at most ~600 KB even when
# every character is \u-escaped; anything bigger is not a real request.
MAX_JSON_BYTES = 1024 * 1024
# Uploads: a few dozen news pages at once, or one JSONL file of a few thousand
# articles. Each file is also held to Settings.max_file_bytes (16 MiB) by ingest.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_FILES = 100
# Files of waiting upload jobs ingested together in one pass (``IngestQueue``).
COALESCE_FILES = 1000
MAX_FILENAME_BYTES = 255  # what ext4 and most file systems allow
# Questions per /api/ask request: at ~15 ms each a full batch takes a reader for
# ~1.5 s, which other clients feel; larger jobs belong to the CLI.
MAX_QUESTIONS = 100
MAX_SEARCH_K = 50
MAX_DOCS_PAGE = 1000
# A body somewhat over its limit is read and dropped before the 413, so that a
# client still sending it gets the answer instead of a reset connection.
DRAIN_BYTES = 4 * 1024 * 1024
# Facts (and briefings without a query) read every figure of their articles, ~25 ms
# an article: 200 is ~5 s; the facts of a 22,644-article collection would take minutes.
MAX_FACTS_DOCS = 200
MAX_BRIEF_SENTENCES = 50
MAX_BRIEF_WORDS = 5000

INGEST_LOCK = "ingest.lock"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class ServerBusyError(HoidapError):
    """No reader or ingest slot came free in time."""


class UploadError(HoidapError):
    """An upload request is malformed as a whole (bad file name, too many files)."""


class WorkerCrashedError(HoidapError):
    """A worker process died (killed, out of memory); it is replaced for the next request."""


# -- JSON -----------------------------------------------------------------------
def json_response(obj: Any, status: int = 200) -> Response:
    # Built directly: the engine's records are checked dataclasses already; FastAPI would
    # validate and encode them again (its encoder alone: 0.14 ms an answer, this 0.05 ms).
    body = json.dumps(serialize.plain(obj), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    return json_response({"status": status, "error": HTTPStatus(status).phrase, "message": message}, status)


# -- worker processes: they end with the server -------------------------------------
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# How often a worker checks that its parent still lives (where the parent-death signal is
# missing, or the parent died before it was set): a dead server's workers linger at most this.
PARENT_POLL_SECONDS = 1.0


def _die_with_parent() -> None:
    """End this worker when the server process ends, even by SIGKILL: the kernel's parent-death
    signal on Linux, and a thread that watches the parent's pid everywhere (the signal fires when
    the parent *thread* that started this process ends; the server starts its workers from the
    event loop's thread, which lives as long as the server, so both agree)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the server died before the signal was set
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_start(niceness: int) -> None:
    """What every worker process does first: end with the server, and take its CPU niceness."""
    _die_with_parent()
    if niceness:
        with suppress(OSError):
            os.nice(niceness)


# -- readers --------------------------------------------------------------------
# The reader process's engine and the index stamp its searchers were loaded at.
_engine: Engine | None = None
_stamp: tuple[int, ...] = ()


def _reader_init(settings: Settings, engine_class: type[Engine]) -> None:
    global _engine, _stamp
    _worker_start(settings.reader_niceness)
    # One reader process per core: each reads with one thread, so they never oversubscribe.
    _engine = engine_class(settings=replace(settings, reader_threads=1))
    _stamp = _engine.index.generation()


def _reader() -> Engine:
    """This reader process's engine, its searchers reloaded if the index committed since."""
    global _stamp
    if _engine is None:
        raise IndexUnavailableError("this process has no engine")
    stamp = _engine.index.generation()  # read before reloading: a commit in between is caught next time
    if stamp != _stamp:
        _engine.index.reload()
        _stamp = stamp
    return _engine


def read_counts() -> tuple[int, int]:
    return _reader().store.counts()


def read_answers(questions: list[str], filters: Filters | None = None,
                 read_sentences: int | None = None) -> tuple[list[Answer], float]:
    """The answers, and the seconds they took in this reader (the dimmer's measure)."""
    start = time.perf_counter()
    answers = [_reader().ask(q, filters, read_sentences) for q in questions]
    return answers, time.perf_counter() - start


def read_hits(query: str, k: int, filters: Filters | None = None) -> list[Hit]:
    return _reader().search(query, k, filters)


def read_documents(offset: int, limit: int) -> tuple[int, list[DocumentInfo]]:
    docs = _reader().documents()
    return len(docs), docs[offset: offset + limit]  # sliced here: only the page crosses processes


def read_document(doc_id: str) -> Article:
    return _reader().document(doc_id)


def _whole_collection_allowed(eng: Engine, what: str) -> None:
    n_docs = eng.store.counts()[0]
    if n_docs > MAX_FACTS_DOCS:
        raise QuestionError(f"{what} of all {n_docs} documents at once is refused (limit {MAX_FACTS_DOCS}); "
                            "give a query or a list of doc ids")


def read_brief(query: str | None, docs: list[str] | None, max_sentences: int | None,
               max_words: int | None, filters: Filters | None = None) -> Briefing:
    eng = _reader()
    if query is None and docs is None and (filters is None or filters.empty):
        _whole_collection_allowed(eng, "a briefing")
    return eng.brief(query=query, docs=docs, max_sentences=max_sentences, max_words=max_words, filters=filters)


def read_facts(docs: list[str] | None, filters: Filters | None = None) -> Facts:
    eng = _reader()
    if docs is None and (filters is None or filters.empty):
        _whole_collection_allowed(eng, "the facts")
    return eng.facts(docs=docs, filters=filters)


class Workers:
    """Worker processes fed from one first-come queue, with a bound on the work waiting."""

    def __init__(self, name: str, size: int, max_pending: int,
                 initializer: Callable[..., None], initargs: tuple[Any, ...] = ()) -> None:
        self.name, self.size, self.max_pending = name, size, max_pending
        self._init = (initializer, initargs)
        self._lock = threading.Lock()
        self._pending = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: forking a process that runs uvicorn and tantivy threads is unsafe.
        return ProcessPoolExecutor(self.size, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=self._init[0], initargs=self._init[1])

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def waiting(self) -> int:
        """Calls submitted and not yet running (at most ``size`` run at once)."""
        return max(0, self._pending - self.size)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pending >= self.max_pending:
                raise ServerBusyError(f"{self._pending} {self.name} requests are waiting; try again shortly")
            self._pending += 1
            fut: Future[T] = self._pool.submit(fn, *args)
        try:
            return await asyncio.wrap_future(fut)
        except BrokenProcessPool as e:
            log.error("a %s process died; starting new ones", self.name)
            with self._lock:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise WorkerCrashedError(f"the {self.name} process stopped unexpectedly; try again "
                                     "(an ingest keeps the batches it committed)") from e
        finally:
            with self._lock:
                self._pending -= 1

    async def start(self) -> None:
        """Start every process now (each submit while none is idle starts one), not on first use."""
        await asyncio.gather(*(self.call(os.getpid) for _ in range(self.size)))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# -- ingest ---------------------------------------------------------------------
def _ingest_init(niceness: int) -> None:
    _worker_start(niceness)


def _renamed(item: RawDocument | FileFailure, path: str, name: str) -> RawDocument | FileFailure:
    """Sources and reasons name the uploaded file, not the temporary copy."""
    if isinstance(item, FileFailure):
        return FileFailure(item.source.replace(path, name), item.reason.replace(path, name))
    return replace(item, source=item.source.replace(path, name))


Owner = tuple[int, str]  # (job index, uploaded file name) in one coalesced ingest


def _owner(source: str, owners: dict[str, Owner], names: list[Owner]) -> Owner:
    """The (job, file) a source came from: recorded when it was read, else the file whose name
    it starts with (a note names its source), the latest job's on a tie."""
    if source in owners:
        return owners[source]
    return max((o for o in names if source.startswith(o[1])), key=lambda o: (len(o[1]), o[0]), default=names[0])


def ingest_files(settings: Settings, groups: list[tuple[str, list[tuple[str, str]]]]) -> list[list[dict[str, Any]]]:
    """Ingest the files of several jobs, each (its folder, its (temporary path, uploaded name)
    pairs), in one ingest: one engine, one keyword commit, one reload of the readers for all
    of them. One report per file, in a list per job; each job's progress goes to its folder's
    progress file. Runs in the ingest process."""
    root = Path(settings.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    names: list[Owner] = [(g, name) for g, (_, files) in enumerate(groups) for _, name in files]
    owners: dict[str, Owner] = {}  # source -> (job, file), recorded as each item is read
    stored: list[tuple[str, str]] = []  # (source, doc id) of each new article, in order
    seen: dict[str, Any] = {"group": 0, "files": 0, "articles": 0, "at": 0.0, "name": None}

    def progress(force: bool = False) -> None:
        # At most every PROGRESS_SECONDS (and at each job's start and end): written for every
        # file, the progress file took a quarter of the ingest process's time (1,950 files).
        now = time.monotonic()
        if force or now - seen["at"] >= PROGRESS_SECONDS:
            seen["at"] = now
            write_progress(Path(groups[int(seen["group"])][0]), int(seen["files"]), int(seen["articles"]),
                           seen["name"])

    def items() -> Iterator[RawDocument | FileFailure]:
        for g, (_, files) in enumerate(groups):
            seen.update(group=g, articles=0)
            for i, (path, name) in enumerate(files):
                seen.update(files=i, name=name)
                progress(force=i == 0)
                for item in read_all([path], settings.max_file_bytes):
                    item = _renamed(item, path, name)
                    owners[item.source] = (g, name)
                    yield item
            # Every file of this job is read (its last articles may still be on their way to the store).
            seen.update(files=len(files), name=None)
            progress(force=True)

    def tick(_source: str) -> None:
        seen["articles"] += 1
        progress()

    def on_stored(batch: Sequence[PreparedArticle]) -> None:
        stored.extend((p.article.source, p.article.doc_id) for p in batch)

    # One ingest at a time across all server processes (each has its own ingest worker).
    # Opened per ingest: a long-lived writer could hold stale searchers if a CLI ingest ran meanwhile.
    with (root / INGEST_LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if groups and groups[0][1]:
            write_progress(Path(groups[0][0]), 0, 0, groups[0][1][0][1])
        with Engine(settings=settings) as eng:
            rep = eng.ingest_documents(items(), tick, on_stored)
    reports: dict[Owner, dict[str, Any]] = {o: {"file": o[1], "ok": True, "ingested": [], "duplicates": [],
                                                "failed": [], "notes": []} for o in names}
    for source, doc_id in stored:
        reports[_owner(source, owners, names)]["ingested"].append(doc_id)
    for source in rep.duplicates:
        reports[_owner(source, owners, names)]["duplicates"].append(source)
    for f in rep.failed:
        r = reports[_owner(f.source, owners, names)]
        r["failed"].append(asdict(f))
        r["ok"] = False
    for note in rep.notes:
        reports[_owner(note, owners, names)]["notes"].append(note)
    return [[reports[(g, name)] for _, name in files] for g, (_, files) in enumerate(groups)]


def delete_documents(settings: Settings, doc_ids: list[str]) -> DeleteReport:
    """Delete documents (``Engine.delete``), one writer at a time as ``ingest_files``. Runs in the worker."""
    root = Path(settings.index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with (root / INGEST_LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with Engine(settings=settings, create=False) as eng:
            return eng.delete(doc_ids)


def safe_filename(name: str | None) -> str:
    """The uploaded name if it is a plain file name; path traversal and odd names are refused."""
    if not name or not name.strip():
        raise UploadError("a file has no name")
    if name in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 for c in name):
        raise UploadError(f"file name {name!r} is not allowed: give a plain name, without folders")
    if len(name.encode("utf-8")) > MAX_FILENAME_BYTES:
        raise UploadError(f"file name is over {MAX_FILENAME_BYTES} bytes")
    return name


def _ingest_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [f"{f['source']}: {f['reason']}" for r in results for f in r["failed"]]
    out: dict[str, Any] = {
        "ingested": sum(len(r["ingested"]) for r in results),
        "duplicates": sum(len(r["duplicates"]) for r in results),
        "failed": len(failed), "files": results,
    }
    if failed:
        bad = sum(1 for r in results if not r["ok"])
        shown = "; ".join(failed[:3]) + ("; ..." if len(failed) > 3 else "")
        out["status"] = 422
        out["error"] = HTTPStatus(422).phrase
        out["message"] = f"{bad} of {len(results)} files had failures: {shown}"
    return out


# -- the edge: request size and page headers -----------------------------------------
async def _drain(receive: Receive) -> None:
    while (await receive()).get("more_body"):
        pass


class BodyTooLarge(StarletteHTTPException):
    # An HTTPException so that FastAPI's body parsing passes it on instead of making it a 400.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the limit of {limit // 1024} KiB")


class Edge:
    """ASGI middleware: refuse bodies over the limit (413), by header or as they stream,
    and add the web page's security headers. Pure ASGI, so bodies still stream through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = MAX_UPLOAD_BYTES if path == "/api/ingest" else MAX_JSON_BYTES
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                if int(value) <= limit + DRAIN_BYTES:
                    await _drain(receive)
                exc = BodyTooLarge(limit)
                await error_response(exc.status_code, exc.detail)(scope, receive, send)
                return
        seen = 0
        page = path == "/" or path.startswith("/static/")

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return msg

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if page:
                    headers += [(b"content-security-policy", CSP.encode()), (b"cache-control", b"no-cache")]
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, counted, with_headers)


# -- request bodies -----------------------------------------------------------------
class FilterFields(BaseModel):
    """Which articles may answer (``hoidap.models.Filters``): all of them when left out."""

    since: str | None = Field(None, description="articles dated on or after (ISO)", examples=["2021-12-14"])
    until: str | None = Field(None, description="articles dated on or before (ISO; 2021-12 = all December)")
    outlets: list[str] | None = Field(None, max_length=MAX_FACTS_DOCS, description="outlet names (any case)")

    def filters(self, docs: list[str] | None = None) -> Filters:
        return Filters(self.since, self.until, tuple(self.outlets or ()), tuple(docs or ()))


class AskRequest(FilterFields):
    model_config = ConfigDict(extra="forbid")
    docs: list[str] | None = Field(None, max_length=MAX_FACTS_DOCS, description="only these doc ids")
    questions: list[str] = Field(min_length=1, max_length=MAX_QUESTIONS, description=(
        f"1 to {MAX_QUESTIONS} questions, each at most Settings.max_question_chars characters"),
        examples=[["Việt Nam đã nhận được bao nhiêu liều vắc xin?"]])


class AskResponse(BaseModel):
    answers: list[Answer]


class SearchRequest(FilterFields):
    model_config = ConfigDict(extra="forbid")
    docs: list[str] | None = Field(None, max_length=MAX_FACTS_DOCS, description="only these doc ids")
    query: str = Field(examples=["vắc xin COVID-19"])
    k: int = Field(10, ge=1, le=MAX_SEARCH_K)


class SearchResponse(BaseModel):
    hits: list[Hit]


class BriefRequest(FilterFields):
    """The options of ``hoidap brief``; without ``query`` or ``docs``: the whole collection."""

    model_config = ConfigDict(extra="forbid")
    query: str | None = Field(None, description="brief the articles matching this topic",
                              examples=["hội nghị đối ngoại toàn quốc"])
    docs: list[str] | None = Field(None, min_length=1, max_length=MAX_FACTS_DOCS, description="these doc ids")
    max_sentences: int | None = Field(None, ge=1, le=MAX_BRIEF_SENTENCES)
    max_words: int | None = Field(None, ge=1, le=MAX_BRIEF_WORDS)


class ErrorResponse(BaseModel):
    status: int
    error: str
    message: str


class DocsPage(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentInfo]


def _check_questions(questions: list[str], max_chars: int) -> None:
    """The engine's rules, for the whole batch before any is answered."""
    for i, q in enumerate(questions, 1):
        checked(q, max_chars, f"question {i}")


# -- the app ------------------------------------------------------------------------
_STATUS = [  # most specific first
    (DocumentNotFoundError, 404), (QuestionError, 400), (UploadError, 400), (BadInputError, 422),
    (IndexUnavailableError, 503), (ServerBusyError, 503),
    (WorkerCrashedError, 500),
]


def _status_of(exc: HoidapError) -> int:
    return next((code for cls, code in _STATUS if isinstance(exc, cls)), 400)


def _validation_message(exc: RequestValidationError) -> tuple[int, str]:
    errors = exc.errors()
    for e in errors:
        if e.get("type") == "json_invalid":
            return 400, f"request body is not valid JSON ({e.get('ctx', {}).get('error', 'parse error')})"
        if tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing":
            return 422, "request body must be a JSON object, sent with Content-Type: application/json"
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
    return 422, "; ".join(parts)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 404, 413, 422, 503)
}


def create_app(settings: Settings, *, engine_class: type[Engine] = Engine) -> FastAPI:
    """The app over the index in ``settings.index_dir``; tests may pass an Engine subclass
    (defined at module level: reader processes import it by name)."""
    with engine_class(settings=settings):
        pass  # the index opens (or the error shows now, not at the first request), caught up
    reads = Workers("reader", settings.readers, settings.max_pending_reads, _reader_init, (settings, engine_class))
    ingests = Workers("ingest", 1, settings.max_pending_ingests, _ingest_init, (settings.ingest_niceness,))
    jobs, metrics = Jobs(), Metrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await reads.start()
        await ingests.start()  # started now: the first upload does not wait for a process to start
        try:
            yield
        finally:
            await asyncio.to_thread(ingests.close)
            await asyncio.to_thread(reads.close)

    app = FastAPI(title="hoidap", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Vietnamese news question answering with cited sentences. "
                              "The web page is at `/`.")
    _add_edges(app, settings, metrics)
    _add_error_handlers(app)
    _add_question_routes(app, settings, reads, ingests, metrics)
    _add_document_routes(app, settings, reads, ingests, jobs, metrics)
    _add_ops_routes(app, reads, jobs, metrics)

    # -- the web page and the API docs -------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    _mount_swagger(app)
    return app


def _add_edges(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """The middleware, innermost first: access rules (every route, one place), CORS only for
    the configured origins, the body limits and page headers, then the access log and metrics
    outermost (they see every answer, refusals included)."""
    app.add_middleware(Guard, settings=settings)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(Edge)
    app.add_middleware(Observe, metrics=metrics)


def _add_error_handlers(app: FastAPI) -> None:
    """``hoidap.errors`` and request errors as JSON ``{"status", "error", "message"}``."""
    @app.exception_handler(HoidapError)
    async def hoidap_error(_r: Request, exc: HoidapError) -> Response:
        return error_response(_status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_r: Request, exc: RequestValidationError) -> Response:
        return error_response(*_validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_r: Request, exc: StarletteHTTPException) -> Response:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal_error(_r: Request, exc: Exception) -> Response:
        log.exception("internal error")
        return error_response(500, f"internal error: {type(exc).__name__}")


def _add_question_routes(app: FastAPI, settings: Settings, reads: Workers, ingests: Workers,
                         metrics: Metrics) -> None:
    """Health, ask, search, brief and facts: answered by the reader processes."""
    budget = settings.latency_budget_ms
    dimmer = Dimmer(settings.read_sentences, settings.readers, None if budget is None else budget / 1000)

    @app.get("/healthz", tags=["status"])
    async def healthz() -> Response:
        """Liveness: the number of indexed documents and whether an ingest is running."""
        docs, sentences = await reads.call(read_counts)
        return json_response({"status": "ok", "documents": docs, "sentences": sentences,
                              "ingesting": ingests.busy, "read_only": settings.read_only,
                              "token_required": settings.token is not None})

    @app.post("/api/ask", tags=["questions"], response_model=AskResponse, responses=ERRORS)
    async def ask(body: AskRequest) -> Response:
        """Answer questions: the same objects as `hoidap ask --json` (`answer` is null when not found)."""
        _check_questions(body.questions, settings.max_question_chars)
        depth = dimmer.depth(reads.waiting)
        answers, seconds = await reads.call(read_answers, body.questions, body.filters(body.docs), depth)
        dimmer.observe(depth, seconds / max(1, len(answers)))
        found = sum(1 for a in answers if a.answer is not None)
        metrics.answered(found, len(answers) - found, dimmed=len(answers) if depth < dimmer.full else 0)
        return json_response({"answers": answers})

    @app.post("/api/search", tags=["questions"], response_model=SearchResponse, responses=ERRORS)
    async def search(body: SearchRequest) -> Response:
        """The `k` best sentences for a query, with their retrieval scores."""
        filters = body.filters(body.docs)
        return json_response({"hits": await reads.call(read_hits, body.query, body.k, filters)})

    @app.post("/api/brief", tags=["questions"], responses=ERRORS)
    async def brief(body: BriefRequest) -> Response:
        """A cited briefing, as `hoidap brief --json`: `sentences`, `figures`, `entities`, and
        `conflicts` (figures about one quantity from several sources: agree, compatible, conflict)."""
        return json_response(serialize.briefing(await reads.call(read_brief, body.query, body.docs,
                                                                 body.max_sentences, body.max_words,
                                                                 body.filters())))

    @app.get("/api/facts", tags=["questions"], responses=ERRORS)
    async def facts(
        docs: Annotated[str | None, Query(max_length=MAX_FACTS_DOCS * 40,
                                          description="comma-separated doc ids (default: all documents)")] = None,
        since: Annotated[str | None, Query(description="articles dated on or after (ISO)")] = None,
        until: Annotated[str | None, Query(description="articles dated on or before (ISO)")] = None,
        outlet: Annotated[list[str] | None, Query(description="outlet names (repeat for several)")] = None,
    ) -> Response:
        """Figures, entities and cross-source comparisons, as `hoidap facts --json`."""
        ids = [d for d in (docs or "").split(",") if d.strip()] or None
        if ids and len(ids) > MAX_FACTS_DOCS:
            raise QuestionError(f"{len(ids)} documents, over the limit of {MAX_FACTS_DOCS}")
        f = await reads.call(read_facts, ids, Filters(since, until, tuple(outlet or ())))
        return json_response(serialize.facts(f.figures, f.entities, f.conflicts))


def _add_document_routes(app: FastAPI, settings: Settings, reads: Workers, ingests: Workers, jobs: Jobs,
                         metrics: Metrics) -> None:
    """The documents (read by the readers) and uploads (ingested by the ingest process)."""
    queue = IngestQueue(settings, ingests, jobs, metrics)

    @app.get("/api/docs", tags=["documents"], response_model=DocsPage, responses=ERRORS)
    async def documents(
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_DOCS_PAGE)] = 100,
    ) -> Response:
        """Documents in ingest order (the keys of `hoidap docs --json`), a page at a time."""
        total, page = await reads.call(read_documents, offset, limit)
        return json_response({"total": total, "offset": offset, "limit": limit,
                              "documents": [serialize.document_info(d) for d in page]})

    @app.get("/api/docs/{doc_id}", tags=["documents"], responses=ERRORS)
    async def document(doc_id: str) -> Response:
        """One document as `hoidap show --json`, plus its sentences' offsets into `original_text`."""
        art = await reads.call(read_document, doc_id)
        return json_response(serialize.document_with_sentences(art))

    @app.delete("/api/docs/{doc_id}", tags=["documents"], responses=ERRORS)
    async def delete_document(doc_id: str) -> Response:
        """Delete a document (as `hoidap rm`): it is no longer cited; 404 if there is none."""
        report = await ingests.call(delete_documents, settings, [doc_id])
        if report.unknown:
            raise DocumentNotFoundError(f"no document {doc_id!r} in the index")
        return json_response({"deleted": list(report.deleted)})

    @app.post("/api/ingest", tags=["documents"], status_code=202, responses=ERRORS)
    async def ingest(
        files: Annotated[list[UploadFile], File(description=".txt, .html/.htm, .pdf, .docx or .jsonl articles")],
    ) -> Response:
        """Upload articles (multipart, field `files`, one or more): 202 with the ingest job
        (`id`, `state`, `progress`), followed at `GET /api/jobs/{id}` until its `state` is `done`
        (its `report`: one per file, as the CLI's `ingest --json`) or `failed`."""
        names = _upload_names(files)
        if jobs.active() >= settings.max_pending_ingests:
            raise ServerBusyError(f"{jobs.active()} ingest jobs are waiting; try again when one has finished")
        tmp = Path(tempfile.mkdtemp(prefix="hoidap-upload-"))
        try:
            saved = []
            for f, name in zip(files, names, strict=True):
                path = tmp / name
                with path.open("wb") as out:
                    await asyncio.to_thread(shutil.copyfileobj, f.file, out)
                saved.append((str(path), name))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        job = jobs.new(names, tmp)
        queue.submit(job, saved)
        return json_response(job.view(), 202)


def _upload_names(files: list[UploadFile]) -> list[str]:
    if len(files) > MAX_UPLOAD_FILES:
        raise UploadError(f"{len(files)} files in one upload, over the limit of {MAX_UPLOAD_FILES}")
    names = [safe_filename(f.filename) for f in files]
    if len(set(names)) < len(names):
        raise UploadError("two uploaded files have the same name")
    return names


class IngestQueue:
    """Upload jobs waiting for the ingest process. When it is free, every job waiting (up to
    ``COALESCE_FILES`` files, at least one job) goes in one ``ingest_files`` call: under a
    stream of uploads the per-ingest costs (opening the engine, the keyword commit and its
    merges, every reader reloading its searcher) are paid once per pass, not once per job."""

    def __init__(self, settings: Settings, ingests: Workers, jobs: Jobs, metrics: Metrics) -> None:
        self.settings, self.ingests, self.jobs, self.metrics = settings, ingests, jobs, metrics
        self._waiting: list[tuple[Job, list[tuple[str, str]]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, job: Job, saved: list[tuple[str, str]]) -> None:
        self._waiting.append((job, saved))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    def _take(self) -> list[tuple[Job, list[tuple[str, str]]]]:
        batch: list[tuple[Job, list[tuple[str, str]]]] = []
        files = 0
        while self._waiting and (not batch or files + len(self._waiting[0][1]) <= COALESCE_FILES):
            job, saved = self._waiting.pop(0)
            batch.append((job, saved))
            files += len(saved)
        return batch

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._take()
            try:
                results = await self.ingests.call(ingest_files, self.settings,
                                                  [(str(job.folder), saved) for job, saved in batch])
                for (job, _), reports in zip(batch, results, strict=True):
                    summary = _ingest_summary(reports)
                    self.jobs.finish(job, "done", summary, summary.get("message"))
                    self.metrics.job_finished("done")
            except HoidapError as e:  # the jobs report it; the server goes on
                for job, _ in batch:
                    self.jobs.finish(job, "failed", None, str(e))
                    self.metrics.job_finished("failed")
            except Exception as e:
                log.exception("ingest of jobs %s failed", ", ".join(job.id for job, _ in batch))
                for job, _ in batch:
                    self.jobs.finish(job, "failed", None, f"internal error: {type(e).__name__}")
                    self.metrics.job_finished("failed")
            finally:
                for job, _ in batch:
                    await asyncio.to_thread(shutil.rmtree, job.folder, True)


def _add_ops_routes(app: FastAPI, reads: Workers, jobs: Jobs, metrics: Metrics) -> None:
    """Ingest jobs and the Prometheus metrics."""
    @app.get("/api/jobs/{job_id}", tags=["documents"], responses=ERRORS)
    async def job(job_id: str) -> Response:
        """An ingest job: `state` (queued, running, done, failed), `progress` (`files_done`,
        `files_total`, `articles`, `current`), and when done its `report` (as the old synchronous
        upload's: `ingested`, `duplicates`, `failed` counts and `files`)."""
        return json_response(jobs.get(job_id).view())

    @app.get("/metrics", tags=["status"])
    async def prometheus() -> Response:
        """Prometheus text format: requests and latency by endpoint, questions answered and
        abstained, ingest jobs, documents and sentences."""
        docs, sentences = await reads.call(read_counts)
        active = jobs.counts()
        text = metrics.render({
            "hoidap_documents": ("Documents in the index.", docs),
            "hoidap_sentences": ("Sentences in the index.", sentences),
            "hoidap_ingest_jobs_queued": ("Ingest jobs waiting.", active["queued"]),
            "hoidap_ingest_jobs_running": ("Ingest jobs being ingested.", active["running"]),
        })
        return Response(text, media_type=CONTENT_TYPE)


def _mount_swagger(app: FastAPI) -> None:
    """Swagger UI at /docs from the swagger-ui-bundle package: no CDN, works offline."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="hoidap API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the server until interrupted (``hoidap serve``). Refuses a non-loopback ``host``
    without a token. The access log is ``hoidap.metrics``'s (logger ``hoidap.access``), not uvicorn's."""
    import uvicorn

    check_bind(host, settings)
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False,
                limit_concurrency=settings.max_connections, log_level="info")
