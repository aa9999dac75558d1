"""The HTTP API: a real uvicorn server on 127.0.0.1, driven with urllib."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from hoidap.settings import Settings

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from hoidap.server import MAX_JSON_BYTES, MAX_QUESTIONS, create_app, safe_filename  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = EXAMPLES / "corpus"


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread, on a free port of 127.0.0.1; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def call(base: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request; returns (status, parsed JSON body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, content in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def post_upload(base: str, files: list[tuple[str, bytes]], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    body, ctype = multipart(files)
    return call(base, "POST", "/api/ingest", raw=body, headers={"Content-Type": ctype, **(headers or {})})


SEEN_JOB_VIEWS: list[dict[str, Any]] = []  # every job view polled, for the progress test


def wait_job(base: str, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Poll GET /api/jobs/{id} until the job is done or failed; its last view."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, job = call(base, "GET", f"/api/jobs/{job_id}", headers=headers)
        assert status == 200 and job["id"] == job_id, job
        SEEN_JOB_VIEWS.append(job)
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def upload(base: str, files: list[tuple[str, bytes]], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Upload and wait for the job: (the status the report stands for, the report), as the
    synchronous upload answered before jobs; a refused upload: (its status, the error)."""
    status, out = post_upload(base, files, headers)
    if status != 202:
        return status, out
    assert out["state"] == "queued" and out["progress"]["files_total"] == len(files), out
    job = wait_job(base, out["id"], headers)
    assert job["state"] == "done", job
    return job["report"].get("status", 200), job["report"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a fresh index holding examples/corpus, uploaded through the API."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("served"))
    with running(create_app(settings)) as url:
        files = sorted(CORPUS.iterdir())
        status, report = upload(url, [(p.name, p.read_bytes()) for p in files])
        assert status == 200, report
        assert [f["file"] for f in report["files"]] == [p.name for p in files]
        assert report["failed"] == 0 and report["ingested"] >= len(files)
        yield url


def test_healthz_and_docs(base: str) -> None:
    status, health = call(base, "GET", "/healthz")
    assert status == 200 and health["status"] == "ok" and health["documents"] >= 7
    status, page = call(base, "GET", "/api/docs?limit=2")
    assert status == 200 and page["total"] == health["documents"] and len(page["documents"]) == 2
    doc = page["documents"][0]
    assert set(doc) == {"doc_id", "source", "title", "date", "outlet", "n_sentences", "questions"}
    assert doc["source"].startswith("01_")  # the uploaded name, not a temporary path
    status, full = call(base, "GET", f"/api/docs/{doc['doc_id']}")
    assert status == 200 and {"original_text", "clean_text", "sentences"} <= set(full)
    s = full["sentences"][0]
    assert full["original_text"][s["start"]: s["end"]].strip()
    assert call(base, "GET", "/api/docs/0000nothere")[0] == 404


def test_ask_returns_cli_objects_with_exact_citations(base: str) -> None:
    questions = [line for line in (EXAMPLES / "questions.txt").read_text(encoding="utf-8").splitlines() if line]
    status, out = call(base, "POST", "/api/ask", {"questions": questions})
    assert status == 200 and len(out["answers"]) == len(questions)
    for a in out["answers"]:
        assert set(a) >= {"question", "answer", "confidence", "citations", "kind"}
        for c in a["citations"]:
            _, doc = call(base, "GET", f"/api/docs/{c['doc_id']}")
            assert doc["original_text"][c["start"]: c["end"]] == c["sentence"]
    assert out["answers"][0]["answer"] is not None
    assert out["answers"][-1]["answer"] is None  # the gold price is in none of the articles


def test_search(base: str) -> None:
    status, out = call(base, "POST", "/api/search", {"query": "vắc xin", "k": 3})
    assert status == 200 and 0 < len(out["hits"]) <= 3
    assert {"doc_id", "start", "end", "text", "score"} <= set(out["hits"][0])


def test_upload_reports_each_file(base: str) -> None:
    new = "Bài mới: Hội thảo về nông nghiệp xanh diễn ra tại Cần Thơ ngày 3/3/2022 với 300 đại biểu tham dự."
    status, out = upload(base, [
        ("moi.txt", new.encode()),
        ("01_lap-lai.txt", (CORPUS / "01_bao-tin-nhanh_doi-ngoai-tien-phong.txt").read_bytes()),
        ("hong.txt", bytes(range(256)) * 8),
        ("anh.pdf", b"%PDF-1.4"),
    ])
    assert status == 422, out
    by_file = {f["file"]: f for f in out["files"]}
    assert len(by_file["moi.txt"]["ingested"]) == 1 and by_file["moi.txt"]["ok"]
    assert by_file["01_lap-lai.txt"]["duplicates"] == ["01_lap-lai.txt"]
    assert "binary" in by_file["hong.txt"]["failed"][0]["reason"]
    assert "not a readable PDF" in by_file["anh.pdf"]["failed"][0]["reason"]
    assert "2 of 4 files had failures" in out["message"]
    assert "/tmp" not in json.dumps(out)  # temporary paths never leak
    _, hits = call(base, "POST", "/api/search", {"query": "nông nghiệp xanh Cần Thơ", "k": 1})
    assert hits["hits"][0]["doc_id"] == by_file["moi.txt"]["ingested"][0]


BAD_REQUESTS = [  # (name, method, path, body kwargs, status, words of the message)
    ("invalid JSON", "POST", "/api/ask", {"raw": b'{"questions": [', "headers": {"Content-Type": "application/json"}},
     400, "not valid JSON"),
    ("not a JSON object", "POST", "/api/ask", {"raw": b'["a?"]', "headers": {"Content-Type": "application/json"}},
     422, "must be a JSON object"),
    ("no questions field", "POST", "/api/ask", {"body": {"q": "a?"}}, 422, "questions: Field required"),
    ("empty question", "POST", "/api/ask", {"body": {"questions": ["   "]}}, 400, "question 1 is empty"),
    ("100 KB question", "POST", "/api/ask", {"body": {"questions": ["a" * 100_000]}}, 400,
     "100000 characters, over the limit"),
    ("10,000 questions", "POST", "/api/ask", {"body": {"questions": ["Ai?"] * 10_000}}, 422,
     f"at most {MAX_QUESTIONS} items"),
    ("body over 1 MiB", "POST", "/api/ask", {"body": {"questions": ["a" * (MAX_JSON_BYTES + 10)]}}, 413,
     "over the limit of 1024 KiB"),
    ("search k too big", "POST", "/api/search", {"body": {"query": "a", "k": 10_000}}, 422, "k: Input should be"),
    ("unknown document", "GET", "/api/docs/nope", {}, 404, "no document 'nope'"),
    ("unknown route", "GET", "/api/nope", {}, 404, "Not Found"),
    ("unknown ingest job", "GET", "/api/jobs/nope", {}, 404, "no ingest job 'nope'"),
    ("wrong method", "DELETE", "/api/ask", {}, 405, "Method Not Allowed"),
]


@pytest.mark.parametrize(("name", "method", "path", "kwargs", "status", "words"), BAD_REQUESTS,
                         ids=[b[0] for b in BAD_REQUESTS])
def test_bad_requests_get_clear_4xx(base: str, name: str, method: str, path: str, kwargs: dict[str, Any],
                                     status: int, words: str) -> None:
    got, out = call(base, method, path, kwargs.get("body"), raw=kwargs.get("raw"), headers=kwargs.get("headers"))
    assert (got, out["status"]) == (status, status), out
    assert words in out["message"] and out["error"]
    assert call(base, "GET", "/healthz")[0] == 200  # and the server keeps serving


def test_bad_uploads_get_clear_4xx(base: str) -> None:
    status, out = upload(base, [("cu.txt", "Hà Nội".encode("utf-16-le") + b"\x00" * 20)])
    assert status == 422 and "cu.txt" in out["message"] and "binary" in out["message"]
    tcvn3 = "Hµ Néi lµ thñ ®« cña ViÖt Nam, n¬i diÔn ra héi nghÞ ®èi ngo¹i".encode("latin-1")
    status, out = upload(base, [("tcvn3.txt", tcvn3)])
    assert status == 422 and "not UTF-8" in out["message"], out
    status, out = upload(base, [("../../etc/passwd", b"x")])
    assert status == 400 and "not allowed" in out["message"]
    status, out = upload(base, [("a.txt", b"x"), ("a.txt", b"y")])
    assert status == 400 and "same name" in out["message"]
    status, out = call(base, "POST", "/api/ingest", raw=b"", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert status in (400, 422) and out["message"]
    assert call(base, "GET", "/healthz")[0] == 200


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", "..", "a\\b.txt", "", "x\x00.txt", "é" * 200])
def test_unsafe_file_names_are_refused(name: str) -> None:
    from hoidap.server import UploadError

    with pytest.raises(UploadError):
        safe_filename(name)
    assert safe_filename("bài báo (1).txt") == "bài báo (1).txt"


def test_brief_and_facts(base: str) -> None:
    status, out = call(base, "POST", "/api/brief", {"query": "quan hệ ngoại giao", "max_sentences": 3})
    assert status == 200 and 0 < len(out["sentences"]) <= 3, out
    assert {"figures", "entities", "conflicts"} <= set(out)
    for c in out["conflicts"]:
        assert c["label"] in {"agree", "compatible", "conflict"} and c["members"]
    _, page = call(base, "GET", "/api/docs?limit=2")
    ids = ",".join(d["doc_id"] for d in page["documents"])
    status, facts = call(base, "GET", f"/api/facts?docs={ids}")
    assert status == 200 and {f["citation"]["doc_id"] for f in facts["figures"]} <= set(ids.split(","))
    assert call(base, "GET", "/api/facts?docs=nope")[0] == 404
    assert call(base, "GET", "/api/facts?docs=" + ",".join(["x"] * 201))[0] == 400
    assert call(base, "POST", "/api/brief", {"query": "  "})[0] == 400
    assert call(base, "POST", "/api/brief", {"max_sentences": 0})[0] == 422


def test_openapi_and_page_are_served_offline(base: str) -> None:
    with urllib.request.urlopen(base + "/docs") as res:
        html = res.read().decode()
    assert "/docs-assets/swagger-ui-bundle.js" in html and "cdn." not in html
    status, spec = call(base, "GET", "/openapi.json")
    assert status == 200 and {"/api/ask", "/api/ingest", "/api/docs/{doc_id}", "/healthz"} <= set(spec["paths"])
    with urllib.request.urlopen(base + "/") as res:
        page = res.read().decode("utf-8")
        assert "default-src 'self'" in res.headers["Content-Security-Policy"]
    assert '<html lang="vi">' in page and "Tải bài lên" in page
    for name in ("app.js", "style.css"):
        with urllib.request.urlopen(f"{base}/static/{name}") as res:
            text = res.read().decode("utf-8")
        # No outside resources: the only URL is the SVG namespace.
        assert "://" not in text.replace("http://www.w3.org/2000/svg", ""), name


def test_reads_are_answered_during_an_ingest(base: str) -> None:
    """An ingest of 300 articles runs while questions keep coming; every one is answered,
    and every citation resolves to a stored document (no half-written index)."""
    lines = [json.dumps({"title": f"Bản tin số {i}",
                         "text": f"Bản tin số {i}: tỉnh Lạng Sơn ghi nhận {1000 + i} lượt khách du lịch "
                                 f"trong tuần thứ {i}, tăng so với tuần trước. "
                                 f"Sở Du lịch cho biết mã chương trình là LS{i:04d}."}, ensure_ascii=False)
             for i in range(300)]
    result: dict[str, Any] = {}

    def ingest() -> None:
        result["upload"] = upload(base, [("ban-tin.jsonl", "\n".join(lines).encode())])

    t = threading.Thread(target=ingest)
    t.start()
    answered = 0
    while t.is_alive() or answered < 5:
        status, out = call(base, "POST", "/api/ask", {"questions": ["Lạng Sơn ghi nhận bao nhiêu lượt khách du lịch?"]})
        assert status == 200, out
        for c in out["answers"][0]["citations"]:
            got, doc = call(base, "GET", f"/api/docs/{c['doc_id']}")
            assert got == 200 and doc["original_text"][c["start"]: c["end"]] == c["sentence"]
        answered += 1
    t.join()
    status, report = result["upload"]
    assert status == 200 and report["ingested"] == 300, report
    # The job showed its progress while it ran: the file being read, articles counted.
    # Only this upload's job: the list also holds the views of other tests' jobs (a flake when
    # an earlier one-file job was polled while running).
    job_id = SEEN_JOB_VIEWS[-1]["id"]
    views = [v for v in SEEN_JOB_VIEWS if v["id"] == job_id and v["state"] == "running"]
    assert views and all(v["progress"]["current"] in ("ban-tin.jsonl", None) for v in views), SEEN_JOB_VIEWS[-3:]
    assert SEEN_JOB_VIEWS[-1]["progress"] == {"files_total": 1, "files_done": 1, "articles": 300, "current": None}
    _, hits = call(base, "POST", "/api/search", {"query": "LS0299", "k": 1})
    assert "LS0299" in hits["hits"][0]["text"]


def test_cli_serve_has_help_and_example() -> None:
    out = subprocess.run([sys.executable, "-m", "hoidap.cli", "serve", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--port" in out and "Example" in out


@pytest.mark.slow
def test_load_short(tmp_path: Path) -> None:
    """benchmarks/load_test.py, shortened: 2,000 articles, 5 clients, 10 s, 300 files uploaded meanwhile.
    It checks that nothing fails; the latency and upload targets are the benchmark's to measure
    (a timed bound here failed on a busy machine, not on a slow server)."""
    from .conftest import EVAL, need

    need(EVAL / "vietnews_test.jsonl.xz")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_test.py"), "--articles", "2000", "--clients", "5",
         "--seconds", "10", "--files", "300", "--max-upload-ratio", "10", "--max-p99-ms", "10000",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed requests: 0" in proc.stdout


def test_delete_document_route(tmp_path: Path) -> None:
    with running(create_app(Settings(index_dir=tmp_path / "idx"))) as url:
        files = sorted(CORPUS.iterdir())[:2]
        status, report = upload(url, [(p.name, p.read_bytes()) for p in files])
        assert status == 200, report
        _, page = call(url, "GET", "/api/docs")
        doc_id = page["documents"][0]["doc_id"]
        status, out = call(url, "DELETE", f"/api/docs/{doc_id}")
        assert status == 200 and out == {"deleted": [doc_id]}
        assert call(url, "GET", f"/api/docs/{doc_id}")[0] == 404
        status, out = call(url, "DELETE", f"/api/docs/{doc_id}")
        assert status == 404 and doc_id in out["message"]
        _, page = call(url, "GET", "/api/docs")
        assert doc_id not in [d["doc_id"] for d in page["documents"]] and page["total"] == report["ingested"] - 1
        _, hits = call(url, "POST", "/api/search", {"query": "Việt Nam quan hệ ngoại giao", "k": 50})
        assert all(h["doc_id"] != doc_id for h in hits["hits"])


def test_filter_fields_restrict_ask_search_brief_and_facts(base: str) -> None:
    _, page = call(base, "GET", "/api/docs?limit=1000")
    vaccine = next(d for d in page["documents"] if d["outlet"] == "Trang tin Sức Khỏe Cộng Đồng")
    q = "Việt Nam đã nhận được bao nhiêu liều vắc xin?"
    status, out = call(base, "POST", "/api/ask", {"questions": [q], "outlets": ["trang tin sức khỏe cộng đồng"]})
    assert status == 200 and {c["doc_id"] for c in out["answers"][0]["citations"]} == {vaccine["doc_id"]}
    status, out = call(base, "POST", "/api/ask", {"questions": [q], "since": "2030-01-01"})
    assert status == 200 and out["answers"][0]["answer"] is None and out["answers"][0]["citations"] == []
    status, out = call(base, "POST", "/api/search", {"query": "vắc xin", "docs": [vaccine["doc_id"]]})
    assert status == 200 and out["hits"] and {h["doc_id"] for h in out["hits"]} == {vaccine["doc_id"]}
    status, out = call(base, "POST", "/api/brief", {"until": "2021-11"})
    assert status == 200 and {c["outlet"] for s in out["sentences"] for c in s["citations"]} == {"Báo Thời Tiết Nhanh"}
    status, out = call(base, "GET", "/api/facts?since=2021-12-15&until=2021-12-15")
    assert status == 200 and {f["citation"]["date"][:10] for f in out["figures"]} == {"2021-12-15"}
    status, out = call(base, "POST", "/api/ask", {"questions": [q], "since": "15/12/2021"})
    assert status == 400 and "ISO date" in out["message"]


# -- access rules, metrics, process life ----------------------------------------------
TOKEN = "test-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ALLOWED_ORIGIN = "http://allowed.test"


def raw_status(base: str, method: str, path: str, headers: dict[str, str] | None = None,
               body: bytes | None = None) -> tuple[int, dict[str, str]]:
    """One request with the path sent exactly as written (no client normalisation)."""
    import http.client

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        res = conn.getresponse()
        res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A server with a token and one CORS origin, over a small index."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("guarded"), readers=1, token=TOKEN,
                        cors_origins=(ALLOWED_ORIGIN,))
    app = create_app(settings)
    with running(app) as url:
        status, report = upload(url, [(p.name, p.read_bytes()) for p in sorted(CORPUS.iterdir())[:2]], BEARER)
        assert status == 200, report
        yield url, app


def _routes(app: Any) -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute

    return [(m, r.path.replace("{", "").replace("}", "")) for r in app.routes if isinstance(r, APIRoute)
            for m in sorted(r.methods)]


def test_every_non_get_route_requires_the_token(guarded: tuple[str, Any]) -> None:
    """Each route but the open ones (page, docs, /healthz) answers 401 without the token, with a
    wrong one, or with another scheme; every non-GET route is a write for --read-only unless it
    is one of the read POSTs (so a DELETE route added later is covered by both rules)."""
    from hoidap.auth import READ_POSTS, is_open, is_write

    base, app = guarded
    routes = _routes(app)
    assert ("POST", "/api/ingest") in routes
    for method, path in routes:
        if is_open(method, path):
            assert method == "GET" and not path.startswith("/api/"), path
            continue
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": TOKEN}, {"X-Api-Key": TOKEN}):
            status, h = raw_status(base, method, path, headers)
            assert status == 401, (method, path, headers, status)
            assert h["www-authenticate"].startswith("Bearer")
        if method != "GET":
            assert is_write(method, path) == (path not in READ_POSTS)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/ingest"), ("POST", f"/api/ingest?token={TOKEN}"), ("POST", f"/api/ingest?access_token={TOKEN}"),
    ("POST", "/api/ingest/"), ("POST", "//api/ingest"), ("POST", "/api/%69ngest"), ("POST", "/api%2Fingest"),
    ("POST", "/static/../api/ingest"), ("POST", "/./api/ingest"), ("HEAD", "/api/ingest"), ("OPTIONS", "/api/ingest"),
    ("GET", "/api/jobs/x"), ("GET", "/metrics"), ("DELETE", "/api/docs/x"), ("GET", "/api/docs/"),
])
def test_token_bypasses_are_refused(guarded: tuple[str, Any], method: str, path: str) -> None:
    base, _ = guarded
    body, ctype = multipart([("x.txt", "Bài thử: Hà Nội có mưa lớn ngày 1/1/2022.".encode())])
    status, _ = raw_status(base, method, path, {"Content-Type": ctype}, body)
    assert status == 401, (method, path, status)
    _, health = call(base, "GET", "/healthz")  # open, and shows nothing was ingested
    assert health["token_required"] and not health["ingesting"]
    _, page = call(base, "GET", "/api/docs", headers=BEARER)
    assert "x.txt" not in {d["source"] for d in page["documents"]}


def test_right_token_uploads_and_cors_only_for_its_origin(guarded: tuple[str, Any], base: str) -> None:
    url, _ = guarded
    status, report = upload(url, [("moi.txt", ("Bài mới: Hội thảo về du lịch xanh diễn ra tại Đà Nẵng ngày 2/2/2022 "
                                                          "với 500 đại biểu tham dự.").encode())],
                            {"authorization": f"bearer {TOKEN}"})
    assert status == 200 and report["ingested"] == 1, report
    assert raw_status(url, "GET", "/api/docs", {**BEARER, "Origin": "http://evil.test"})[1].get(
        "access-control-allow-origin") is None
    assert raw_status(url, "GET", "/api/docs", {**BEARER, "Origin": ALLOWED_ORIGIN})[1][
        "access-control-allow-origin"] == ALLOWED_ORIGIN
    pre = raw_status(url, "OPTIONS", "/api/ask", {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "authorization"})
    assert pre[0] == 200 and pre[1]["access-control-allow-origin"] == ALLOWED_ORIGIN
    # CORS is closed by default: the unguarded test server never sends the header.
    for path in ("/api/docs", "/healthz", "/"):
        assert "access-control-allow-origin" not in raw_status(base, "GET", path, {"Origin": "http://evil.test"})[1]
    assert raw_status(base, "OPTIONS", "/api/ask", {"Origin": "http://evil.test",
                                                    "Access-Control-Request-Method": "POST"})[0] == 405


def test_read_only_serves_questions_only(tmp_path: Path) -> None:
    from hoidap.engine import Engine

    with Engine(tmp_path) as eng:
        eng.ingest([CORPUS])
    with running(create_app(Settings(index_dir=tmp_path, readers=1, read_only=True))) as url:
        status, out = upload(url, [("a.txt", "Tin: Huế có mưa lớn.".encode())])
        assert status == 403 and out["status"] == 403 and "read-only" in out["message"]
        assert call(url, "DELETE", "/api/docs/abc")[0] == 403
        status, out = call(url, "POST", "/api/ask", {"questions": ["Việt Nam đã nhận được bao nhiêu liều vắc xin?"]})
        assert status == 200 and out["answers"][0]["answer"]
        assert call(url, "GET", "/healthz")[1]["read_only"] is True


def test_metrics_and_access_log(base: str, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="hoidap.access"):
        call(base, "POST", "/api/ask", {"questions": ["Việt Nam đã nhận được bao nhiêu liều vắc xin?",
                                                      "Giá vàng SJC hôm nay bao nhiêu một lượng?"]})
        call(base, "GET", "/api/docs/nope?secret=abc")
    lines = [r.getMessage() for r in caplog.records if r.name == "hoidap.access"]
    assert any(re_match(r"POST /api/ask 200 \d+\.\d ms", line) for line in lines), lines
    assert any(line.startswith("GET /api/docs/nope 404") for line in lines)
    assert not any("secret" in line for line in lines)  # no query strings (tokens) in the log
    with urllib.request.urlopen(base + "/metrics") as res:
        assert res.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = res.read().decode()
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert values['hoidap_http_requests_total{endpoint="/api/ask",method="POST",status="200"}'] >= 1
    assert values['hoidap_http_requests_total{endpoint="/api/docs/{doc_id}",method="GET",status="404"}'] >= 1
    assert values['hoidap_http_request_seconds_count{endpoint="/api/ask"}'] >= 1
    assert values['hoidap_http_request_seconds_bucket{endpoint="/api/ask",le="+Inf"}'] >= 1
    assert values['hoidap_questions_total{outcome="answered"}'] >= 1
    assert values['hoidap_questions_total{outcome="abstained"}'] >= 1
    assert values['hoidap_ingest_jobs_total{state="done"}'] >= 1
    assert values["hoidap_documents"] >= 7 and values["hoidap_sentences"] > values["hoidap_documents"]


def test_questions_are_read_at_fewer_sentences_when_they_would_overrun_the_budget(tmp_path: Path) -> None:
    """The dimmer (``hoidap.dimmer``): with a budget no reading fits, questions asked while others
    queue are read at the full depth until that depth has a cost, then at each smaller one, and
    still get their answers; one asked of an idle server is read fully."""
    from hoidap.engine import Engine

    with Engine(tmp_path) as eng:
        eng.ingest([CORPUS])
    settings = Settings(index_dir=tmp_path, readers=1, read_sentences=3, latency_budget_ms=0.001)
    question = {"questions": ["Việt Nam đã nhận được bao nhiêu liều vắc xin?"]}
    with running(create_app(settings)) as url:
        status, out = call(url, "POST", "/api/ask", question)  # alone: read fully
        assert status == 200 and out["answers"][0]["answer"]
        with ThreadPoolExecutor(8) as pool:  # eight at once: most of them find others queued
            for status, out in pool.map(lambda _: call(url, "POST", "/api/ask", question), range(8)):
                assert status == 200 and out["answers"][0]["answer"]
        with urllib.request.urlopen(url + "/metrics") as res:
            text = res.read().decode()
    dimmed = next(int(line.split()[-1]) for line in text.splitlines() if line.startswith("hoidap_questions_dimmed_total "))
    assert 1 <= dimmed <= 8


def re_match(pattern: str, text: str) -> bool:
    import re

    return re.fullmatch(pattern, text) is not None


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        out |= kids
        todo.extend(kids)
    return out


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads processes from /proc")
def test_kill_9_of_serve_leaves_no_orphan_readers(tmp_path: Path) -> None:
    """``kill -9`` of a real ``hoidap serve``: its reader and ingest processes end too."""
    import os
    import signal

    from hoidap.engine import Engine

    with Engine(tmp_path / "idx") as eng:
        eng.ingest([CORPUS])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([sys.executable, "-m", "hoidap.cli", "serve", "--index", str(tmp_path / "idx"),
                             "--port", str(port), "--readers", "2", "--reader-niceness", "3"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if call(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        # An upload starts the ingest process too.
        assert upload(base, [("b.txt", "Bài mới: Hội thảo về nông nghiệp xanh diễn ra tại Cần Thơ ngày 3/3/2022 với 300 đại biểu tham dự.".encode())])[0] == 200
        workers = _children(proc.pid)
        assert len(workers) >= 3, workers  # 2 readers, the ingest process (and multiprocessing's helper)
        # --reader-niceness: the two readers run 3 below the server, the ingest process at its level.
        nice = sorted(_niceness(p) - _niceness(proc.pid) for p in workers)
        assert nice.count(3) == 2 and nice.count(0) >= 1, nice
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 15
        while (left := {p for p in workers if _alive(p)}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"orphans left: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in _children(proc.pid):
            with suppress(OSError):
                os.kill(p, signal.SIGKILL)


# -- waiting upload jobs ingested together ------------------------------------------------
def test_waiting_jobs_are_ingested_in_one_pass_with_a_report_each(tmp_path: Path) -> None:
    """Two jobs (one uploading a file whose name the other also uses) in one ``ingest_files``
    call: every file reported under its own job, a bad file failing only itself."""
    from hoidap.engine import Engine
    from hoidap.server import ingest_files

    texts = sorted(CORPUS.glob("*.txt"))[:3]
    groups = []
    for g, (names, sources) in enumerate(((["a.txt", "b.txt"], texts[:2]), (["a.txt", "hong.pdf"], texts[2:3]))):
        folder = tmp_path / f"job{g}"
        folder.mkdir()
        files = []
        for name, src in zip(names, [*sources, None], strict=False):
            path = folder / name
            path.write_bytes(src.read_bytes() if src else b"%PDF-1.4 not really")
            files.append((str(path), name))
        groups.append((str(folder), files))
    settings = Settings(index_dir=tmp_path / "idx")
    first, second = ingest_files(settings, groups)
    assert [r["file"] for r in first] == ["a.txt", "b.txt"] and [r["file"] for r in second] == ["a.txt", "hong.pdf"]
    assert len(first[1]["ingested"]) == 1 and len(second[0]["ingested"]) == 1
    assert not second[1]["ok"] and second[1]["failed"] and not second[1]["ingested"]
    with Engine(settings=settings) as eng:
        # the second job's a.txt is a new version of the first's: it replaced it in the same pass
        assert {d.doc_id for d in eng.documents()} == {first[1]["ingested"][0], second[0]["ingested"][0]}
    for folder, _ in groups:
        assert json.loads((Path(folder) / "progress.json").read_text())["files_done"] == 2


def test_progress_is_written_per_interval_not_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written before every file, the progress file took a quarter of the ingest process's time;
    it is written at a job's start and end and at most every PROGRESS_SECONDS between."""
    from hoidap import server

    writes: list[tuple[int, int]] = []
    real = server.write_progress
    monkeypatch.setattr(server, "write_progress",
                        lambda folder, done, articles, current: (writes.append((done, articles)),
                                                                 real(folder, done, articles, current)))
    folder = tmp_path / "job"
    folder.mkdir()
    files = []
    for i in range(40):
        path = folder / f"tin-{i}.txt"
        path.write_text(f"Tin số {i}\n\nHội thảo lần thứ {i} về nông nghiệp xanh diễn ra tại Cần Thơ "
                        f"với {100 + i} đại biểu tham dự.", encoding="utf-8")
        files.append((str(path), path.name))
    [reports] = server.ingest_files(Settings(index_dir=tmp_path / "idx"), [(str(folder), files)])
    assert sum(len(r["ingested"]) for r in reports) == 40
    assert 2 <= len(writes) < 10, writes
    assert json.loads((folder / "progress.json").read_text())["files_done"] == 40


def test_the_queue_takes_every_waiting_job_up_to_the_file_limit() -> None:
    from hoidap import server
    from hoidap.jobs import Job

    queue = server.IngestQueue(Settings(), None, None, None)  # type: ignore[arg-type]
    big = server.COALESCE_FILES // 2 + 1
    for k, n in enumerate((3, big, big, 2)):
        queue._waiting.append((Job(str(k), [], Path(".")), [("p", "n")] * n))
    assert [j.id for j, _ in queue._take()] == ["0", "1"]
    assert [j.id for j, _ in queue._take()] == ["2", "3"]
    queue._waiting.append((Job("huge", [], Path(".")), [("p", "n")] * (server.COALESCE_FILES + 5)))
    assert [j.id for j, _ in queue._take()] == ["huge"]  # one job alone however large
