"""Load test of ``hoidap serve``: concurrent clients ask questions while an ingest runs.

    .venv/bin/python benchmarks/load_test.py                    # 22,644 articles, 20 clients, 60 s, 2,000 files
    .venv/bin/python benchmarks/load_test.py --articles 2000 --clients 5 --seconds 20 --files 200

1. Builds (once, cached under --workdir) an index of the first --articles articles of
   ../shared/eval/vietnews_test.jsonl.xz (``_`` joins words there: replaced by spaces),
   and copies it for this run.
2. Starts ``hoidap serve`` on 127.0.0.1 as a subprocess.
3. For --seconds, --clients threads each ask one question per request (POST /api/ask,
   keep-alive connection, no pause between requests); questions are article titles
   turned into questions plus ViNewsQA questions (off-topic: mostly "not found").
   Meanwhile --files ViMs articles (../shared/eval/vims_300clusters.jsonl), one .txt file each,
   are uploaded through the API as ingest jobs of 100 files (POST /api/ingest, then
   GET /api/jobs/{id} until done; a 503 when too many jobs wait is retried).
4. Then ``hoidap ingest`` (the CLI) ingests the same files into another copy of the base
   index, without load: the upload's time is printed against it (the target: within 2x).
5. Prints p50/p90/p99/max latency and failures; exits 1 on any failed request, a
   question p99 over --max-p99-ms (500), or an upload over --max-upload-ratio (2) times the CLI's.

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
# Files per upload request (the server's MAX_UPLOAD_FILES), and how often jobs are polled.
UPLOAD_FILES = 100
JOB_POLL_S = 0.2


def vietnews(n: int | None) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of the first ``n`` VietNews articles, words separated by spaces."""
    with lzma.open(VIETNEWS, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if n is not None and i >= n:
                return
            r = json.loads(line)
            fix = (lambda s: (s or "").replace("_", " "))  # noqa: E731
            yield r["id"], fix(r["title"]), fix(r["abstract"]) + "\n" + fix(r["body"])


def build_index(workdir: Path, n: int | None) -> tuple[Path, Path]:
    """The base index of ``n`` articles, built once; returns it and a fresh copy for this run."""
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
    return base, run


def extra_files(n: int, folder: Path) -> list[Path]:
    """``n`` ViMs articles (different news from VietNews), one .txt file each (title, then text)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    paths: list[Path] = []
    with VIMS.open(encoding="utf-8") as f:
        for line in f:
            cluster = json.loads(line)
            for d in cluster["docs"]:
                if len(paths) >= n:
                    return paths
                path = folder / f"vims-{cluster['cluster_id']}-{d['doc_id']}.txt"
                path.write_text(f"{d['title']}\n\n{d['text']}\n", encoding="utf-8")
                paths.append(path)
    return paths


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


def start_server(index: Path, port: int, log: Path, readers: int | None = None,
                 read_sentences: int | None = None, reader_niceness: int | None = None,
                 latency_budget: float | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "hoidap.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log"] + (["--readers", str(readers)] if readers else []) \
        + (["--read-sentences", str(read_sentences)] if read_sentences else []) \
        + (["--reader-niceness", str(reader_niceness)] if reader_niceness is not None else []) \
        + (["--latency-budget", str(latency_budget)] if latency_budget is not None else [])
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
    ends: list[float] = field(default_factory=list)  # time.monotonic() each of them was answered
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(port: int, qs: list[str], seed: int, deadline: float, max_requests: int, out: Results) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat: list[float] = []
    ends: list[float] = []
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
                ends.append(time.monotonic())
        except (OSError, http.client.HTTPException, ValueError) as e:
            fails.append(f"{type(e).__name__}: {e}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    with out.lock:
        out.latencies += lat
        out.ends += ends
        out.failures += fails


def _multipart(paths: list[Path]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = bytearray()
    for p in paths:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{p.name}"\r\n'
                 "Content-Type: text/plain\r\n\r\n").encode() + p.read_bytes() + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


def upload_all(port: int, paths: list[Path], out: dict[str, object]) -> None:
    """Upload ``paths`` as jobs of UPLOAD_FILES files, then wait for every job; fills ``out``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    out["start"] = time.monotonic()
    jobs: list[str] = []
    errors: list[str] = []
    try:
        for i in range(0, len(paths), UPLOAD_FILES):
            body, ctype = _multipart(paths[i: i + UPLOAD_FILES])
            while True:
                status, data = request(conn, "POST", "/api/ingest", body, {"Content-Type": ctype})
                if status != 503:  # too many jobs waiting: retry when one has finished
                    break
                time.sleep(JOB_POLL_S)
            if status != 202:
                errors.append(f"upload: status {status}: {data[:200]!r}")
                continue
            jobs.append(json.loads(data)["id"])
        ingested = failed = 0
        for job_id in jobs:
            while True:
                status, data = request(conn, "GET", f"/api/jobs/{job_id}")
                job = json.loads(data)
                if status != 200 or job["state"] in ("done", "failed"):
                    break
                time.sleep(JOB_POLL_S)
            if status != 200 or job["state"] != "done":
                errors.append(f"job {job_id}: status {status}: {job}")
                continue
            ingested += job["report"]["ingested"]
            failed += job["report"]["failed"]
        out.update(status=200 if not errors else None, ingested=ingested, failed=failed, jobs=len(jobs))
    except (OSError, http.client.HTTPException, ValueError) as e:
        errors.append(f"{type(e).__name__}: {e}")
    out["errors"] = errors
    out["end"] = time.monotonic()
    conn.close()


def cli_ingest_seconds(base_index: Path, folder: Path, workdir: Path) -> float:
    """``hoidap ingest`` of the same files into a fresh copy of the base index, timed."""
    index = workdir / "cli-index"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(base_index, index)
    try:
        t = time.monotonic()
        subprocess.run([sys.executable, "-m", "hoidap.cli", "ingest", str(folder), "--index", str(index)],
                       check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - t
    finally:
        shutil.rmtree(index, ignore_errors=True)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=None, help="VietNews articles in the index (default: all 22,644)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    ap.add_argument("--seconds", type=float, default=60, help="length of the measured run (default 60)")
    ap.add_argument("--files", type=int, default=2000, help="ViMs article files uploaded during the run (default 2,000)")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--readers", type=int, help="reader processes (default: hoidap serve's)")
    ap.add_argument("--read-sentences", type=int, help="sentences the reader reads (default: hoidap serve's, Settings.read_sentences)")
    ap.add_argument("--reader-niceness", type=int, help="the readers' CPU niceness (default: hoidap serve's)")
    ap.add_argument("--latency-budget", type=float, help="the dimmer's budget in ms, 0: off (default: hoidap serve's)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "out", help="index cache and logs")
    ap.add_argument("--max-requests", type=int, default=100_000, help="per client, a bound on top of --seconds")
    ap.add_argument("--max-p99-ms", type=float, default=500, help="fail above this question p99 (default 500)")
    ap.add_argument("--max-upload-ratio", type=float, default=2.0,
                    help="fail when the upload under load takes over this many times the CLI's ingest (default 2)")
    args = ap.parse_args(argv)
    for path in (VIETNEWS, VIMS, VINEWSQA):
        if not path.exists():
            print(f"{path} not found: the load test needs ../shared/eval", file=sys.stderr)
            return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    base_index, index = build_index(args.workdir, args.articles)
    qs = questions(args.articles)
    folder = args.workdir / "upload-files"
    paths = extra_files(args.files, folder)
    port = args.port or free_port()
    log = args.workdir / "server.log"
    server = start_server(index, port, log, args.readers, args.read_sentences, args.reader_niceness,
                          args.latency_budget)
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
        ingester = threading.Thread(target=upload_all, args=(port, paths, ingest_out))
        ingester.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        ingester.join(timeout=1800)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        health = json.loads(request(conn, "GET", "/healthz")[1])
        scraped = request(conn, "GET", "/metrics")[1].decode()
        conn.close()
    finally:
        stop_server(server)
        shutil.rmtree(index, ignore_errors=True)  # this run's copy; the cached base stays

    # --files 0: questions only (the CLI refuses an empty folder, and there is no upload to time).
    cli_s = cli_ingest_seconds(base_index, folder, args.workdir) if paths else 0.0
    lat = sorted(results.latencies)
    n_ok = len(lat)
    failures = list(results.failures)
    failures += [str(e) for e in ingest_out.get("errors", [])]  # type: ignore[attr-defined]
    lo, hi = float(ingest_out.get("start", 0.0)), float(ingest_out.get("end", 0.0))  # type: ignore[arg-type]
    ingest_s = hi - lo
    overlap = min(float(ingest_out.get("end", start)), deadline) - float(ingest_out.get("start", start))  # type: ignore[arg-type]
    p50, p90, p99 = (percentile(lat, p) * 1000 for p in (50, 90, 99))
    print(f"articles: {health['documents']} documents after the run ({args.articles or 'all'} VietNews + "
          f"{ingest_out.get('ingested')} of {len(paths)} ViMs files uploaded during it)")
    print(f"clients: {args.clients}  seconds: {elapsed:.1f}  questions answered: {n_ok}  "
          f"throughput: {n_ok / elapsed:.1f}/s")
    ratio = ingest_s / cli_s if cli_s else float("nan")
    print(f"upload: {len(paths)} files in {ingest_out.get('jobs')} jobs, {ingest_out.get('ingested')} articles "
          f"ingested, {ingest_out.get('failed')} failed, in {ingest_s:.1f} s ({max(overlap, 0):.1f} s of it under load)")
    print(f"CLI ingest of the same files (no load): {cli_s:.1f} s; upload / CLI = {ratio:.2f}")
    print(f"latency ms: p50 {p50:.0f}  p90 {p90:.0f}  p99 {p99:.0f}  max {lat[-1] * 1000 if lat else float('nan'):.0f}")
    # Read at fewer sentences while questions queued (hoidap.dimmer), warm-up questions included.
    dimmed = next((float(line.split()[-1]) for line in scraped.splitlines()
                   if line.startswith("hoidap_questions_dimmed_total ")), 0.0)
    print(f"questions read at fewer sentences (the dimmer, serve --latency-budget): {dimmed:.0f} "
          f"({dimmed / max(n_ok + WARMUP_QUESTIONS, 1):.0%})")
    # The questions answered while the upload ran and the others: where the tail comes from.
    during = sorted(x for x, e in zip(results.latencies, results.ends, strict=True) if lo <= e <= hi)
    outside = sorted(x for x, e in zip(results.latencies, results.ends, strict=True) if not lo <= e <= hi)
    for name, part in (("during the upload", during), ("outside it", outside)):
        if part:
            print(f"  {name}: {len(part)} questions, {len(part) / max(sum(part), 1e-9) * args.clients:.1f}/s, "
                  f"p50 {percentile(part, 50) * 1000:.0f}  p99 {percentile(part, 99) * 1000:.0f} ms")
    # Little's law: clients that never pause keep ``clients`` questions in the server, so the mean
    # latency is clients / throughput whatever the scheduling; a p99 bound needs at least the
    # throughput that brings the mean under it.
    if n_ok:
        print(f"capacity: mean latency = clients / throughput = {args.clients / (n_ok / elapsed) * 1000:.0f} ms; "
              f"a p99 <= {args.max_p99_ms:.0f} ms needs over {args.clients / (args.max_p99_ms / 1000):.0f} "
              "questions/s")
    print(f"failed requests: {len(failures)}")
    for f in failures[:10]:
        print(f"  {f}")
    print(f"question p99: {p99:.0f} ms")
    if failures or not n_ok or p99 > args.max_p99_ms or (paths and not ratio <= args.max_upload_ratio):
        print(f"FAIL (needs zero failures, p99 <= {args.max_p99_ms:.0f} ms and upload / CLI <= "
              f"{args.max_upload_ratio:g})")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
