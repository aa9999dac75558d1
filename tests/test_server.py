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
from contextlib import contextmanager
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


def upload(base: str, files: list[tuple[str, bytes]]) -> tuple[int, Any]:
    body, ctype = multipart(files)
    return call(base, "POST", "/api/ingest", raw=body, headers={"Content-Type": ctype})


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
    _, hits = call(base, "POST", "/api/search", {"query": "LS0299", "k": 1})
    assert "LS0299" in hits["hits"][0]["text"]


def test_cli_serve_has_help_and_example() -> None:
    out = subprocess.run([sys.executable, "-m", "hoidap.cli", "serve", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--port" in out and "Example" in out


@pytest.mark.slow
def test_load_short(tmp_path: Path) -> None:
    """benchmarks/load_test.py, shortened: 2,000 articles, 5 clients, 10 s, one ingest meanwhile."""
    from .conftest import EVAL, need

    need(EVAL / "vietnews_test.jsonl.xz")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_test.py"), "--articles", "2000", "--clients", "5",
         "--seconds", "10", "--extra", "300", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed requests: 0" in proc.stdout
