"""Tests for ``hoidap.text.clean``: body spans and metadata of scraped news pages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hoidap.models import CleanedPage
from hoidap.text.clean import clean_text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "examples" / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
EVAL = SHARED / "eval"


# --- helpers -------------------------------------------------------------------


def check_spans(text: str, page: CleanedPage) -> None:
    """Spans are sorted, disjoint, inside the text and trimmed."""
    prev_end = 0
    for span in page.paragraphs:
        assert prev_end <= span.start < span.end <= len(text), (span, prev_end)
        chunk = text[span.start : span.end]
        assert chunk == chunk.strip(), repr(chunk[:40])
        prev_end = span.end


def paragraphs(text: str, page: CleanedPage) -> list[str]:
    return [text[s.start : s.end] for s in page.paragraphs]


def clean(text: str) -> tuple[CleanedPage, list[str], str]:
    """The page, its body paragraphs and the body joined, after checking the span invariants."""
    page = clean_text(text)
    check_spans(text, page)
    paras = paragraphs(text, page)
    return page, paras, "\n".join(paras)


def seed(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not files:
        pytest.skip(f"../shared/seeds not found: {SEEDS}")
    return files[0].read_text(encoding="utf-8")


def assert_starts(paras: list[str], starts: list[str]) -> None:
    """Every expected paragraph start begins exactly one body paragraph."""
    for start in starts:
        hits = [p for p in paras if p.startswith(start)]
        assert hits, f"body paragraph lost: {start!r}"


# --- the five seed pages -------------------------------------------------------

SEED_000_BODY = [
    "Nhìn tổng thể, đối ngoại đã phối hợp chặt chẽ với các ngành, lĩnh vực phát huy",
    "Trình bày báo cáo về thành tựu trong công tác",
    "Công tác đối ngoại và hội nhập quốc tế được Đ",
    "Trong đó, Đảng ta đã lãnh đạo, chỉ đạo, xây d",
    "Đảng ta đã thiết lập quan hệ với 247 chính đả",
    "Trong đại dịch COVID-19, chúng ta đã triển kh",
    "Việt Nam cũng đã kịp thời viện trợ vật tư y t",
    "Bên cạnh đó, đối ngoại góp phần tạo dựng và d",
    "Đối ngoại đa phương và hội nhập quốc tế toàn",
    "Ngoài ra, đối ngoại góp phần thu hút nguồn lự",
    "Nhờ liên kết kinh tế sâu rộng, năm 2021, mặc",
    "Các lĩnh vực công tác đối ngoại như ngoại gia",
    "Nhìn tổng thể, đối ngoại đã phối hợp chặt chẽ với các ngành, lĩnh vực dưới sự",
    "Phó Thủ tướng Thường trực Phạm Bình Minh cho",
    "Thứ hai, nhất quán thực hiện đường lối đối ng",
    "Thứ ba, chiến lược đối ngoại của Việt Nam đặt",
    "Thứ tư, đánh giá và dự báo đúng tình hình tro",
    "Thứ năm, nắm vững thời cơ, giành thắng lợi từ",
]
SEED_000_RELATED = [
    "Tổng Bí thư, Chủ tịch nước gặp gỡ cộng đồng người Việt Nam tại Mông Cổ",
    "Đổi mới sáng tạo là yếu tố quan trọng phát triển Việt Nam trong kỷ nguyên mới",
    "Khẩn trương hoàn thiện Đề án xây dựng trung tâm tài chính bảo đảm khả thi, hiệu quả",
    "Phát huy tính dân chủ trong sinh hoạt Đảng",
    "Thăm hỏi các cựu chiến binh tham gia giải phóng Thủ đô",
    "Chủ tịch nước quyết định đặc xá cho 3.763 phạm nhân",
    "Khoảng 3.000 đại biểu dự kỷ niệm 70 năm Ngày Giải phóng Thủ đô",
    "Khai mạc diễn tập khu vực phòng thủ TP Hà Nội năm 2024",
    "Tổng Bí thư, Chủ tịch nước Tô Lâm sắp thăm Mông Cổ, Ireland, Pháp",
    "Hà Nội hoàn thành diễn tập thực binh phòng thủ dân sự",
]
SEED_000_RELATED_TEASERS = [
    "Sáng 1/10/2024, tại Thủ đô Ulan Bator",
    "Sáng 1/10, Thủ tướng Chính phủ Phạm Minh Chính đã dự",
    "Chiều 30/9, tại Trụ sở Chính phủ",
    "Việc tổ chức thí điểm sinh hoạt chi bộ theo tổ đảng",
    "Sáng 30/9, Ủy viên Ban Thường vụ Thành ủy",
    "Sáng 30/9, Văn phòng Chủ tịch nước",
    "UBND thành phố Hà Nội vừa ban hành Kế hoạch số 286/KH-UBND",
    "Ngày 29/9, Bộ Quốc phòng chỉ đạo",
    "Nhận lời mời của Tổng thống Mông Cổ",
    "Ngày 28/9, TP Hà Nội tiến hành diễn tập",
]


def test_seed_000_related_block_captions_and_metadata() -> None:
    text = seed("000")
    page, paras, body = clean(text)
    assert_starts(paras, SEED_000_BODY)
    assert len(paras) == len(SEED_000_BODY)
    for headline in SEED_000_RELATED:
        assert headline not in body, headline
    for teaser in SEED_000_RELATED_TEASERS:
        assert teaser not in body, teaser
    # the run-together line of related headlines after the lead
    assert "Đối ngoại Việt Nam nâng tầm vị thế quốc gia" not in body
    assert "Tăng cường chia sẻ và gắn kết trong công tác đối ngoại Nhân dân" not in body
    # captions, section headings, furniture
    assert "Đại biểu dự tại điểm cầu Thành ủy Hà Nội" not in body
    assert "trình bày báo cáo tại hội nghị\n" not in body
    assert "Huy động nguồn lực to lớn từ bên ngoài" not in paras
    assert "5 bài học kinh nghiệm đối ngoại" not in paras
    for furniture in ("Tag", "aa", "Xem thêm", "Đọc thêm"):
        assert furniture not in paras
    assert "Tin tức 14/12/2021" not in body
    assert not body.startswith("TTTĐ")  # the outlet tag is cut off the lead's span
    assert paras[0].startswith("Nhìn tổng thể")
    assert page.title == (
        "Phát huy vai trò tiên phong của Việt Nam trong giữ vững môi trường hòa bình"
    )
    assert page.date == "2021-12-14T10:38"
    # TTTĐ is Báo Tuổi trẻ Thủ đô (tuoitrethudo.vn), the publisher of this page's layout.
    assert page.outlet == "Tuổi trẻ Thủ đô"
    assert page.credits == ()
    assert page.questions == ()


SEED_001_BODY = [
    "Trả lời phỏng vấn báo chí trước thềm Hội nghị",
    "Nhìn lại chiều dài lịch sử cách mạng nước ta,",
    "Ngành Ngoại giao có truyền thống rất đáng tự",
    "Một là, thông qua thực hiện nhất quán đường l",
    "Hai là, tranh thủ môi trường quốc tế thuận lợ",
    "Ba là, trong thời bình, ngoại giao đã đi đầu",
    "Bốn là, chủ động, tích cực đẩy mạnh hội nhập",
    "Đại hội XIII của Đảng đề ra tầm nhìn, mục tiê",
    "Với thế và lực mới sau 35 năm đổi mới, cả nướ",
    "Thứ nhất, tổ chức quán triệt thực hiện Nghị q",
    "Trên cơ sở đó, với tinh thần trách nhiệm cao",
    "Thứ hai, triển khai đồng bộ, hiệu quả các nhi",
    "Thứ ba, kết hợp chặt chẽ ngoại giao chính trị",
    "Thứ tư, tăng cường phối hợp chặt chẽ giữa ngo",
    "Thứ năm, để thực hiện thắng lợi các định hướn",
]
SEED_001_RELATED = [
    "Đại sứ Việt Nam tại Thổ Nhĩ Kỳ Đỗ Sơn Hải: Một Việt Nam không toan tính",
    "Cởi bỏ tâm lý đối phó, hãy viết câu chuyện hấp dẫn về Việt Nam!",
    "Cộng đồng Văn hóa - Xã hội ASEAN và vấn đề quyền con người",
    "Thế giới sẽ thế nào trong năm con rồng?",
    "Lan toả mạnh mẽ hình ảnh một Việt Nam tiềm lực, vị thế và uy tín mới",
    "Chuyến xuất hành đặc biệt tới Ishikawa, Nhật Bản",
]
SEED_001_RELATED_TEASERS = [
    "Suốt cuộc trò chuyện, Đại sứ Đỗ Sơn Hải",
    "Một năm 2023 thành công của đối ngoại Việt Nam",
    "Cộng đồng ASEAN nói chung",
    "Thế giới bước sang năm con rồng",
    "Thủ tướng Chính phủ Phạm Minh Chính cùng Phu nhân",
    "Cùng Công sứ Nguyễn Đức Minh",
]
SEED_001_TITLE = "Ngành ngoại giao: Tiếp tục là chủ lực và xung kích trên mặt trận đối ngoại"


def test_seed_001_repeats_captions_credits() -> None:
    text = seed("001")
    page, paras, body = clean(text)
    assert_starts(paras, SEED_001_BODY)
    assert len(paras) == len(SEED_001_BODY)
    for headline in SEED_001_RELATED:
        assert headline not in body, headline
    for teaser in SEED_001_RELATED_TEASERS:
        assert teaser not in body, teaser
    # the sapo is printed twice on the page and kept once
    assert body.count("Trả lời phỏng vấn báo chí trước thềm Hội nghị Đối ngoại") == 1
    # the title repeated as image alt text is metadata, not body
    assert SEED_001_TITLE not in body
    for caption in (
        "(Nguồn: AFP)",
        "(Nguồn: TTXVN)",
        "(Nguồn: Báo TG&VN)",
        "Khu dự trữ sinh quyển",
    ):
        assert caption not in body, caption
    for furniture in ("Back to E-magazine", "e magazine", "10:08 | 13/12/2021", "Kim Hồng"):
        assert furniture not in body, furniture
    assert page.title == SEED_001_TITLE
    assert page.date == "2021-12-13T10:08"
    assert page.outlet is None  # the page never states its outlet
    assert page.credits == ("Kim Hồng", "Đồ họa: Hồng Anh", "Ảnh: Nguyễn Hồng")
    assert page.questions == ()


SEED_002_BODY = [
    "Hôm qua 14-12, Đảng ta tổ chức hội nghị về cô",
    "Trong 35 năm tiến hành công cuộc Đổi mới, thự",
    "Việt Nam đã từng bước khẳng định được vị thế",
    "Những nỗ lực không ngừng đã đưa vị thế quốc t",
    "Đáng chú ý, Việt Nam 2 lần trúng cử với số ph",
    "Trong những thành quả đó, công tác đối ngoại",
    "Bộ Chính trị đã thông qua Nghị quyết 22-NQ/TW",
    "Hội nghị Trung ương 4 khóa XII đã thông qua N",
    "Dù còn nhiều khó khăn, thách thức, song đất n",
    "Các hoạt động đối ngoại đó đặt dưới sự lãnh đ",
    "Nâng cao chất lượng, hiệu quả hoạt động đối n",
    "Qua đó, để thế giới hiểu thêm về đường lối đố",
]


def test_seed_002_date_marker_no_title() -> None:
    text = seed("002")
    page, paras, body = clean(text)
    assert_starts(paras, SEED_002_BODY)
    assert len(paras) == len(SEED_002_BODY)
    assert paras[0].startswith("Hôm qua 14-12")  # the span starts after " date 2021-12 "
    assert "date 2021-12" not in body
    assert page.title is None
    assert page.date == "2021-12"
    assert page.outlet is None
    assert page.credits == ()


SEED_003_BODY = [
    "Ngày 14/12/2021, Bộ Chính trị, Ban Bí thư Tru",
    "Hội nghị được tổ chức trực tuyến, nối từ điểm",
    "Việc tổ chức Hội nghị này rất quan trọng bởi",
    "Phát biểu tại Hội nghị, Phó Thủ tướng Thường",
    "Thứ nhất, Đảng ta đã xác định hội nhập quốc t",
    "Thứ hai, đối ngoại đã góp phần củng cố môi tr",
    "Đến nay, Việt Nam đã có quan hệ ngoại giao vớ",
    "Thứ ba, hội nhập kinh tế quốc tế có nhiều đột",
    "Việt Nam đã có quan hệ thương mại với trên 22",
    "Nhờ liên kết kinh tế, bất chấp dịch bệnh, kim",
    "Thứ tư, vị thế quốc tế của đất nước không ngừ",
    "Đến nay, Việt Nam là thành viên của hơn 70 tổ",
    "Thứ năm, đối ngoại đóng vai trò quan trọng tr",
    "Thứ sáu, công tác về người Việt Nam ở nước ng",
    "Hai năm qua, trong bối cảnh đại dịch Covid-19",
    "Về phương hướng đối ngoại trong thời gian tới",
    "Trong điều kiện đó, sự lãnh đạo của Đảng, thế",
    "Triển khai thực hiện Nghị quyết Đại hội đại b",
    "Cùng với đó, củng cố niềm tin chính trị, khôn",
    "Đồng thời, đẩy mạnh và nâng tầm đối ngoại đa",
    "Đẩy mạnh công tác ngoại giao kinh tế phục vụ",
    "Đổi mới nội dung, nâng cao hiệu quả công tác",
    "Đẩy mạnh hội nhập quốc tế toàn diện, với hội",
    "Nâng cao hiệu quả phối hợp liên ngành trong t",
]


def test_seed_003_site_header_and_two_line_caption() -> None:
    text = seed("003")
    page, paras, body = clean(text)
    assert_starts(paras, SEED_003_BODY)
    assert len(paras) == len(SEED_003_BODY)
    assert "(Ảnh: qdnd.vn)" not in body
    assert "Tổng Bí thư Nguyễn Phú Trọng và lãnh đạo Đảng, Nhà nước" not in body
    assert "Đại biểu tham dự Hội nghị tại điểm cầu Đảng bộ VKSND tối cao" not in paras
    for furniture in (
        "CỔNG THÔNG TIN",
        "VIỆN KIỂM SÁT",
        "The Supreme People",
        "Cỡ chữ",
        "Tương phản",
    ):
        assert furniture not in body, furniture
    assert "TL" not in paras and "Tìm kiếm" not in paras
    assert page.title == (
        "Đảng bộ VKSND tối cao tham dự Hội nghị đối ngoại toàn quốc triển khai thực hiện "
        "Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIII của Đảng"
    )
    assert page.date == "2021-12-14"
    assert page.outlet == "Viện Kiểm sát nhân dân tối cao"
    assert page.credits == ()


SEED_004_BODY = [
    "Trong 2 năm qua, Việt Nam đã thực hiện 45 chu",
    "Những thành tựu nổi bật trong công tác đối ng",
    "Trong vòng 2 năm qua, các lãnh đạo chủ chốt c",
    "Đường lối đối ngoại của Đảng được tổ chức và",
    "Đã có nhiều đề án đối ngoại quan trọng được t",
    "Các chuyến thăm và điện đàm của các đồng chí",
    "Đặc biệt, chuyến thăm Trung Quốc của Tổng Bí",
    "Đối ngoại của Việt Nam đã phát huy vai trò ti",
    "Dù thế giới đang trải qua những biến động lớn",
    "Đối ngoại của Việt Nam cũng đã đóng góp quan",
    "Việc tranh thủ tốt các hiệp định thương mại t",
    "Vị thế và uy tín quốc tế của Việt Nam tiếp tụ",
    "Việt Nam đã được tín nhiệm bầu vào nhiều vị t",
    "Các thành tựu trên là minh chứng cho đường lố",
    "Công tác đối ngoại và ngoại giao đã khẳng địn",
    "Hội nghị Ngoại giao lần thứ 32 là một sự kiện",
    'Chủ đề của Hội nghị là "Phát huy vai trò tiên',
]


def test_seed_004_questions_and_source_credit() -> None:
    text = seed("004")
    page, paras, body = clean(text)
    assert_starts(paras, SEED_004_BODY)
    assert len(paras) == len(SEED_004_BODY)
    assert "Những thành tựu lịch sử trong công tác đối ngoại của Việt Nam" not in body
    assert "Nguồn: Báo CafeF" not in body
    assert "[question]" not in body
    assert page.title == "Những thành tựu lịch sử trong công tác đối ngoại của Việt Nam"
    assert page.date is None
    assert page.outlet == "Báo CafeF"
    assert page.credits == ("Nguồn: Báo CafeF",)
    assert page.questions == (
        "Những chuyến thăm lịch sử nào đã tạo nên bước phát triển mới về chất trong đối ngoại "
        "của Việt Nam?",
        "Việc đóng góp của Việt Nam vào việc kiểm soát dịch COVID-19 và phát triển kinh tế-xã hội "
        "như thế nào?",
    )


# --- inline fixtures, one per rule ---------------------------------------------

CLEAN_ARTICLE = """Giá xăng dầu trong nước giảm mạnh từ chiều nay, theo thông báo của liên Bộ.

