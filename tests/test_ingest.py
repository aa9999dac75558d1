"""Tests for hoidap.ingest.read: every kind of bad input gives a clear reason, good files still load."""

from __future__ import annotations

import json
import os
import random
import socket
import unicodedata
from pathlib import Path

import pytest

from hoidap.errors import BadInputError, EmptyDocumentError, EncodingError, FileTooLargeError
from hoidap.ingest.read import iter_files, read_all, read_file, read_jsonl
from hoidap.models import FileFailure, RawDocument

MB = 1024 * 1024
LIMIT = 16 * MB
SENTENCE = (
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam, đất nước nghìn năm văn hiến."
)
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

# TCVN3 (ABC) positions of the letters used below, as old Vietnamese fonts stored them.
TCVN3 = {
    "à": 0xB5, "á": 0xB8, "ả": 0xB6, "ạ": 0xB9, "ă": 0xA8, "â": 0xA9, "ậ": 0xCB, "đ": 0xAE,
    "ê": 0xAA, "ệ": 0xD6, "ế": 0xD5, "ì": 0xD7, "ĩ": 0xDC, "ô": 0xAB, "ộ": 0xE9, "ồ": 0xE5,
    "ơ": 0xAC, "ớ": 0xED, "ư": 0xAD, "ủ": 0xF1, "ứ": 0xF8, "ữ": 0xF7, "ấ": 0xCA, "ò": 0xDF,
    "ã": 0xB7, "ọ": 0xE4, "ở": 0xEB, "ề": 0xD2, "ể": 0xD3, "ụ": 0xF4, "ố": 0xE8, "ỉ": 0xD8,
}  # fmt: skip
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def to_tcvn3(text: str) -> bytes:
    return b"".join(bytes([TCVN3[c]]) if c in TCVN3 else c.encode("ascii") for c in text)


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: vowel letters precomposed, tone marks as combining bytes."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


def only(docs_and_failures: tuple[list[RawDocument], list[FileFailure]]) -> RawDocument:
    docs, failures = docs_and_failures
    assert failures == []
    assert len(docs) == 1
    return docs[0]


# --- good text files ---------------------------------------------------------------------


def test_txt_kept_exactly_as_written(tmp_path: Path) -> None:
    text = f"  {SENTENCE}\n\nNguồn: VnExpress  \n"
    doc = only(read_file(write(tmp_path, "a.txt", text), LIMIT))
    assert doc.text == text  # no cleaning, no stripping
    assert doc.source == str(tmp_path / "a.txt")
    assert doc.encoding_note is None


def test_txt_is_not_nfc_normalised(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", SENTENCE)
    doc = only(read_file(write(tmp_path, "a.txt", nfd), LIMIT))
    assert doc.text == nfd


def test_crlf_and_cr_become_lf(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "Dòng một\r\nDòng hai\rDòng ba\n".encode())
    assert only(read_file(path, LIMIT)).text == "Dòng một\nDòng hai\nDòng ba\n"


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", b"\xef\xbb\xbf" + SENTENCE.encode())
    doc = only(read_file(path, LIMIT))
    assert doc.text == SENTENCE
    assert doc.encoding_note is None


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path, "a.txt", ("\ufeff" + SENTENCE + "\r\n").encode(codec))
    doc = only(read_file(path, LIMIT))
    assert doc.text == SENTENCE + "\n"
    assert doc.encoding_note == "decoded as UTF-16"


def test_cp1258_vietnamese_is_decoded_with_a_note(tmp_path: Path) -> None:
    data = to_cp1258(SENTENCE)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = only(read_file(write(tmp_path, "a.txt", data), LIMIT))
    assert doc.encoding_note == "decoded as Windows-1258"
    assert unicodedata.normalize("NFC", doc.text) == SENTENCE


# --- bad input: one test per case ---------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match="file is empty"):
        read_file(write(tmp_path, "a.txt", b""), LIMIT)


def test_whitespace_only_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match="file is empty"):
        read_file(write(tmp_path, "a.txt", " \n\t\n"), LIMIT)


