"""Tests for hoidap.ingest.html and the HTML path of hoidap.ingest.read, on saved-page fixtures
written for this project in the style of five Vietnamese outlets (tests/data/pages/): the lead
paragraph kept, the outlet's name off the title, bylines in credits, captions, related boxes and
copyright footers out, listing pages refused, an English page flagged, mojibake repaired."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoidap.errors import BadInputError
from hoidap.ingest.html import page_shape
from hoidap.ingest.prepare import prepare
from hoidap.ingest.read import read_all, read_file
from hoidap.models import Article, FileFailure, RawDocument
from hoidap.text.clean import strip_site_suffix

PAGES = Path(__file__).parent / "data" / "pages"
LIMIT = 16 * 1024 * 1024


def read_page(name: str) -> tuple[RawDocument, Article]:
    [raw], failures = read_file(PAGES / name, LIMIT)
    assert failures == []
    return raw, prepare(raw).article


# (file, title, first body sentence (the lead), a credit, a caption's words that must be gone)
ARTICLES = [
    ("vnexpress.html", "Cảng Cái Mép đón tàu container lớn nhất từ trước đến nay",
     "Tàu container sức chở 24.000 TEU cập cảng Cái Mép sáng 12/3, lớn nhất từng đến Việt Nam.",
     "Minh Anh", "Ảnh: Minh Anh"),
    ("dantri.html", "Hà Nội mở thêm 3 tuyến buýt điện kết nối sân bay Nội Bài",
     "Từ ngày 1/6, Hà Nội đưa vào khai thác thêm 3 tuyến xe buýt điện nối trung tâm thành phố với "
     "sân bay Nội Bài, giá vé 9.000 đồng một lượt.", "Nguyễn Hải", "chạy thử trên đường"),
    ("tuoitre.html", "Đà Nẵng khánh thành cầu đi bộ qua sông Hàn",
     "Sáng 2/6, UBND TP Đà Nẵng khánh thành cầu đi bộ dài 420 m bắc qua sông Hàn sau hơn hai năm "
     "thi công, tổng vốn đầu tư 350 tỉ đồng.", "ĐOÀN NHẠN", "nhìn từ trên cao"),
    ("thanhnien.html", "Giá lúa gạo tăng, nông dân miền Tây phấn khởi",
     "Giá lúa tươi tại nhiều tỉnh đồng bằng sông Cửu Long tăng lên 8.200 đồng mỗi kg, cao nhất "
     "trong ba năm qua.", "Lê Thanh", "thu hoạch lúa ở Cần Thơ"),
    ("vov.html", "Việt Nam và Nhật Bản ký kết hợp tác về chuyển đổi xanh",
     "Chiều 9/8 tại Tokyo, hai nước đã ký 5 văn kiện hợp tác về năng lượng tái tạo, giảm phát "
     "thải và tài chính khí hậu.", "Thu Hà", "Lễ ký kết tại Tokyo"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "title", "lead", "credit", "caption"), ARTICLES)
def test_outlet_pages(name: str, title: str, lead: str, credit: str, caption: str) -> None:
    raw, art = read_page(name)
    assert art.title == title  # no " - VnExpress", " | Báo Dân trí", "- Tuổi Trẻ Online"
    assert art.sentences[0].text == lead  # the lead kept, without "(Dân trí) -", "TTO -", "VOV.VN -"
    assert credit in art.credits
    body = "\n".join(s.text for s in art.sentences)
    assert caption not in body
    for gone in ("Tin liên quan", "Đọc thêm", "Tin cùng chuyên mục", "Copyright", "©", "Giấy phép"):
        assert gone not in body
    assert art.date and art.date.startswith("2024-")
    for s in art.sentences:  # offsets still point into the text as read
        assert art.original_text[s.start : s.end] == s.text
    assert raw.encoding_note is None  # Vietnamese, clean UTF-8: nothing to report


def test_lead_paragraph_kept_pattern() -> None:
    """Bug pattern: VnExpress's p.description (the headline fact) was dropped by the extractor."""
    shape = page_shape((PAGES / "vnexpress.html").read_text(encoding="utf-8"))
    assert shape.lead and shape.lead.startswith("Tàu container sức chở 24.000 TEU")
    _, art = read_page("vnexpress.html")
    assert "24.000 TEU" in art.clean_text.split("\n\n")[0]


def test_lead_outlet_tag_is_outlet_evidence() -> None:
    raw, art = read_page("dantri.html")
    assert raw.text.count("(Dân trí) -") == 1  # kept in the text as read, so offsets hold
    assert "(Dân trí)" not in art.clean_text  # but not in the first sentence


def test_listing_page_refused_pattern() -> None:
    """Bug pattern: a homepage of many teasers was accepted as one article."""
    path = PAGES / "listing_dantri.html"
    with pytest.raises(BadInputError, match="listing page"):
        read_file(path, LIMIT)
    [failure] = read_all([path], LIMIT)
    assert isinstance(failure, FileFailure) and "ingest the articles it links to" in failure.reason