Cụ thể, xăng RON 95 giảm 1.200 đồng mỗi lít; dầu diesel giảm 800 đồng mỗi lít.

Các mặt hàng được điều chỉnh gồm:
- Xăng E5 RON 92;
- Xăng RON 95;
- Dầu diesel và dầu hỏa.

"Chúng tôi sẽ theo dõi sát diễn biến thị trường thế giới", đại diện Bộ Công Thương nói."""


def test_clean_page_is_kept_whole() -> None:
    page, paras, _ = clean(CLEAN_ARTICLE)
    expected = [line for line in CLEAN_ARTICLE.split("\n") if line.strip()]
    assert paras == expected
    assert page.title is None and page.date is None and page.outlet is None
    assert page.credits == () and page.questions == ()


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", "\ufeff"])
def test_empty_page(text: str) -> None:
    page = clean_text(text)
    assert page.paragraphs == ()
    assert page.title is None and page.date is None and page.outlet is None


MID_ARTICLE_BOX = """Hà Nội khởi công cầu Trần Hưng Đạo bắc qua sông Hồng

Sáng 5/3, UBND thành phố Hà Nội tổ chức lễ khởi công cầu Trần Hưng Đạo.

Tin liên quan:
Hà Nội công bố quy hoạch giao thông đến năm 2030
Cầu Tứ Liên sẽ được xây dựng trong năm tới