def test_control_characters_are_unicode_category_cc_but_whitespace_and_esc() -> None:
    """The binary check counts controls with one regular expression; it must count exactly the
    characters the per-character test did (category Cc, not \\t \\n \\r \\f \\v or ESC)."""
    import unicodedata

    from hoidap.ingest.read import _control_ratio

    chars = [chr(c) for c in range(0x2000)]
    want = sum(1 for c in chars if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v\x1b")
    assert _control_ratio("".join(chars)) == want / len(chars)
    assert _control_ratio("Tin tức hôm nay\n\tđúng giờ\x1b") == 0.0


def test_binary_random_bytes_with_nuls(tmp_path: Path) -> None:
    data = random.Random(0).randbytes(4096) + b"\x00\x00"
    with pytest.raises(EncodingError, match="binary file, not text"):
        read_file(write(tmp_path, "a.txt", data), LIMIT)


def test_binary_random_bytes_without_nuls(tmp_path: Path) -> None:
    data = random.Random(1).randbytes(4096).replace(b"\x00", b"\x01")
    with pytest.raises(EncodingError, match="binary file, not text"):
        read_file(write(tmp_path, "a.txt", data), LIMIT)


def test_binary_png_named_html(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    with pytest.raises(EncodingError, match="binary file, not text"):
        read_file(write(tmp_path, "anh.html", png), LIMIT)


def test_utf16_without_bom_is_called_out(tmp_path: Path) -> None:
    with pytest.raises(EncodingError, match="UTF-16 without a byte-order mark"):
        read_file(write(tmp_path, "a.txt", SENTENCE.encode("utf-16-le")), LIMIT)


def test_legacy_tcvn3_hand_built_bytes(tmp_path: Path) -> None:
    with pytest.raises(EncodingError) as info:
        read_file(write(tmp_path, "a.txt", b"Vi\xd6t Nam"), LIMIT)
    message = str(info.value)
    assert "not UTF-8" in message and "legacy Vietnamese encoding" in message
    assert "TCVN3" in message and "convert it to UTF-8" in message
    assert "0xD6 at offset 2" in message


def test_legacy_tcvn3_sentence(tmp_path: Path) -> None:
    data = to_tcvn3("Hà Nội là thủ đô của Việt Nam, đất nước nghìn năm văn hiến.")
    with pytest.raises(EncodingError, match="legacy Vietnamese encoding.*convert it to UTF-8"):
        read_file(write(tmp_path, "a.txt", data), LIMIT)


def test_legacy_vni_bytes(tmp_path: Path) -> None:
    # VNI writes "Việt Nam" as "Vieät Nam": base letter plus a mark byte.
    with pytest.raises(EncodingError, match="not UTF-8: looks like a legacy Vietnamese"):
        read_file(write(tmp_path, "a.txt", b"Vie\xe4t Nam la\xf8 ngo\xf4i nha\xf8"), LIMIT)


def test_latin1_french_is_not_mistaken_for_cp1258(tmp_path: Path) -> None:
    data = "Le café à côté de l'hôtel est fermé.".encode("latin-1")
    with pytest.raises(EncodingError, match="not UTF-8"):
        read_file(write(tmp_path, "a.txt", data), LIMIT)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(50 * MB)  # sparse: instant, takes no disk space
    with pytest.raises(FileTooLargeError) as info:
        read_file(path, LIMIT)
    assert str(info.value) == (
        "file is 50.0 MB, over the 16.0 MB limit; split it or raise --max-file-mb"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", SENTENCE)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading")
        with pytest.raises(BadInputError, match="cannot read file: Permission denied"):
            read_file(path, LIMIT)
    finally:
        path.chmod(0o644)


def test_permission_error_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Same case without relying on the user we run as (root can read a chmod 000 file).
    path = write(tmp_path, "a.txt", SENTENCE)

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(BadInputError, match="cannot read file: Permission denied; check"):
        read_file(path, LIMIT)
    [failure] = read_all([path], LIMIT)
    assert isinstance(failure, FileFailure) and failure.source == str(path)
    assert "Permission denied" in failure.reason


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "khong-co.txt"
    assert list(iter_files([missing])) == [FileFailure(str(missing), "no such file or directory")]
    assert list(read_all([missing], LIMIT)) == [
        FileFailure(str(missing), "no such file or directory")
    ]


def test_explicit_unsupported_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "bang.xlsx", b"PK\x03\x04")
    [failure] = iter_files([path])
    assert isinstance(failure, FileFailure)
    assert "unsupported file type '.xlsx'" in failure.reason
    assert ".txt" in failure.reason and ".jsonl" in failure.reason and ".html" in failure.reason
    assert ".pdf" in failure.reason and ".docx" in failure.reason


def test_folder_mixing_good_and_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    good = [
        write(folder, "a.txt", SENTENCE),
        write(folder, "sub/b.TXT", "Bài thứ hai."),
        write(folder, "sub/c.jsonl", json.dumps({"text": "Bài thứ ba."}) + "\n"),
    ]
    bad = [
        write(folder, "d_empty.txt", b""),
        write(folder, "e_binary.txt", b"\x00\x01\x02\x03" * 100),
        write(folder, "f_legacy.txt", b"Vi\xd6t Nam"),
    ]
    image = write(folder, "sub/anh.png", b"\x89PNG")  # listed as skipped, with the reason
    write(folder, ".hidden.txt", "ẩn")  # hidden: skipped silently
    write(folder, ".git/x.txt", "ẩn")  # skipped silently

    skipped = FileFailure(str(image), "skipped: unsupported file type '.png'; supported types: "
                          ".txt, .html, .htm, .jsonl, .pdf, .docx")
    assert list(iter_files([folder])) == [*sorted(bad[:3] + good[:1]), skipped, *good[1:]]
    results = list(read_all([folder], LIMIT))
    docs = [r for r in results if isinstance(r, RawDocument)]
    failures = {Path(r.source).name: r.reason for r in results if isinstance(r, FileFailure)}
    assert [d.text for d in docs] == [SENTENCE, "Bài thứ hai.", "Bài thứ ba."]
    assert "file is empty" in failures["d_empty.txt"]
    assert "binary file" in failures["e_binary.txt"]
    assert "legacy Vietnamese" in failures["f_legacy.txt"]


def test_empty_folder_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "x.png", b"\x89PNG")
    skipped, folder = iter_files([tmp_path])
    assert isinstance(skipped, FileFailure) and "skipped: unsupported file type '.png'" in skipped.reason
    assert isinstance(folder, FileFailure) and "no .txt" in folder.reason


