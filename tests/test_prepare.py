"""Tests for hoidap.ingest.prepare: one article through the text stages."""

from __future__ import annotations

from hoidap.ingest.prepare import prepare
from hoidap.models import RawDocument


def test_raw_credits_come_first_once() -> None:
    raw = RawDocument(source="a.txt", text="Giá điện tăng 3% từ hôm nay.\nMinh Anh", credits=("Minh Anh",))
    assert prepare(raw).article.credits == ("Minh Anh",)


def test_documents_given_directly_are_not_length_limited() -> None:
    """The over-long limit is on what hoidap reads (ingest.read); the Python API's RawDocuments
    are the caller's choice (benchmarks/long_document.py ingests 1,000,000 characters)."""
    text = "\n".join(f"Đoạn {i}: Việt Nam có quan hệ ngoại giao với 189 quốc gia." for i in range(3000))
    assert len(text) > 150_000
    assert prepare(RawDocument(source="dai.txt", text=text)).article.n_sentences == 3000