Cây cầu dài 5,4 km, có tổng mức đầu tư khoảng 8.000 tỷ đồng.
Dự kiến công trình hoàn thành sau 36 tháng thi công."""


def test_mid_article_related_box_then_body_resumes() -> None:
    page, paras, body = clean(MID_ARTICLE_BOX)
    assert paras == [
        "Sáng 5/3, UBND thành phố Hà Nội tổ chức lễ khởi công cầu Trần Hưng Đạo.",
        "Cây cầu dài 5,4 km, có tổng mức đầu tư khoảng 8.000 tỷ đồng.",
        "Dự kiến công trình hoàn thành sau 36 tháng thi công.",
    ]
    assert "quy hoạch giao thông" not in body and "Cầu Tứ Liên" not in body
    assert page.title == "Hà Nội khởi công cầu Trần Hưng Đạo bắc qua sông Hồng"


TRAILING_RELATED = """Lãi suất tiết kiệm tiếp tục giảm ở nhiều ngân hàng trong tháng này.

Mức giảm phổ biến từ 0,2 đến 0,5 điểm phần trăm.

Có thể bạn quan tâm
Giá vàng tăng mạnh phiên đầu tuần Kinh tế

Giá vàng tăng mạnh phiên đầu tuần

Sáng nay, giá vàng trong nước tăng 500.000 đồng mỗi lượng.
Xăng dầu giảm giá từ chiều nay!

Xăng dầu giảm giá từ chiều nay!