def test_folder_lists_every_skipped_file_pattern(tmp_path: Path) -> None:
    """Bug pattern: files of other types inside a folder were skipped silently; each is now a
    failure of its own, and the good files are still read."""
    write(tmp_path, "a.txt", SENTENCE)
    write(tmp_path, "b.doc", b"\xd0\xcf\x11\xe0")
    write(tmp_path, "c.xlsx", b"PK")
    results = list(read_all([tmp_path], LIMIT))
    assert [r.text for r in results if isinstance(r, RawDocument)] == [SENTENCE]
    reasons = {Path(r.source).name: r.reason for r in results if isinstance(r, FileFailure)}
    assert set(reasons) == {"b.doc", "c.xlsx"}
    assert all(r.startswith("skipped: unsupported file type") for r in reasons.values())


def test_read_all_survives_an_unexpected_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import hoidap.ingest.read as ingest

    boom = write(tmp_path, "a.html", "<html><body><p>x</p></body></html>")
    fine = write(tmp_path, "b.txt", SENTENCE)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("lxml exploded")

    monkeypatch.setattr(ingest.trafilatura, "bare_extraction", explode)
    results = list(read_all([boom, fine], LIMIT))
    assert results[0] == FileFailure(str(boom), "unexpected error: RuntimeError: lxml exploded")
    assert isinstance(results[1], RawDocument) and results[1].text == SENTENCE
    assert "unexpected error reading" in caplog.text


# --- JSONL --------------------------------------------------------------------------------


def test_jsonl_one_bad_line_among_good_ones(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "Bài một.", "title": "Một", "url": "https://vnexpress.net/1"}),
        json.dumps({"text": "Bài hai.", "source": "kho/bai-2", "date": "2023-10-10"}),
        "{không phải json",
        json.dumps(["một", "danh", "sách"]),
        json.dumps({"title": "Thiếu nội dung"}),
        "",
        json.dumps({"text": "Bài ba.\r\nDòng hai.", "outlet": "Tuổi Trẻ"}),
    ]
    path = write(tmp_path, "bai.jsonl", "\n".join(lines) + "\n")
    docs, failures = read_file(path, LIMIT)
    assert [d.text for d in docs] == ["Bài một.", "Bài hai.", "Bài ba.\nDòng hai."]
    assert [d.source for d in docs] == ["https://vnexpress.net/1", "kho/bai-2", f"{path}#L7"]
    assert docs[0].title == "Một" and docs[1].date == "2023-10-10" and docs[2].outlet == "Tuổi Trẻ"
    assert [f.source for f in failures] == [f"{path}#L3", f"{path}#L4", f"{path}#L5"]
    assert failures[0].reason.startswith("line 3: invalid JSON (Expecting property name")
    assert failures[1].reason == "line 4: not a JSON object (got list)"
    assert "line 5:" in failures[2].reason and "'text' or 'html'" in failures[2].reason


def test_jsonl_size_limit_is_per_line(tmp_path: Path) -> None:
    small = json.dumps({"text": "Bài ngắn."})
    big = json.dumps({"text": "x" * 5000})
    path = write(tmp_path, "bai.jsonl", "\n".join([small] * 50 + [big, small]) + "\n")
    assert path.stat().st_size > 1000
    docs, failures = read_jsonl(path, 1000)  # the file is bigger than the limit: fine
    assert len(docs) == 51
    assert [f.source for f in failures] == [f"{path}#L51"]
    assert "line 51: line is 4.9 KB, over the 1000 bytes limit" in failures[0].reason


