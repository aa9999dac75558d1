"""Server ingest jobs: ``POST /api/ingest`` answers 202 with a job, ``GET /api/jobs/{id}`` follows it.

The HTTP process keeps the jobs (``Jobs``); the ingest process writes each job's progress to
a small JSON file in the job's upload folder (replaced atomically), which the HTTP process
reads when asked: no shared memory or manager process between them.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hoidap.errors import DocumentNotFoundError

PROGRESS_FILE = "progress.json"
# Finished jobs remembered for GET /api/jobs/{id}; older ones are forgotten (404).
KEEP_FINISHED = 200
# The ingest process rewrites the progress file at most this often (and at each job's start and end).
PROGRESS_SECONDS = 0.5

STATES = ("queued", "running", "done", "failed")


@dataclass
class Job:
    """One upload being ingested (mutable: only the HTTP process's event loop changes it)."""

    id: str
    files: list[str]
    folder: Path
    state: str = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict[str, Any] | None = None
    message: str | None = None

    def view(self) -> dict[str, Any]:
        """The JSON of GET /api/jobs/{id}."""
        progress = {"files_total": len(self.files), "files_done": 0, "articles": 0, "current": None}
        state = self.state
        if state in ("queued", "running"):
            seen = read_progress(self.folder)
            if seen:
                state = "running"
                progress.update({k: seen[k] for k in ("files_done", "articles", "current") if k in seen})
        else:
            progress.update(files_done=len(self.files), articles=_articles(self.report))
        out: dict[str, Any] = {"id": self.id, "state": state, "progress": progress,
                               "created": self.created, "finished": self.finished,
                               "report": self.report}
        if self.message:
            out["message"] = self.message
        return out


def _articles(report: dict[str, Any] | None) -> int:
    if not report:
        return 0
    return int(report.get("ingested", 0)) + int(report.get("duplicates", 0)) + int(report.get("failed", 0))


class Jobs:
    """The server's jobs, the unfinished ones and the last ``KEEP_FINISHED`` finished ones."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, files: list[str], folder: Path) -> Job:
        job = Job(uuid.uuid4().hex, files, folder)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise DocumentNotFoundError(f"no ingest job {job_id!r} (finished jobs are kept for a while only)")
        return job

    def active(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.state in ("queued", "running"))

    def counts(self) -> dict[str, int]:
        """Unfinished jobs: queued, or running (its progress file written by the ingest process)."""
        with self._lock:
            active = [j for j in self._jobs.values() if j.state in ("queued", "running")]
        running = sum(1 for j in active if read_progress(j.folder) is not None)
        return {"queued": len(active) - running, "running": running}

    def finish(self, job: Job, state: str, report: dict[str, Any] | None, message: str | None) -> None:
        job.state, job.report, job.message, job.finished = state, report, message, time.time()
        with self._lock:
            done = [k for k, j in self._jobs.items() if j.state in ("done", "failed")]
            for k in done[: max(0, len(done) - KEEP_FINISHED)]:
                del self._jobs[k]


def write_progress(folder: Path, files_done: int, articles: int, current: str | None) -> None:
    """Called in the ingest process."""
    tmp = folder / (PROGRESS_FILE + ".tmp")
    tmp.write_text(json.dumps({"files_done": files_done, "articles": articles, "current": current},
                              ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / PROGRESS_FILE)


def read_progress(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