Liên Bộ Công Thương - Tài chính vừa điều chỉnh giá xăng dầu."""


def test_trailing_related_block_headlines_and_teasers_removed() -> None:
    _, paras, _ = clean(TRAILING_RELATED)
    assert paras == [
        "Lãi suất tiết kiệm tiếp tục giảm ở nhiều ngân hàng trong tháng này.",
        "Mức giảm phổ biến từ 0,2 đến 0,5 điểm phần trăm.",
    ]


@pytest.mark.parametrize("marker", ["Đọc thêm", "XEM THÊM:", "Tin cùng chuyên mục", "Tin khác"])
def test_related_markers(marker: str) -> None:
    text = f"Bộ Y tế ghi nhận thêm 120 ca mắc mới.\n{marker}\nDịch sốt xuất huyết tăng ở phía Nam"
    _, paras, _ = clean(text)
    assert paras == ["Bộ Y tế ghi nhận thêm 120 ca mắc mới."]


def test_inline_see_also_line_removed_alone() -> None:
    text = (
        "Bộ Y tế ghi nhận thêm 120 ca mắc mới trong ngày.\n"
        "Xem thêm: Dịch sốt xuất huyết tăng mạnh ở các tỉnh phía Nam\n"
        "Số ca nặng giảm so với tuần trước."
    )
    _, paras, body = clean(text)
    assert paras == [
        "Bộ Y tế ghi nhận thêm 120 ca mắc mới trong ngày.",
        "Số ca nặng giảm so với tuần trước.",
    ]
    assert "Xem thêm" not in body


FURNITURE_PAGE = """CỔNG THÔNG TIN ĐIỆN TỬ
BỘ Y TẾ
Ministry of Health of Viet Nam
Trang chủ > Tin tức > Y tế
Tags:
Cỡ chữ: A- A A+
Chia sẻ
Facebook
Zalo
Twitter
Email
In bài
Bình luận
Bộ Y tế khuyến cáo người dân tiêm đủ liều vaccine
Thứ Ba, 14/12/2021, 10:38 (GMT+7)
Bộ Y tế vừa ban hành khuyến cáo mới về tiêm chủng.
Theo dõi Báo Sức khỏe trên Google News
Tìm kiếm"""


def test_page_furniture_removed_and_site_header_outlet() -> None:
    page, paras, _ = clean(FURNITURE_PAGE)
    assert paras == ["Bộ Y tế vừa ban hành khuyến cáo mới về tiêm chủng."]
    assert page.title == "Bộ Y tế khuyến cáo người dân tiêm đủ liều vaccine"
    assert page.date == "2021-12-14T10:38"
    assert page.outlet == "Bộ Y tế"


@pytest.mark.parametrize(
    ("header", "outlet"),
    [
        ("Cổng thông tin điện tử Chính phủ", "Chính phủ"),
        ("TRANG THÔNG TIN ĐIỆN TỬ BỘ NGOẠI GIAO", "Bộ Ngoại giao"),
        ("THỜI SỰ", None),  # a section label, not a site name
    ],
)
def test_site_header_outlet(header: str, outlet: str | None) -> None:
    text = f"{header}\nHà Nội tăng cường phòng chống dịch sốt xuất huyết\nSố ca mắc tăng mạnh."
    page, paras, _ = clean(text)
    assert page.outlet == outlet
    assert paras == ["Số ca mắc tăng mạnh."]


REPEATS = """Hà Nội mở thêm 3 tuyến buýt điện từ tháng sau

Hà Nội sẽ mở thêm 3 tuyến xe buýt điện kết nối các khu đô thị mới.
Hà Nội mở thêm 3 tuyến buýt điện từ tháng sau
Hà Nội sẽ mở thêm 3 tuyến xe buýt điện kết nối các khu đô thị mới.

Hà Nội mở thêm 3 tuyến buýt điện từ tháng sau

Các tuyến mới đi qua 4 quận nội thành."""


def test_repeated_title_and_paragraph_kept_once() -> None:
    page, paras, _ = clean(REPEATS)
    assert paras == [
        "Hà Nội sẽ mở thêm 3 tuyến xe buýt điện kết nối các khu đô thị mới.",
        "Các tuyến mới đi qua 4 quận nội thành.",
    ]
    assert page.title == "Hà Nội mở thêm 3 tuyến buýt điện từ tháng sau"


CAPTIONS = """Mưa lớn gây ngập nhiều tuyến phố ở Hà Nội.

Người dân di chuyển qua đoạn đường ngập (Ảnh: TTXVN)
Nước dâng cao tại phố Nguyễn Trãi. Ảnh: Minh Anh
Xe cộ chết máy giữa dòng nước (Ảnh minh họa)
Lực lượng chức năng hỗ trợ người dân
tại nút giao Ngã Tư Sở (Nguồn: VTV)
Cảnh sát giao thông phân luồng
Quang cảnh ngập úng - Ảnh: Q.L.

Đến chiều, nước đã rút ở phần lớn các tuyến phố."""


def test_captions_and_image_titles_are_not_body() -> None:
    page, paras, _ = clean(CAPTIONS)
    assert paras == [
        "Mưa lớn gây ngập nhiều tuyến phố ở Hà Nội.",
        "Đến chiều, nước đã rút ở phần lớn các tuyến phố.",
    ]
    assert page.credits == ()


CREDITS = """Giá lúa gạo xuất khẩu tăng cao nhất trong 2 năm.

Nông dân miền Tây phấn khởi vì được mùa được giá.

Minh Anh

Ảnh: Hoàng Long

Video: Thu Trang

Đồ họa: Hồng Anh

