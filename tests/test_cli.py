"""The CLI contract: names and JSON keys other tools rely on."""

from __future__ import annotations

import json
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
