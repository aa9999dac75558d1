"""Load test of ``hoidap serve``: concurrent clients ask questions while an ingest runs.

    .venv/bin/python benchmarks/load_test.py                    # 22,644 articles, 20 clients, 60 s
    .venv/bin/python benchmarks/load_test.py --articles 2000 --clients 5 --seconds 10

1. Builds (once, cached under --workdir) an index of the first --articles articles of
   ../shared/eval/vietnews_test.jsonl.xz (``_`` joins words there: replaced by spaces),
   and copies it for this run.
2. Starts ``hoidap serve`` on 127.0.0.1 as a subprocess.
3. For --seconds, --clients threads each ask one question per request (POST /api/ask,
   keep-alive connection, no pause between requests); questions are article titles
   turned into questions plus ViNewsQA questions (off-topic: mostly "not found").
   Meanwhile one POST /api/ingest uploads --extra articles of ../shared/eval/vims_300clusters.jsonl.
4. Prints p50/p90/p99/max latency and failures; exits 1 on any failed request or a
   question p99 over --max-p99-ms (500).

Every request goes to 127.0.0.1 only; the run is bounded in time (--seconds) and in
count (--max-requests per client), and stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import lzma
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
VIETNEWS = EVAL / "vietnews_test.jsonl.xz"
VIMS = EVAL / "vims_300clusters.jsonl"
VINEWSQA = EVAL / "vinewsqa_dev.json"
# Title templates that make a question of an article's title.
TEMPLATES = ("{}?", "{} như thế nào?", "{} khi nào?", "{} ở đâu?", "Vì sao {}?", "Ai {}?")
# Share of ViNewsQA questions (health news, not in the index): the "not found" path.
OFF_TOPIC_SHARE = 0.2
WARMUP_QUESTIONS = 40
# The ingest starts this far into the run, so the clients are already at full load.
INGEST_START_SHARE = 0.1


def vietnews(n: int | None) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of the first ``n`` VietNews articles, words separated by spaces."""
    with lzma.open(VIETNEWS, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if n is not None and i >= n:
                return
            r = json.loads(line)
            fix = (lambda s: (s or "").replace("_", " "))  # noqa: E731
            yield r["id"], fix(r["title"]), fix(r["abstract"]) + "\n" + fix(r["body"])


def build_index(workdir: Path, n: int | None) -> Path:
    """The base index of ``n`` articles, built once; returns a fresh copy for this run."""
    from hoidap.engine import Engine
    from hoidap.models import RawDocument

    base = workdir / f"base-{n or 'all'}"
    done = base / "complete"
    if not done.exists():
        shutil.rmtree(base, ignore_errors=True)
        t = time.monotonic()
        print(f"building the index of {n or 'all'} VietNews articles in {base} (once) ...", flush=True)
        with Engine(base) as eng:
            report = eng.ingest_documents(
                RawDocument(source=f"vietnews:{i}", text=text, title=title) for i, title, text in vietnews(n))
        done.write_text(json.dumps({"ingested": len(report.ingested), "seconds": round(time.monotonic() - t)}))
    print(f"index: {done.read_text()}", flush=True)
    run = workdir / "run-index"
    shutil.rmtree(run, ignore_errors=True)
    shutil.copytree(base, run)
    return run


def extra_articles(n: int) -> bytes:
    """``n`` ViMs articles (different news from VietNews) as a JSONL upload."""
    lines = []
    with VIMS.open(encoding="utf-8") as f:
        for line in f:
            cluster = json.loads(line)
            for d in cluster["docs"]:
                lines.append(json.dumps({"title": d["title"], "text": d["text"],
                                         "source": f"vims:{cluster['cluster_id']}/{d['doc_id']}"},
                                        ensure_ascii=False))
    return "\n".join(lines[:n]).encode("utf-8")


def questions(n_articles: int | None, count: int = 2000) -> list[str]:
    rng = random.Random(0)
    titles = [title for _, title, _ in vietnews(n_articles) if title.strip()]
    on_topic = [rng.choice(TEMPLATES).format(t.strip().rstrip(".?!")) for t in rng.sample(titles, min(count, len(titles)))]
    data = json.loads(VINEWSQA.read_text(encoding="utf-8"))["data"]
    off = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    n_off = int(len(on_topic) * OFF_TOPIC_SHARE / (1 - OFF_TOPIC_SHARE))
    mixed = on_topic + rng.sample(off, min(n_off, len(off)))
    rng.shuffle(mixed)
    return mixed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    return res.status, res.read()


def start_server(index: Path, port: int, log: Path, readers: int | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "hoidap.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log"] + (["--readers", str(readers)] if readers else [])
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if request(conn, "GET", "/healthz")[0] == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not answer /healthz within 180 s; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds, successful questions
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(port: int, qs: list[str], seed: int, deadline: float, max_requests: int, out: Results) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat: list[float] = []
    fails: list[str] = []
    for _ in range(max_requests):
        if time.monotonic() >= deadline:
            break
        body = json.dumps({"questions": [rng.choice(qs)]}).encode()
        t = time.perf_counter()
        try:
            status, data = request(conn, "POST", "/api/ask", body, {"Content-Type": "application/json"})
            if status != 200 or len(json.loads(data)["answers"]) != 1:
                fails.append(f"status {status}: {data[:200]!r}")
            else:
                lat.append(time.perf_counter() - t)
        except (OSError, http.client.HTTPException, ValueError) as e:
            fails.append(f"{type(e).__name__}: {e}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    with out.lock:
        out.latencies += lat
        out.failures += fails


def ingest(port: int, payload: bytes, out: dict[str, object]) -> None:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="vims.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.monotonic()
    out["start"] = t
    try:
        status, data = request(conn, "POST", "/api/ingest", body,
                               {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        report = json.loads(data)
        out.update(status=status, ingested=report.get("ingested"), failed=report.get("failed"))
    except (OSError, http.client.HTTPException, ValueError) as e:
        out.update(status=None, error=f"{type(e).__name__}: {e}")
    out["end"] = time.monotonic()
    conn.close()


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=None, help="VietNews articles in the index (default: all 22,644)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--seconds", type=float, default=60, help="length of the measured run (default 60)")
    ap.add_argument("--extra", type=int, default=1950, help="ViMs articles ingested during the run (default 1,950)")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--readers", type=int, help="reader processes (default: hoidap serve's)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out", help="index cache and logs")
    ap.add_argument("--max-requests", type=int, default=100_000, help="per client, a bound on top of --seconds")
    ap.add_argument("--max-p99-ms", type=float, default=500, help="fail above this question p99 (default 500)")
    args = ap.parse_args(argv)
    for path in (VIETNEWS, VIMS, VINEWSQA):
        if not path.exists():
            print(f"{path} not found: the load test needs ../shared/eval", file=sys.stderr)
            return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    index = build_index(args.workdir, args.articles)
    qs = questions(args.articles)
    payload = extra_articles(args.extra)
    port = args.port or free_port()
    log = args.workdir / "server.log"
    server = start_server(index, port, log, args.readers)
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for q in qs[:WARMUP_QUESTIONS]:
            request(warm, "POST", "/api/ask", json.dumps({"questions": [q]}).encode(), {"Content-Type": "application/json"})
        warm.close()

        results = Results()
        ingest_out: dict[str, object] = {}
        start = time.monotonic()
        deadline = start + args.seconds
        threads = [threading.Thread(target=client, args=(port, qs, i, deadline, args.max_requests, results))
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(args.seconds * INGEST_START_SHARE)
        ingester = threading.Thread(target=ingest, args=(port, payload, ingest_out))
        ingester.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        ingester.join(timeout=600)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        health = json.loads(request(conn, "GET", "/healthz")[1])
        conn.close()
    finally:
        stop_server(server)
        shutil.rmtree(index, ignore_errors=True)  # this run's copy; the cached base stays

    lat = sorted(results.latencies)
    n_ok = len(lat)
    failures = list(results.failures)
    if ingest_out.get("status") != 200:
        failures.append(f"ingest: {ingest_out}")
    ingest_s = float(ingest_out.get("end", 0.0)) - float(ingest_out.get("start", 0.0))  # type: ignore[arg-type]
    overlap = min(float(ingest_out.get("end", start)), deadline) - float(ingest_out.get("start", start))  # type: ignore[arg-type]
    p50, p90, p99 = (percentile(lat, p) * 1000 for p in (50, 90, 99))
    print(f"articles: {health['documents']} documents after the run ({args.articles or 'all'} VietNews + "
          f"{ingest_out.get('ingested')} ViMs ingested during it)")
    print(f"clients: {args.clients}  seconds: {elapsed:.1f}  questions answered: {n_ok}  "
          f"throughput: {n_ok / elapsed:.1f}/s")
    print(f"ingest: status {ingest_out.get('status')}, {ingest_out.get('ingested')} articles in {ingest_s:.1f} s, "
          f"{max(overlap, 0):.1f} s of it under load")
    print(f"latency ms: p50 {p50:.0f}  p90 {p90:.0f}  p99 {p99:.0f}  max {lat[-1] * 1000 if lat else float('nan'):.0f}")
    print(f"failed requests: {len(failures)}")
    for f in failures[:10]:
        print(f"  {f}")
    if failures or not n_ok or p99 > args.max_p99_ms:
        print(f"FAIL (needs zero failures and p99 <= {args.max_p99_ms:.0f} ms)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