Nguồn: VnExpress"""


def test_credit_lines_and_closing_byline() -> None:
    page, paras, _ = clean(CREDITS)
    assert paras == [
        "Giá lúa gạo xuất khẩu tăng cao nhất trong 2 năm.",
        "Nông dân miền Tây phấn khởi vì được mùa được giá.",
    ]
    assert page.credits == (
        "Minh Anh",
        "Ảnh: Hoàng Long",
        "Video: Thu Trang",
        "Đồ họa: Hồng Anh",
        "Nguồn: VnExpress",
    )
    assert page.outlet == "VnExpress"


def test_theo_credit_and_name_mid_page() -> None:
    text = (
        "Theo Bộ Tài chính, thu ngân sách tăng 12% so với cùng kỳ năm ngoái.\n"
        "Nguyễn Văn An\n"
        "Chi thường xuyên được kiểm soát chặt chẽ.\n"
        "Theo TTXVN"
    )
    page, paras, _ = clean(text)
    assert paras == [
        "Theo Bộ Tài chính, thu ngân sách tăng 12% so với cùng kỳ năm ngoái.",
        "Chi thường xuyên được kiểm soát chặt chẽ.",
    ]
    assert page.credits == ("Theo TTXVN",)
    assert page.outlet == "TTXVN"


def test_mid_page_chart_source_is_not_the_outlet() -> None:
    text = (
        "Chỉ số giá tiêu dùng tháng 6 tăng 0,69% so với tháng trước.\n"
        "Nguồn: Tổng cục Thống kê\n"
        "Giá xăng dầu là nguyên nhân chính khiến CPI tăng."
    )
    page, paras, _ = clean(text)
    assert page.outlet is None
    assert page.credits == ("Nguồn: Tổng cục Thống kê",)
    assert len(paras) == 2


def test_list_items_after_a_colon_are_body() -> None:
    text = (
        "Wales công bố danh sách dự EURO 2016.\n"
        "Danh sách 23 cầu thủ:\n"
        "Thủ môn: Wayne Hennessey, Daniel Ward, Owain Fon Williams\n"
        "Tiền đạo: Gareth Bale, Hal Robson-Kanu, Simon Church\n"
        "\n"
        "Đội tuyển sẽ tập trung từ ngày 1/6."
    )
    _, paras, _ = clean(text)
    assert paras == [line for line in text.split("\n") if line]


def test_menu_lines_are_not_joined_into_a_title() -> None:
    text = "Trang Nhất\nDiễn Đàn\nrss feeds\nĐT Argentina chốt danh sách dự Copa America 2016\n"
    text += "Gửi 10:44pm | 21/05/2016\nHLV Gerardo Martino đã công bố danh sách 23 cầu thủ."
    page, paras, _ = clean(text)
    assert page.title == "ĐT Argentina chốt danh sách dự Copa America 2016"
    assert page.date == "2016-05-21T22:44"
    assert paras == ["HLV Gerardo Martino đã công bố danh sách 23 cầu thủ."]


@pytest.mark.parametrize(
    ("header", "iso"),
    [
        ("Tin tức 14/12/2021 10:38", "2021-12-14T10:38"),
        ("10:08 | 13/12/2021", "2021-12-13T10:08"),
        ("14/12/2021", "2021-12-14"),
        ("14-12-2021", "2021-12-14"),
        ("Thứ Ba, 14/12/2021, 10:38 (GMT+7)", "2021-12-14T10:38"),
        ("Hà Nội, ngày 14 tháng 12 năm 2021", "2021-12-14"),
        ("Cập nhật: 2021-12-14 08:05", "2021-12-14T08:05"),
    ],
)
def test_header_dates(header: str, iso: str) -> None:
    text = f"Hội nghị đối ngoại toàn quốc lần đầu tiên\n{header}\nHội nghị diễn ra trong một ngày."
    page, paras, _ = clean(text)
    assert page.date == iso
    assert paras == ["Hội nghị diễn ra trong một ngày."]


def test_leading_date_marker() -> None:
    text = " date 2022-03 Sáng nay, Quốc hội khai mạc kỳ họp bất thường."
    page, paras, _ = clean(text)
    assert page.date == "2022-03"
    assert paras == ["Sáng nay, Quốc hội khai mạc kỳ họp bất thường."]


def test_date_in_body_sentence_is_not_page_date() -> None:
    text = "Ngày 14/12/2021, Bộ Y tế công bố 5 ca mắc mới.\nCác ca bệnh đều ở Hà Nội."
    page, paras, _ = clean(text)
    assert page.date is None
    assert len(paras) == 2


@pytest.mark.parametrize(
    ("lead", "outlet", "rest"),
    [
        (
            "TTTĐ - Sáng nay, Hà Nội đón mưa lớn.",
            "Tuổi trẻ Thủ đô",
            "Sáng nay, Hà Nội đón mưa lớn.",
        ),
        ("(TTXVN) - Chiều 5/3, Quốc hội họp.", "Thông tấn xã Việt Nam", "Chiều 5/3, Quốc hội họp."),
        ("VOV.VN - Giá điện tăng 3%.", "Đài Tiếng nói Việt Nam", "Giá điện tăng 3%."),
        ("(PNVN) - Chị em hào hứng dự thi.", "PNVN", "Chị em hào hứng dự thi."),
        ("ASEAN - Trung Quốc ký hiệp định mới.", None, "ASEAN - Trung Quốc ký hiệp định mới."),
        ("(Dân trí) - Từ ngày 1/6, Hà Nội mở tuyến buýt.", "Dân trí", "Từ ngày 1/6, Hà Nội mở tuyến buýt."),
        ("(PLO)-Sáng 3/4, tòa tuyên án.", "Pháp Luật TP.HCM", "Sáng 3/4, tòa tuyên án."),
        ("TTO - Sáng 2/6, Đà Nẵng khánh thành cầu.", "Tuổi Trẻ", "Sáng 2/6, Đà Nẵng khánh thành cầu."),
        ("UAV-đã bay qua khu vực này.", None, "UAV-đã bay qua khu vực này."),
        ("Dân trí - một từ ghép thường gặp.", None, "Dân trí - một từ ghép thường gặp."),
        ("Hôm nay, Hà Nội đón mưa lớn.", None, "Hôm nay, Hà Nội đón mưa lớn."),
    ],
)
def test_lead_outlet_tag(lead: str, outlet: str | None, rest: str) -> None:
    page, paras, _ = clean(f"{lead}\nMưa kéo dài đến tối.")
    assert page.outlet == outlet
    assert paras[0] == rest


@pytest.mark.parametrize(
    "footer",
    [
        "© Copyright 1997 VnExpress.net. All rights reserved.",
        "Copyright © 2024 Tuoi Tre Online. All rights reserved.",
        "Bản quyền thuộc về Báo Dân trí. Giấy phép số 298/GP-BTTTT. Cấm sao chép dưới mọi hình thức.",
        "Giấy phép số 548/GP-BTTTT ngày 24/08/2021.",
    ],
)
def test_copyright_footer_lines_removed(footer: str) -> None:
    page, paras, _ = clean(f"Giá điện tăng 3% từ hôm nay.\nNgười dân cần tiết kiệm điện.\n{footer}")
    assert paras == ["Giá điện tăng 3% từ hôm nay.", "Người dân cần tiết kiệm điện."]


def test_every_footer_pattern_has_its_keyword() -> None:
    """The footer patterns run only on lines holding a keyword (clean.FOOTER_KEYWORDS)."""
    from hoidap.text.clean import FOOTER_KEYWORDS, FOOTER_PATTERNS

    for pattern in FOOTER_PATTERNS:
        assert any(k in pattern.replace("\\s*", " ").replace("\\b", "") for k in FOOTER_KEYWORDS), pattern


@pytest.mark.parametrize(
    "text",
    [
        "Tòa án xác định bản quyền bài hát thuộc về nhạc sĩ, không phải công ty phát hành.",
        'Luật bản quyền của EU (tên chính thức là "Copyright directive": Chỉ thị bản quyền) đã được thông qua.',
    ],
)
def test_sentence_about_copyright_is_body_pattern(text: str) -> None:
    """Bug pattern: the footer rule took a VietNews sentence naming the "Copyright directive"."""
    _, paras, _ = clean(text)
    assert paras == [text]


def test_questions_split_at_question_comma() -> None:
    text = (
        "Giá vàng tăng mạnh trong phiên sáng nay.\n"
        "[question] Vì sao, theo chuyên gia, giá vàng tăng?,Giá vàng tăng bao nhiêu?"
    )
    page, paras, _ = clean(text)
    assert page.questions == ("Vì sao, theo chuyên gia, giá vàng tăng?", "Giá vàng tăng bao nhiêu?")
    assert paras == ["Giá vàng tăng mạnh trong phiên sáng nay."]


def test_hard_wrapped_paragraph_is_one_span() -> None:
    text = "Bộ Y tế cho biết số ca mắc\nmới đã giảm mạnh trong tuần qua.\n\nTrẻ em vẫn cần tiêm đủ liều."
    _, paras, _ = clean(text)
    assert paras == [
        "Bộ Y tế cho biết số ca mắc\nmới đã giảm mạnh trong tuần qua.",
        "Trẻ em vẫn cần tiêm đủ liều.",
    ]


def test_unterminated_lines() -> None:
    prose = (
        "Những yếu tố này có thể định hình lại thương mại toàn cầu trong dài hạn. Nền kinh tế "
        "sẽ khu vực hóa, các chuỗi cung ứng ngắn hơn với những đối tác tin cậy"
    )
    headlines = (
        "Đối ngoại Việt Nam nâng tầm vị thế quốc gia Tạo sự thống nhất trong nhận thức, quán "
        "triệt đường lối đối ngoại trong toàn Đảng Tăng cường chia sẻ trong công tác đối ngoại"
    )
    text = f"Kinh tế thế giới đối mặt nhiều rủi ro.\n{headlines}\n{prose}\nTiêu đề ảnh ngắn"
    _, paras, _ = clean(text)
    assert paras == ["Kinh tế thế giới đối mặt nhiều rủi ro.", prose]


def test_question_first_line_is_body_not_title() -> None:
    text = "1. Cúm A là gì?\nCúm là bệnh nhiễm virus cấp tính đường hô hấp."
    page, paras, _ = clean(text)
    assert page.title is None
    assert paras[0] == "1. Cúm A là gì?"


def test_crlf_and_nbsp_are_trimmed() -> None:
    text = "Tiêu đề bài viết về thời tiết hôm nay\r\n\r\n\xa0Trời nắng nóng gay gắt.\xa0\r\n"
    page, paras, _ = clean(text)
    assert paras == ["Trời nắng nóng gay gắt."]
    assert page.title == "Tiêu đề bài viết về thời tiết hôm nay"


# --- bug: a navigation bar was taken as the title --------------------------------

NAV_HEADLINE = "Bộ Y tế khuyến cáo người dân tiêm đủ liều vắc xin trước Tết"
NAV_BODY = "Sáng 14/12, Bộ Y tế đề nghị các địa phương đẩy nhanh tiến độ tiêm chủng."


@pytest.mark.parametrize(
    "nav",
    [
        "Trang chủ | Thời sự | Thế giới | Kinh tế | Xã hội | Thể thao | Video",
        "Thời sự | Chính trị | Hà Nội | Kinh tế | Văn hoá | Sức khoẻ",
        "Trang chủ   Chính trị   Kinh tế   Quốc tế   Pháp luật   Đời sống",  # flattened menu
        "Trang chủ Chính trị Kinh tế Quốc tế Pháp luật Đời sống",  # gaps collapsed
        "Giáo dục Sức khỏe Giải trí Công nghệ Du lịch",
        "Trang chủ › Sức khỏe › Y tế cơ sở",
        "Trang chủ > Thời sự > Phòng chống dịch bệnh",
        "Thời sự / Xã hội / Y tế",
        "Tin tức | Đối ngoại | Kiều bào | Media",
        "BÁO TIN NHANH\nĐăng nhập | Đăng ký",  # site name and login links above the menu
    ],
    ids=[
        "pipes",
        "pipes-old-tones",
        "space-gaps",
        "run",
        "run-2",
        "chevrons",
        "gt",
        "slashes",
        "unknown-sections",
        "login",
    ],
)
def test_navigation_bar_is_not_the_title(nav: str) -> None:
    text = f"{nav}\n\n{NAV_HEADLINE}\n\nThứ Ba, 14/12/2021 10:38\n\n{NAV_BODY}"
    page, paras, _ = clean(text)
    assert page.title == NAV_HEADLINE
    assert page.date == "2021-12-14T10:38"
    assert paras == [NAV_BODY]


def test_navigation_bar_rule_keeps_real_headlines() -> None:
    # Capitalised names and a "|" inside a headline are not a menu: items are too long.
    for headline in (
        "Thể thao Việt Nam giành thêm 3 huy chương vàng tại SEA Games",
        "Tổng Bí thư Nguyễn Phú Trọng dự Hội nghị đối ngoại toàn quốc",
        "Hà Nội: Giá vàng SJC tăng mạnh phiên sáng nay | Kinh tế",
    ):
        page, paras, _ = clean(f"Trang chủ | Kinh tế | Video\n{headline}\n{NAV_BODY}")
        assert page.title == headline
        assert paras == [NAV_BODY]


# --- bug: an unknown lead abbreviation was kept over the stated outlet name -------


@pytest.mark.parametrize(
    ("header", "lead", "tail", "outlet"),
    [
        # the site header spells the abbreviation out: B(áo) T(in) N(hanh)
        ("BÁO TIN NHANH", "BTN - ", "Thanh Tùng\nNguồn: BTN tổng hợp", "Báo Tin Nhanh"),
        ("ĐIỂM TIN MỖI NGÀY", "(ĐTMN) - ", "Ngọc Anh", "Điểm Tin Mỗi Ngày"),
        # a closing credit states the full name
        ("", "BTĐ - ", "Minh Thuý\nNguồn: Bản tin Thủ đô Ngày mới", "Bản tin Thủ đô Ngày mới"),
        ("", "(BĐN) - ", "Theo Báo Đồng Nai", "Báo Đồng Nai"),
        # "tổng hợp" (compiled by) is not part of the outlet's name
        ("", "", "Nguồn: Điểm Tin Mỗi Ngày tổng hợp", "Điểm Tin Mỗi Ngày"),
        # nothing better stated: the abbreviation stays
        ("", "BTN - ", "Nguồn: BTN tổng hợp", "BTN"),
        ("THỜI SỰ", "(PNVN) - ", "Hồng Anh", "PNVN"),
        # a known abbreviation is expanded as before
        ("", "TTTĐ - ", "Nguồn: TTTĐ tổng hợp", "Tuổi trẻ Thủ đô"),
    ],
    ids=[
        "header-spells-BTN",
        "header-spells-DTMN",
        "nguon-full-name",
        "theo-full-name",
        "tong-hop-suffix",
        "abbr-only",
        "abbr-section-header",
        "known-abbr",
    ],
)
def test_outlet_abbreviation_gives_way_to_stated_name(
    header: str, lead: str, tail: str, outlet: str
) -> None:
    text = (
        f"{header}\n{NAV_HEADLINE}\n"
        f"{lead}{NAV_BODY}\nCác tỉnh phía Bắc được ưu tiên phân bổ vắc xin.\n{tail}"
    )
    page, paras, _ = clean(text)
    assert page.outlet == outlet
    assert page.title == NAV_HEADLINE
    assert paras == [NAV_BODY, "Các tỉnh phía Bắc được ưu tiên phân bổ vắc xin."]


# --- the example corpus (examples/README.md) -------------------------------------

# title, date, outlet of each .txt page, as examples/README.md documents them.
CORPUS_METADATA: dict[str, tuple[str, str, str]] = {
    "01_bao-tin-nhanh_doi-ngoai-tien-phong.txt": (
        "Đối ngoại giữ vai trò tiên phong, góp phần nâng tầm vị thế đất nước",
        "2021-12-14T10:38",
        "Báo Tin Nhanh",
    ),
    "02_cong-thong-tin-thoi-su_hoi-nghi-doi-ngoai-toan-quoc.txt": (
        "Lần đầu tiên tổ chức Hội nghị đối ngoại toàn quốc: Nhìn lại thành quả 35 năm Đổi mới",
        "2021-12-14T09:15",
        "Cổng thông tin Thời sự",
    ),
    "03_tap-chi-nhip-cau-quoc-te_phong-van-bo-truong.txt": (
        "Bộ trưởng Ngoại giao Bùi Thanh Sơn: Ngành Ngoại giao sẵn sàng cho chặng đường mới",
        "2021-12-13T10:08",
        "Tạp chí Nhịp Cầu Quốc Tế",
    ),
    "04_ban-tin-thu-do_ha-noi-du-hoi-nghi.txt": (
        "Hà Nội dự Hội nghị đối ngoại toàn quốc: Đối ngoại góp phần giữ vững môi trường hoà bình",
        "2021-12-14T15:42",
        "Bản tin Thủ đô Ngày mới",
    ),
    "05_diem-tin-moi-ngay_ngoai-giao-cay-tre.txt": (
        'Tổng Bí thư: Xây dựng nền ngoại giao mang đậm bản sắc "cây tre Việt Nam"',
        "2021-12-15T06:30",
        "Điểm Tin Mỗi Ngày",
    ),
}


def test_example_corpus_title_date_outlet() -> None:
    files = sorted(CORPUS.glob("*.txt"))
    assert [f.name for f in files] == sorted(CORPUS_METADATA)
    for path in files:
        text = path.read_text(encoding="utf-8")
        page, paras, body = clean(text)
        assert (page.title, page.date, page.outlet) == CORPUS_METADATA[path.name], path.name
        assert page.title not in body, path.name  # the headline is metadata, not body
        assert len(paras) >= 7, path.name
    questions = clean_text((CORPUS / "05_diem-tin-moi-ngay_ngoai-giao-cay-tre.txt").read_text())
    assert questions.questions == (
        "Tổng Bí thư Nguyễn Phú Trọng nói gì về bản sắc cây tre Việt Nam trong đối ngoại?",
        "Vì sao Hội nghị đối ngoại toàn quốc năm 2021 được xem là sự kiện đặc biệt?",
    )


def test_example_jsonl_texts_add_no_metadata() -> None:
    """JSONL records bring their own title/date/outlet; clean_text must not invent others."""
    for line in (CORPUS / "07_tin-tong-hop_distractors.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        page, paras, _ = clean(record["text"])
        assert (page.title, page.date, page.outlet) == (None, None, None)
        assert paras == [record["text"]]


def _news_page(size: int = 5000) -> str:
    """A page shaped like the seeds: header furniture, title, date, prose, captions, related."""

    def prose(i: int) -> str:
        return (
            f"Theo báo cáo thứ {i} của Bộ Kế hoạch và Đầu tư, tổng vốn đầu tư nước ngoài đăng ký "
            "vào Việt Nam trong 11 tháng đạt hơn 26 tỷ USD, tăng 0,1% so với cùng kỳ. Trong đó, "
            "vốn thực hiện ước đạt 17,1 tỷ USD, giảm nhẹ do dịch bệnh tại nhiều địa phương."
        )

    head = (
        "Tag\n\nVốn FDI vào Việt Nam tiếp tục tăng trong 11 tháng\n\nTin tức 14/12/2021 10:38\naa"
    )
    body = [f"TTTĐ - {prose(0)}", prose(1), "Quang cảnh khu công nghiệp (Ảnh: TTXVN)", prose(2)]
    tail = (
        "Đọc thêm\n\nGiá vàng tăng mạnh phiên đầu tuần Kinh tế\n\nGiá vàng tăng mạnh phiên đầu tuần"
        "\n\nSáng nay, giá vàng trong nước tăng 500.000 đồng mỗi lượng."
    )
    while len("\n\n".join([head, *body, tail]).encode("utf-8")) < size:
        body.append(prose(len(body)))
    return "\n\n".join([head, *body, tail])


def test_speed_on_a_5kb_page() -> None:
    """clean_text is in the ingest hot path: no slower than half its speed on the development
    machines (2,000 pages of 5 KB a second there; 1,825 on a slower AMD EPYC, where the
    2,000 of this test failed on unchanged code). A guard against a slow pattern, not a
    benchmark: ingest speed is measured by ``make bench``.

    CPU time, not wall time, so that other jobs on the machine do not fail the test.
    """
    page = _news_page()
    assert 5000 <= len(page.encode("utf-8")) < 6000
    result = clean_text(page)
    assert result.outlet == "Tuổi trẻ Thủ đô" and len(result.paragraphs) >= 6
    n = 500
    best = min(_cpu_seconds(page, n) for _ in range(3))
    assert n / best >= 1000, f"{n / best:.0f} pages/s"


def _cpu_seconds(page: str, n: int) -> float:
    t0 = time.process_time()
    for _ in range(n):
        clean_text(page)
    return time.process_time() - t0


# --- real articles ----------------------------------------------------------------


def test_clean_articles_are_not_eaten() -> None:
    """ViNewsQA contexts are clean article text: clean_text keeps >= 99% of each."""
    path = EVAL / "vinewsqa_dev.json"
    if not path.is_file():
        pytest.skip(f"../shared/eval not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts = [p["context"] for art in data["data"] for p in art["paragraphs"]][:200]
    assert len(contexts) == 200
    for context in contexts:
        page, _, _ = clean(context)
        kept = sum(s.end - s.start for s in page.paragraphs)
        assert kept >= 0.99 * len(context), context[:80]


def test_scraped_articles_keep_most_text() -> None:
    """AbMuSu raw_text is scraped article text with some captions: most of it is body."""
    path = EVAL / "abmusu_train.jsonl"
    if not path.is_file():
        pytest.skip(f"../shared/eval not found: {path}")
    total = kept = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            for doc in json.loads(line)["single_documents"]:
                text = doc["raw_text"]
                page, _, _ = clean(text)
                total += len(text)
                kept += sum(s.end - s.start for s in page.paragraphs)
    assert kept >= 0.95 * total


# --- pages of outlets the rules were not written on (the mission's "pages nobody has seen") ---

_SLOGAN_PAGE = """VnExpress
Báo tiếng Việt nhiều người xem nhất
Thứ bảy, 9/7/2022

