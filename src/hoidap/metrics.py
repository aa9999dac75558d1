"""The HTTP server's operations view: Prometheus metrics and one access-log line per request.

Written by hand (the text exposition format 0.0.4 is a few lines): every request passes
through the one HTTP process, so its counters live there, and the reader processes need
no shared state (``prometheus_client``'s multi-process mode wants a directory of mmap files
that every process writes). The document counts are read from a reader at each scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("hoidap.access")

# Request latency buckets (seconds): a question takes ~10-30 ms in a reader, a briefing up to
# seconds, so the buckets run from 5 ms to 10 s (Prometheus' default spread, finer at the bottom).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    inner = ",".join(f'{k}="{esc(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Counters and latency histograms of the HTTP process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)  # (endpoint, method, status)
        self.latency: dict[str, list[int]] = {}  # endpoint -> counts per bucket (+Inf last)
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.questions: dict[str, int] = defaultdict(int)  # answered / abstained
        self.jobs: dict[str, int] = defaultdict(int)  # ingest jobs finished: done / failed

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, method, str(status))] += 1
            counts = self.latency.setdefault(endpoint, [0] * (len(BUCKETS) + 1))
            counts[bisect_left(BUCKETS, seconds)] += 1
            self.latency_sum[endpoint] += seconds

    def answered(self, answered: int, abstained: int, dimmed: int = 0) -> None:
        """Questions answered and abstained; ``dimmed`` of them read at less than the full depth
        (``hoidap.dimmer``)."""
        with self._lock:
            self.questions["answered"] += answered
            self.questions["abstained"] += abstained
            self.questions["dimmed"] += dimmed

    def job_finished(self, state: str) -> None:
        with self._lock:
            self.jobs[state] += 1

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The text format; ``gauges``: name -> (help, value), read at scrape time."""
        out: list[str] = []

        def head(name: str, kind: str, text: str) -> None:
            out.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))

        with self._lock:
            head("hoidap_http_requests_total", "counter", "HTTP requests by endpoint, method and status.")
            for (endpoint, method, status), n in sorted(self.requests.items()):
                out.append(f"hoidap_http_requests_total"
                           f"{_labels([('endpoint', endpoint), ('method', method), ('status', status)])} {n}")
            head("hoidap_http_request_seconds", "histogram", "HTTP request latency by endpoint.")
            for endpoint, counts in sorted(self.latency.items()):
                running = 0
                for bound, n in zip([*map(str, BUCKETS), "+Inf"], counts, strict=True):
                    running += n
                    out.append(f"hoidap_http_request_seconds_bucket{_labels([('endpoint', endpoint), ('le', bound)])}"
                               f" {running}")
                out.append(f"hoidap_http_request_seconds_sum{_labels([('endpoint', endpoint)])} "
                           f"{self.latency_sum[endpoint]:.6f}")
                out.append(f"hoidap_http_request_seconds_count{_labels([('endpoint', endpoint)])} {running}")
            head("hoidap_questions_total", "counter", "Questions asked, by outcome (abstained: not found).")
            for outcome in ("answered", "abstained"):
                out.append(f"hoidap_questions_total{_labels([('outcome', outcome)])} {self.questions[outcome]}")
            head("hoidap_questions_dimmed_total", "counter",
                 "Questions read at fewer sentences than the full depth while questions queued.")
            out.append(f"hoidap_questions_dimmed_total {self.questions['dimmed']}")
            head("hoidap_ingest_jobs_total", "counter", "Ingest jobs finished, by state.")
            for state in ("done", "failed"):
                out.append(f"hoidap_ingest_jobs_total{_labels([('state', state)])} {self.jobs[state]}")
        for name, (text, value) in gauges.items():
            head(name, "gauge", text)
            out.append(f"{name} {value:g}")
        return "\n".join(out) + "\n"


def endpoint_of(scope: Scope) -> str:
    """The route's template (``/api/docs/{doc_id}``), never the raw path: bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return "/static" if str(scope.get("path", "")).startswith("/static/") else "other"


class Observe:
    """ASGI middleware (outermost): one access-log line and the request metrics per request.
    The line holds method, path, status and milliseconds: never headers or the query string,
    so never a token."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sent(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, sent)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.observe(endpoint_of(scope), scope["method"], status, seconds)
            access_log.info("%s %s %d %.1f ms", scope["method"], scope["path"], status, seconds * 1000)
