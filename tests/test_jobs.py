"""hoidap.jobs: the server's ingest jobs and their progress files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoidap.errors import DocumentNotFoundError
from hoidap.jobs import KEEP_FINISHED, Jobs, write_progress


def test_job_states_follow_the_progress_file(tmp_path: Path) -> None:
    jobs = Jobs()
    job = jobs.new(["a.txt", "b.jsonl"], tmp_path)
    view = job.view()
    assert view["state"] == "queued" and view["progress"]["files_total"] == 2 and view["report"] is None
    assert jobs.counts() == {"queued": 1, "running": 0}
    write_progress(tmp_path, 1, 40, "b.jsonl")  # written by the ingest process
    view = jobs.get(job.id).view()
    assert view["state"] == "running" and view["progress"]["files_done"] == 1 and view["progress"]["articles"] == 40
    assert jobs.counts() == {"queued": 0, "running": 1}
    jobs.finish(job, "done", {"ingested": 41, "duplicates": 1, "failed": 0, "files": []}, None)
    view = job.view()
    assert view["state"] == "done" and view["progress"]["files_done"] == 2 and view["progress"]["articles"] == 42
    assert jobs.active() == 0


def test_unknown_and_forgotten_jobs_are_404(tmp_path: Path) -> None:
    jobs = Jobs()
    with pytest.raises(DocumentNotFoundError, match="no ingest job"):
        jobs.get("nope")
    first = jobs.new(["a.txt"], tmp_path)
    jobs.finish(first, "failed", None, "the ingest process stopped unexpectedly")
    assert first.view()["message"].startswith("the ingest process")
    for _ in range(KEEP_FINISHED):
        jobs.finish(jobs.new(["a.txt"], tmp_path), "done", {}, None)
    with pytest.raises(DocumentNotFoundError):
        jobs.get(first.id)  # the oldest finished job is forgotten: memory stays bounded