Thời sự
Dân sinh
Thứ bảy, 9/7/2022, 15:20 (GMT+7)
Uống rượu pha chuối hột, hai anh em ruột tử vong

Ngày 9/7, cơ quan chức năng tỉnh Lâm Đồng cho biết hai anh em ruột tử vong sau khi uống rượu pha chuối hột.

Các bệnh nhân nhập viện trong tình trạng hôn mê, được chẩn đoán ngộ độc rượu.

Khánh Hương
Ý kiến (2)
Trần Hồng Nhung
Thương hai anh em còn quá trẻ, mong gia đình sớm vượt qua nỗi đau này.
Thích  Trả lời  12
Nguyễn Quốc Bảo
Rượu không rõ nguồn gốc bán tràn lan ở vùng quê, cơ quan chức năng cần kiểm tra gắt gao hơn.
© 1997-2022. Toàn bộ bản quyền thuộc VnExpress
"""


def test_the_headline_is_the_line_the_body_restates_not_the_site_slogan() -> None:
    """The first title-like line was taken: a site's slogan or a menu of unknown sections."""
    page, _, _ = clean(_SLOGAN_PAGE)
    assert page.title == "Uống rượu pha chuối hột, hai anh em ruột tử vong"


def test_readers_comments_below_the_body_are_not_body() -> None:
    """Readers' comments are full sentences on the topic: they read like the article."""
    _, paras, body = clean(_SLOGAN_PAGE)
    assert len(paras) == 2 and "Thương hai anh em" not in body and "gắt gao" not in body