def test_article_with_related_boxes_is_not_a_listing() -> None:
    links = "".join(f'<li><a href="/{i}">Tin liên quan số {i} về giá vàng</a></li>' for i in range(20))
    body = "".join(f"<p>{'Đoạn văn dài của bài báo nói về giá vàng hôm nay. ' * 5}</p>" for _ in range(3))
    html = f"<html><body><article>{body}</article><ul>{links}</ul></body></html>"
    shape = page_shape(html)
    assert shape.teasers == 20 and shape.body_run == 3 and shape.listing_reason is None


def test_english_page_flagged() -> None:
    raw, art = read_page("english.html")
    assert raw.encoding_note and "does not look Vietnamese" in raw.encoding_note
    assert art.title == "Vietnam's exports rise 15 percent in first half"
    assert "Copyright" not in art.clean_text


def test_mojibake_page_repaired_pattern() -> None:
    """Bug pattern: UTF-8 read as Windows-1252 ("Cá»¥c HÃ ng háº£i") was ingested silently."""
    raw, art = read_page("mojibake.html")
    _, good = read_page("vnexpress.html")
    assert raw.encoding_note == "mojibake (UTF-8 read as Windows-1252) repaired"
    assert art.clean_text == good.clean_text and art.doc_id == good.doc_id


@pytest.mark.parametrize(
    ("title", "clean"),
    [
        ("Cảng Cái Mép đón tàu lớn - VnExpress", "Cảng Cái Mép đón tàu lớn"),
        ("Hà Nội mở tuyến buýt | Báo Dân trí", "Hà Nội mở tuyến buýt"),
        ("Đà Nẵng khánh thành cầu - Tuổi Trẻ Online", "Đà Nẵng khánh thành cầu"),
        ("VOV.VN | Hai nước ký kết hợp tác", "Hai nước ký kết hợp tác"),
        ("Giá vàng - Tin tức - VnExpress", "Giá vàng - Tin tức"),
        ("Việt Nam - Nhật Bản ký kết hợp tác", "Việt Nam - Nhật Bản ký kết hợp tác"),
    ],
)
def test_outlet_suffix_stripped_from_title(title: str, clean: str) -> None:
    assert strip_site_suffix(title) == clean


def test_lead_fact_is_answered_and_cited(tmp_path: Path) -> None:
    """Issue 21's symptom: the headline fact lived only in the dropped lead, so questions about it
    were answered from other sentences. Now the lead is a cited sentence."""
    from hoidap.engine import Engine

    with Engine(tmp_path / "idx") as eng:
        report = eng.ingest([PAGES / "vnexpress.html", PAGES / "dantri.html", PAGES / "listing_dantri.html"])
        assert len(report.ingested) == 2 and "listing page" in report.failed[0].reason
        ans = eng.ask("Tàu container cập cảng Cái Mép có sức chở bao nhiêu TEU?")
    assert ans.answer and "24.000 TEU" in ans.answer
    top = ans.citations[0]
    assert top.sentence.startswith("Tàu container sức chở 24.000 TEU")
    assert top.title == "Cảng Cái Mép đón tàu container lớn nhất từ trước đến nay"
    assert top.source == str(PAGES / "vnexpress.html")  # no canonical URL in the page: the path as given


def test_short_paragraph_article_with_many_links_is_not_a_listing() -> None:
    """Outlets writing one short sentence a paragraph (12-19 words) are still articles."""
    links = "".join(f'<li><a href="/{i}">Tin đọc nhiều số {i} về giá vàng hôm nay</a></li>' for i in range(30))
    body = "".join(f"<p>Giá vàng trong nước sáng nay tăng thêm {i} trăm nghìn đồng mỗi lượng so với hôm qua.</p>"
                   for i in range(4))
    shape = page_shape(f"<html><body><article>{body}</article><ul>{links}</ul></body></html>")
    assert shape.teasers == 30 and shape.body_run == 4 and shape.listing_reason is None


def test_flat_listing_of_headlines_and_excerpts_pattern() -> None:
    """A category page laid out flat (headline, time, excerpt, headline, ...) under one parent:
    its excerpts are not a run of body paragraphs, each follows its own headline."""
    items = "".join(
        f'<h3><a href="/bai-{i}.html">Tin số {i} về thời tiết miền Bắc hôm nay</a></h3><span>10:0{i % 10}</span>'
        f"<p>Tóm tắt tin số {i}: trời rét đậm, nhiệt độ thấp nhất ở vùng núi xuống dưới 5 độ C vào sáng sớm.</p>"
        for i in range(16)
    )
    shape = page_shape(f"<html><body><div class='list'>{items}</div></body></html>")
    assert shape.teasers == 16 and shape.body_run == 1 and shape.listing_reason
    assert shape.links[:2] == ("/bai-0.html", "/bai-1.html")
