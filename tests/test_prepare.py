"""Tests for hoidap.ingest.prepare: one article through the text stages; over-long ones refused."""

from __future__ import annotations

import pytest

from hoidap.errors import BadInputError
from hoidap.ingest.prepare import MAX_ARTICLE_CHARS, prepare
from hoidap.models import RawDocument

PARA = "Việt Nam có quan hệ ngoại giao với 189 quốc gia và quan hệ kinh tế với 224 đối tác. " * 10


def test_over_long_article_refused_pattern() -> None:
    """Issue 22: a body over MAX_ARTICLE_CHARS (a book, a whole site) is refused with the reason."""
    n = MAX_ARTICLE_CHARS // len(PARA) + 2
    text = "\n".join(f"Đoạn {i}. {PARA.strip()}" for i in range(n))
    with pytest.raises(BadInputError, match=r"over-long article: [\d,]+ characters .*split it"):
        prepare(RawDocument(source="sach.txt", text=text))


def test_long_article_under_the_limit_is_kept() -> None:
    n = MAX_ARTICLE_CHARS // len(PARA) - 2
    text = "\n".join(f"Đoạn {i}. {PARA.strip()}" for i in range(n))
    art = prepare(RawDocument(source="dai.txt", text=text)).article
    assert art.n_sentences == 10 * n


def test_raw_credits_come_first_once() -> None:
    raw = RawDocument(source="a.txt", text="Giá điện tăng 3% từ hôm nay.\nMinh Anh", credits=("Minh Anh",))
    assert prepare(raw).article.credits == ("Minh Anh",)