def test_a_comment_count_above_the_body_does_not_end_it() -> None:
    text = ("Giá xăng giảm mạnh từ chiều nay\nBình luận (0)\n\n"
            "Giá xăng RON 95 giảm hơn 3.000 đồng một lít từ 15h chiều nay theo điều hành của liên Bộ.\n\n"
            "Đây là lần giảm thứ ba liên tiếp của giá xăng trong tháng này.\n")
    _, paras, _ = clean(text)
    assert len(paras) == 2


def test_the_site_named_in_a_header_or_footer_is_the_outlet() -> None:
    """No lead tag or closing credit named the outlet, so the page had none."""
    page, _, _ = clean(_SLOGAN_PAGE)
    assert page.outlet == "VnExpress"
    caps = _SLOGAN_PAGE.replace("VnExpress\n", "NGƯỜI LAO ĐỘNG\n", 1).replace("thuộc VnExpress", "thuộc báo")
    assert clean(caps)[0].outlet == "Người lao động"


def test_a_caption_whose_credit_closes_with_a_full_stop_is_not_body() -> None:
    text = ("Nữ diễn viên Shion Nakamaru qua đời ở tuổi 39\n\n"
            "Ngày 15/7, NHK đưa tin nữ diễn viên Shion Nakamaru qua đời ở tuổi 39 sau thời gian dài điều trị bệnh.\n\n"
            "Nữ diễn viên Shion Nakamaru (Ảnh: Nikkan Sports).\n\n"
            "Tăng trưởng GDP quý II đạt 7,7%, cao nhất trong hơn một thập kỷ (nguồn: Tổng cục Thống kê).\n")
    _, paras, body = clean(text)
    assert "Nikkan" not in body
    assert any("Tổng cục Thống kê" in p for p in paras)  # a sourced sentence stays