def test_jsonl_html_record_and_legacy_line(tmp_path: Path) -> None:
    html = f"<html><body><article><p>{SENTENCE}</p></article></body></html>"
    path = write(
        tmp_path,
        "bai.jsonl",
        json.dumps({"html": html, "title": "Tiêu đề"}).encode() + b'\n{"text": "Vi\xd6t"}\n',
    )
    docs, failures = read_file(path, LIMIT)
    assert SENTENCE in docs[0].text and docs[0].title == "Tiêu đề"
    assert docs[0].source == f"{path}#L1"
    assert "line 2: not UTF-8" in failures[0].reason


def test_jsonl_utf16_is_refused(tmp_path: Path) -> None:
    data = (json.dumps({"text": SENTENCE}, ensure_ascii=False) + "\n").encode("utf-16")
    with pytest.raises(EncodingError, match="must be UTF-8"):
        read_file(write(tmp_path, "a.jsonl", data), LIMIT)


def test_jsonl_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match="file is empty"):
        read_file(write(tmp_path, "a.jsonl", b"\n\n"), LIMIT)


# --- HTML ---------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>Hà Nội khởi công cầu Tứ Liên - Báo Hà Nội Mới</title>
<meta property="og:title" content="Hà Nội khởi công cầu Tứ Liên">
<meta property="og:site_name" content="Báo Hà Nội Mới">
<meta property="article:published_time" content="2023-10-10T08:30:00+07:00">
</head><body>
<nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su">Thời sự</a></li>
<li><a href="/kinh-te">Kinh tế</a></li></ul></nav>
<article>
<h1>Hà Nội khởi công cầu Tứ Liên</h1>
<p>Sáng 10/10, UBND thành phố Hà Nội khởi công cầu Tứ Liên bắc qua sông Hồng.</p>
<p>Cầu dài khoảng 5,2 km, tổng mức đầu tư hơn 19.700 tỷ đồng, dự kiến xong năm 2027.</p>
<p>Công trình sẽ giảm tải cho cầu Nhật Tân và cầu Long Biên.</p>
</article>
<footer><p>Bản quyền thuộc về Báo Hà Nội Mới. Địa chỉ: 44 Lê Thái Tổ, Hà Nội.</p></footer>
</body></html>
"""


def test_html_extraction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("ingest must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = only(read_file(write(tmp_path, "trang.HTM", PAGE), LIMIT))
    paragraphs = doc.text.split("\n")
    assert (
        "Sáng 10/10, UBND thành phố Hà Nội khởi công cầu Tứ Liên bắc qua sông Hồng." in paragraphs
    )
    assert "Công trình sẽ giảm tải cho cầu Nhật Tân và cầu Long Biên." in paragraphs
    assert "Trang chủ" not in doc.text and "Bản quyền" not in doc.text
    assert doc.title == "Hà Nội khởi công cầu Tứ Liên"
    assert doc.date == "2023-10-10"
    assert doc.outlet == "Báo Hà Nội Mới"
    assert doc.source == str(tmp_path / "trang.HTM")


def test_html_without_text(tmp_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match="no article text found in the HTML"):
        read_file(
            write(tmp_path, "a.html", "<html><head><title>x</title></head><body></body></html>"),
            LIMIT,
        )


# --- the project's reference pages -----------------------------------------------------------


def test_seed_pages_read_cleanly() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} is absent (it exists only in the project's shared checkout)")
    results = list(read_all([SEEDS], LIMIT))
    assert results and all(isinstance(r, RawDocument) and r.encoding_note is None for r in results)


def test_over_long_article_refused_pattern(tmp_path: Path) -> None:
    """Issue 22: an article over MAX_ARTICLE_CHARS (a book, a whole site) is refused with the
    reason, from a file and from a JSON line alike; one just under the limit is read."""
    from hoidap.ingest.read import MAX_ARTICLE_CHARS

    line = "Việt Nam có quan hệ ngoại giao với 189 quốc gia và quan hệ kinh tế với 224 đối tác.\n"
    big = line * (MAX_ARTICLE_CHARS // len(line) + 1)
    path = write(tmp_path, "sach.txt", big)
    with pytest.raises(BadInputError, match=r"over-long article: [\d,]+ characters.*split it"):
        read_file(path, LIMIT)
    small = write(tmp_path, "dai.txt", line * (MAX_ARTICLE_CHARS // len(line) - 1))
    [doc], _ = read_file(small, LIMIT)
    assert len(doc.text) <= MAX_ARTICLE_CHARS
    records = write(tmp_path, "a.jsonl", json.dumps({"text": big}) + "\n" + json.dumps({"text": line}) + "\n")
    docs, failures = read_jsonl(records, LIMIT)
    assert len(docs) == 1 and "over-long article" in failures[0].reason
