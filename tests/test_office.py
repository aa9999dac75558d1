"""Tests for hoidap.ingest.office and the PDF/DOCX path of hoidap.ingest.read: paragraphs with
offsets into the extracted text, metadata, and clear reasons for scans and broken files. The PDF
and DOCX files are made by the tests (tests/documents.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoidap.errors import BadInputError, EmptyDocumentError
from hoidap.ingest.office import docx_text, pdf_text
from hoidap.ingest.prepare import prepare
from hoidap.ingest.read import read_all, read_file
from hoidap.models import FileFailure, RawDocument
from tests.documents import make_docx, make_pdf

LIMIT = 16 * 1024 * 1024
PAGE_1 = [
    "Hội nghị Đối ngoại toàn quốc diễn ra ngày 14/12/2021 tại Hà Nội, với sự tham dự của",
    "1.200 đại biểu trong và ngoài nước, theo Bộ Ngoại giao, là hội nghị lớn nhất từ trước.",
    "Tổng Bí thư phát biểu chỉ đạo.",
    "",
    "Việt Nam hiện có quan hệ ngoại giao với 189 quốc gia, quan hệ kinh tế với 224 đối tác.",
]
PAGE_2 = ["Hội nghị kết thúc vào chiều cùng ngày."]


def test_pdf_paragraphs_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "hoi-nghi.pdf"
    path.write_bytes(make_pdf([PAGE_1, PAGE_2], title="Hội nghị Đối ngoại", author="Nguyễn Văn A"))
    [raw], failures = read_file(path, LIMIT)
    assert failures == [] and raw.source == str(path)
    assert raw.title == "Hội nghị Đối ngoại" and raw.credits == ("Nguyễn Văn A",)
    paragraphs = raw.text.split("\n\n")
    # Printed lines of one paragraph are joined; a short line ending a sentence ends it.
    assert paragraphs == [
        f"{PAGE_1[0]} {PAGE_1[1]} {PAGE_1[2]}",
        PAGE_1[4],
        PAGE_2[0],
    ]
    art = prepare(raw).article
    assert art.credits == ("Nguyễn Văn A",)
    assert [s.text for s in art.sentences][-2:] == [PAGE_1[4], PAGE_2[0]]
    for s in art.sentences:
        assert art.original_text[s.start : s.end] == s.text


def test_scanned_pdf_has_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([[], []]))
    with pytest.raises(EmptyDocumentError, match="no text layer .*OCR"):
        read_file(path, LIMIT)


def test_broken_pdf_and_docx(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a readable PDF"):
        pdf_text(b"%PDF-1.4\nnot really")
    with pytest.raises(BadInputError, match="not a readable DOCX"):
        docx_text(b"PK\x03\x04 not a zip")


def test_docx_paragraphs_tables_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.docx"
    path.write_bytes(make_docx(
        ["Việt Nam có quan hệ ngoại giao với 189 quốc gia.", "", "Hội nghị có 1.200 đại biểu."],
        title="Báo cáo đối ngoại năm 2021", author="Trần Thị B",
        table=[["Chỉ tiêu", "Số lượng"], ["Quốc gia", "189"]],
    ))
    [raw], _ = read_file(path, LIMIT)
    assert raw.title == "Báo cáo đối ngoại năm 2021" and raw.credits == ("Trần Thị B",)
    assert raw.text.split("\n\n") == [
        "Báo cáo đối ngoại năm 2021",
        "Việt Nam có quan hệ ngoại giao với 189 quốc gia.",
        "Hội nghị có 1.200 đại biểu.",
        "Chỉ tiêu | Số lượng",
        "Quốc gia | 189",
    ]
    art = prepare(raw).article
    assert "Hội nghị có 1.200 đại biểu." in [s.text for s in art.sentences]


def test_empty_docx(tmp_path: Path) -> None:
    path = tmp_path / "trong.docx"
    path.write_bytes(make_docx([]))
    with pytest.raises(EmptyDocumentError, match="DOCX file has no text"):
        read_file(path, LIMIT)


def test_pdf_and_docx_in_a_folder_are_read(tmp_path: Path) -> None:
    """Bug pattern: .pdf/.docx inside a folder were skipped silently."""
    (tmp_path / "a.pdf").write_bytes(make_pdf([PAGE_1]))
    (tmp_path / "b.docx").write_bytes(make_docx(["Hội nghị có 1.200 đại biểu."]))
    (tmp_path / "c.pdf").write_bytes(make_pdf([[]]))
    results = list(read_all([tmp_path], LIMIT))
    assert [Path(r.source).name for r in results if isinstance(r, RawDocument)] == ["a.pdf", "b.docx"]
    [failure] = [r for r in results if isinstance(r, FileFailure)]
    assert Path(failure.source).name == "c.pdf" and "no text layer" in failure.reason


def test_pdf_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "lon.pdf"
    path.write_bytes(make_pdf([PAGE_1]))
    with pytest.raises(BadInputError, match="over the"):
        read_file(path, 100)


def test_password_protected_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("mat-khau", algorithm="RC4-128")
    path = tmp_path / "khoa.pdf"
    with path.open("wb") as f:
        writer.write(f)
    with pytest.raises(BadInputError, match="password-protected"):
        read_file(path, LIMIT)