_SITE_HEADER_PAGE = """CAND.COM.VN
Báo Công an Nhân dân điện tử
Thứ Hai, 23/05/2016 | Hà Nội 31°C
Trang chủ » Pháp luật » Điều tra
Chạy xe ép nạn nhân ngã rồi dùng roi điện cướp giật tài sản - Báo Thế giới và Việt Nam
Chủ Nhật, 22/05/2016 10:32
Công an huyện Phú Giáo bắt giữ đôi nam nữ dùng roi điện cướp giật tài sản của người đi đường.
Hai đối tượng khai đã thực hiện 5 vụ cướp giật trên địa bàn tỉnh Bình Dương trong tháng 5.
Bạn nghĩ gì về vấn đề này?
Xử lý thật nghiêm những đối tượng manh động như vậy để người dân yên tâm đi lại.
Không được sao chép và sử dụng lại nội dung khi chưa có sự đồng ý của Báo Công an Nhân dân.
"""


def test_a_site_name_line_is_not_the_headline_and_an_appended_site_name_is_dropped() -> None:
    page, _, _ = clean(_SITE_HEADER_PAGE)
    assert page.title == "Chạy xe ép nạn nhân ngã rồi dùng roi điện cướp giật tài sản"
    assert page.outlet == "Công an Nhân dân"


def test_the_date_under_the_headline_wins_over_the_site_headers_today() -> None:
    page, _, _ = clean(_SITE_HEADER_PAGE)
    assert page.date is not None and page.date.startswith("2016-05-22")


def test_a_comments_heading_that_asks_the_reader_ends_the_body() -> None:
    _, paras, body = clean(_SITE_HEADER_PAGE)
    assert len(paras) == 2 and "thật nghiêm" not in body and "sao chép" not in body


def test_a_one_word_outlet_name_tags_the_lead_without_parentheses() -> None:
    """"(Dân trí) - " was read, "Kinhtedothi - " was not: the page had no outlet."""
    text = ("Bắt giữ 1,5 tấn lòng lợn đang phân hủy\n"
            "Kinhtedothi - Sáng nay, Công an TP Hải Phòng cho biết đã bắt giữ 1,5 tấn lòng lợn đang phân hủy.\n"
            "Lô hàng được vận chuyển từ Quảng Ninh về Hải Phòng để tiêu thụ tại các chợ đầu mối.\n")
    page, paras, _ = clean(text)
    assert page.outlet == "Kinh tế & Đô thị" and paras[0].startswith("Sáng nay")
    assert clean("Tin tức - Sự kiện nổi bật trong tuần qua được tóm tắt dưới đây cho bạn đọc.\n")[0].outlet is None


def test_a_lead_whose_full_stop_the_scrape_cut_is_kept_but_a_long_menu_is_not() -> None:
    """A lead longer than any headline but without its full stop was neither title nor body."""
    lead = ("Liên quan đến những vụ cướp giật tài sản táo tợn gây hoang mang dư luận trên địa bàn huyện "
            "Phú Giáo, tỉnh Bình Dương, sáng ngày 20/5, cơ quan cảnh sát điều tra công an huyện cho biết "
            "đã bắt giữ hai đối tượng cùng tang vật là xe máy và roi điện")
    menu = ("Chính trị  Thời sự  Kinh doanh  Dân tộc và Tôn giáo  Thể thao  Giáo dục  Thế giới  Đời sống  "
            "Văn hóa - Giải trí  Sức khỏe  Thông tin và Truyền thông  Pháp luật  Xe  Bất động sản  Du lịch  "
            "Bạn đọc  Tuần Việt Nam  Podcast  Tin tức  Kinh tế")
    text = (f"{menu}\nChạy xe ép nạn nhân ngã rồi dùng roi điện cướp giật tài sản\n{lead}\n"
            "Hai đối tượng khai đã thực hiện 5 vụ cướp giật trên địa bàn tỉnh Bình Dương trong tháng 5.\n")
    page, paras, body = clean(text)
    assert paras[0] == lead and "Thời sự" not in body
    assert page.title == "Chạy xe ép nạn nhân ngã rồi dùng roi điện cướp giật tài sản"


def test_a_writer_credited_by_theo_is_not_the_outlet_of_a_page_that_names_its_site() -> None:
    """"Theo Thu Hà" and "Theo H.A" made a writer the outlet of CafeF's and 24h's pages."""
    page = ("CafeF\nGiá vải thiều Việt Nam tại Australia lên tới 600.000 đồng một kg\n"
            "Vải thiều Việt Nam đang được bán với giá khoảng 600.000 đồng/kg tại các siêu thị ở Australia.\n"
            "Đây là mức giá cao nhất từ trước đến nay của vải thiều xuất khẩu sang thị trường này.\n{}\n")
    assert clean(page.format("Theo Thu Hà"))[0].outlet == "CafeF"
    assert clean(page.format("Theo H.A (Tổng hợp)"))[0].outlet == "CafeF"
    assert clean(page.format("Theo TTXVN"))[0].outlet == "TTXVN"  # an agency it syndicates stays the source
