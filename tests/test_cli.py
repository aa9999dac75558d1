"""The CLI contract: names and JSON keys other tools rely on."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from hoidap.cli import expand_questions, main

CITATION_KEYS = {"doc_id", "source", "title", "sentence", "start", "end"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def test_ingest_docs_show_ask_json(tmp_path: Path, seeds_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    code, (report,) = _run(capsys, "ingest", str(seeds_dir), "--index", idx, "--json")
    assert code == 0 and len(report["ingested"]) == 5

    code, docs = _run(capsys, "docs", "--index", idx, "--json")
    assert code == 0 and len(docs) == 5
    for d in docs:
        assert set(d) >= {"doc_id", "source", "title", "date", "outlet", "n_sentences", "questions"}

    code, (shown,) = _run(capsys, "show", docs[0]["doc_id"], "--index", idx, "--json")
    assert {"original_text", "clean_text"} <= set(shown)

    code, answers = _run(capsys, "ask", "[question] Việt Nam đã nhận được bao nhiêu liều vắc xin?,Giá vàng hôm nay bao nhiêu?",
                         "--index", idx, "--json")
    assert code == 0 and len(answers) == 2
    for a in answers:
        assert set(a) >= {"question", "answer", "confidence", "citations"}
        assert 0.0 <= a["confidence"] <= 1.0
        for c in a["citations"]:
            assert set(c) >= CITATION_KEYS
            original = next(s for s in [_show(capsys, c["doc_id"], idx)])["original_text"]
            assert original[c["start"] : c["end"]] == c["sentence"]
    assert "151" in answers[0]["answer"] and answers[1]["answer"] is None

    code, doc_answers = _run(capsys, "ask", "--doc-questions", "--index", idx, "--json")
    assert code == 0 and len(doc_answers) == 2


def _show(capsys: pytest.CaptureFixture[str], doc_id: str, idx: str) -> dict:
    _, (obj,) = _run(capsys, "show", doc_id, "--index", idx, "--json")
    return obj


def test_ingest_reports_failures_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Hội nghị đối ngoại toàn quốc được tổ chức ngày 14/12/2021 tại Hà Nội với nhiều đại biểu.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    code = main(["ingest", str(good), str(empty), str(tmp_path / "missing.txt"), "--index", str(tmp_path / "idx")])
    captured = capsys.readouterr()
    assert code == 1
    assert "ingested: 1" in captured.out
    assert "empty" in captured.err and "missing.txt" in captured.err


def test_unknown_document_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hoidap.engine import Engine

    Engine(tmp_path / "idx").close()  # an empty index
    assert main(["show", "deadbeef", "--index", str(tmp_path / "idx")]) == 1
    assert "no document" in capsys.readouterr().err


def test_question_line_argument_is_split() -> None:
    assert expand_questions(["[question] Ai dự hội nghị?,Hội nghị ở đâu?", "Khi nào?"]) == [
        "Ai dự hội nghị?", "Hội nghị ở đâu?", "Khi nào?"]


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["ingest"], ["docs"], ["show"], ["ask"], ["eval", "squad"]):
        with pytest.raises(SystemExit):
            main([*cmd, "--help"])
        assert "Example" in capsys.readouterr().out


def test_bad_inputs_are_reported_and_the_rest_is_ingested(
    tmp_path: Path, seeds_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's list: empty, binary, legacy encoding, UTF-16, 50 MB, unreadable, missing."""
    import shutil
    import unicodedata

    bad = tmp_path / "in"
    bad.mkdir()
    for seed in sorted(seeds_dir.glob("*.txt")):
        shutil.copy(seed, bad / seed.name)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    # TCVN3 (ABC) bytes: "Việt Nam" in a legacy 8-bit Vietnamese font encoding.
    (bad / "tcvn3.txt").write_bytes(b"Vi\xd6t Nam \xae\xb8 nh\xcbn \xae\xad\xfcc tr\xaan 151 tri\xd6u li\xd2u v\xberc xin.\n" * 20)
    utf16 = "Hội nghị ngoại giao lần thứ 32 diễn ra tại Hà Nội với nhiều đại biểu tham dự đông đủ."
    (bad / "utf16.txt").write_bytes(utf16.encode("utf-16"))
    with open(bad / "huge.txt", "wb") as f:
        f.truncate(50 * 1024 * 1024)
    (bad / "unreadable.txt").symlink_to(tmp_path / "gone" / "nowhere.txt")
    code = main(["ingest", str(bad), str(tmp_path / "does-not-exist"), "--index", str(tmp_path / "idx"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    reasons = {Path(f["source"]).name: f["reason"] for f in report["failed"]}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["tcvn3.txt"]
    assert "MB" in reasons["huge.txt"]
    assert "unreadable.txt" in reasons
    assert "no such file" in reasons["does-not-exist"]
    # Every good file is still ingested: the five seeds and the UTF-16 page.
    assert len(report["ingested"]) == 6
    assert any("UTF-16" in n for n in report["notes"])
    assert unicodedata.is_normalized("NFC", utf16)


# -- CLI hygiene (bugs found by trying it as a user: issue 22) ----------------------------
def _cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hoidap.cli", *argv], capture_output=True, text=True,
                          input=stdin, timeout=120)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    """An empty question exited 1, like a failure of the data; the README says 2 for bad usage."""
    from hoidap.engine import Engine

    Engine(tmp_path / "idx").close()  # an empty index
    proc = _cli("ask", "   ", "--index", str(tmp_path / "idx"))
    assert proc.returncode == 2 and "empty" in proc.stderr
    assert _cli("ask", "--no-such-flag").returncode == 2  # argparse's own


def test_closed_pipe_ends_without_traceback(seeded_index: Path) -> None:
    """`hoidap ask ... | head -1` ended in a BrokenPipeError traceback."""
    cmd = (f"{shlex.quote(sys.executable)} -m hoidap.cli ask --doc-questions"
           f" --index {shlex.quote(str(seeded_index))} | head -c 10 >/dev/null")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr


def test_third_party_log_lines_only_with_verbose(tmp_path: Path) -> None:
    """trafilatura's ERROR/WARNING lines leaked to stderr beside hoidap's own report."""
    import logging

    from hoidap.cli import _configure_logging

    root = logging.getLogger()
    saved = (root.level, list(root.handlers), logging.getLogger("hoidap").level)
    try:
        _configure_logging(verbose=False)
        assert not logging.getLogger("trafilatura.core").isEnabledFor(logging.ERROR)
        assert logging.getLogger("hoidap.ingest.read").isEnabledFor(logging.WARNING)
        _configure_logging(verbose=True)
        logging.getLogger().setLevel(logging.INFO)
        assert logging.getLogger("trafilatura.core").isEnabledFor(logging.WARNING)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logging.getLogger("hoidap").setLevel(saved[2])


def test_not_found_labels_the_nearest_sentences(seeded_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A "not found" answer printed numbered sentences with no word that they do not answer."""
    assert main(["ask", "Giá vàng SJC hôm nay là bao nhiêu?", "--index", str(seeded_index)]) == 0
    out = capsys.readouterr().out
    assert "không tìm thấy" in out
    if "[1]" in out:
        assert out.index("chưa đủ để trả lời") < out.index("[1]")


def test_read_commands_on_a_missing_index_fail_and_create_nothing(tmp_path: Path) -> None:
    """A mistyped --index on a read command created an empty index and answered "not found", exit 0."""
    missing = tmp_path / "no-such-index"
    for argv in (["ask", "Ai là Bộ trưởng Ngoại giao?"], ["docs"], ["facts"]):
        proc = _cli(*argv, "--index", str(missing))
        assert proc.returncode == 1 and "no index at" in proc.stderr, (argv, proc.stderr)
    assert not missing.exists()


def test_search_and_stats_commands(seeded_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, hits = _run(capsys, "search", "quan hệ ngoại giao", "-k", "3", "--index", str(seeded_index), "--json")
    assert code == 0 and 1 <= len(hits) <= 3 and "ngoại giao" in hits[0]["text"]
    code, (stats,) = _run(capsys, "stats", "--index", str(seeded_index), "--json")
    assert code == 0 and stats["documents"] == 5 and stats["sentences"] > 100 and stats["index_bytes"] > 0
    assert sum(n for _, n in stats["outlets"]) == 5


def test_export_then_ingest_gives_the_same_articles_and_answers(seeded_index: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from hoidap.engine import Engine

    assert main(["export", "--index", str(seeded_index)]) == 0
    exported = tmp_path / "articles.jsonl"
    exported.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["ingest", str(exported), "--index", str(tmp_path / "copy")]) == 0
    capsys.readouterr()
    with Engine(seeded_index) as a, Engine(tmp_path / "copy") as b:
        assert [d.doc_id for d in a.documents()] == [d.doc_id for d in b.documents()]
        for d in a.documents():
            assert a.document(d.doc_id) == b.document(d.doc_id)
        q = "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?"
        assert a.ask(q).answer == b.ask(q).answer
    assert main(["export", "--format", "csv", "--index", str(seeded_index)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("doc_id,source,title")


def test_rm_deletes_documents_and_fails_on_an_unknown_id(tmp_path: Path, seeds_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "idx")
    assert main(["ingest", str(seeds_dir), "--index", index]) == 0
    capsys.readouterr()
    code, docs = _run(capsys, "docs", "--index", index, "--json")
    first = docs[0]["doc_id"]
    assert main(["rm", first, "--index", index]) == 0
    assert first in capsys.readouterr().out
    assert main(["rm", first, docs[1]["doc_id"], "--index", index]) == 1
    err = capsys.readouterr().err
    assert f"no document {first!r}" in err
    code, left = _run(capsys, "docs", "--index", index, "--json")
    assert [d["doc_id"] for d in left] == [d["doc_id"] for d in docs[2:]]


def test_filter_flags_keep_ask_search_brief_and_facts_inside_the_allowed_articles(
        seeded_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, docs = _run(capsys, "docs", "--index", str(seeded_index), "--json")
    one = docs[0]
    flags = ["--index", str(seeded_index), "--json", "--outlet", one["outlet"].upper()]
    code, hits = _run(capsys, "search", "Việt Nam", *flags)
    assert code == 0 and hits and {h["doc_id"] for h in hits} == {one["doc_id"]}
    code, (ans,) = _run(capsys, "ask", "Việt Nam đã nhận được bao nhiêu liều vắc xin?", *flags)
    assert code == 0 and {c["doc_id"] for c in ans["citations"]} <= {one["doc_id"]}
    code, (brief,) = _run(capsys, "brief", *flags)
    assert code == 0 and {c["doc_id"] for s in brief["sentences"] for c in s["citations"]} == {one["doc_id"]}
    code, hits = _run(capsys, "search", "Việt Nam", "--index", str(seeded_index), "--json",
                      "--since", "2999-01-01")
    assert code == 0 and hits == []
    assert main(["ask", "Việt Nam?", "--index", str(seeded_index), "--since", "14/12/2021"]) == 2
    assert "ISO date" in capsys.readouterr().err
