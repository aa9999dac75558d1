"""Tests for hoidap.text.language: the offline Vietnamese check and mojibake repair."""

from __future__ import annotations

import pytest

from hoidap.text.language import language_note, repair_mojibake, vietnamese_share

VI = ("Hội nghị Đối ngoại toàn quốc diễn ra ngày 14/12/2021 tại Hà Nội với sự tham dự của hơn "
      "1.200 đại biểu. Việt Nam hiện có quan hệ ngoại giao với 189 quốc gia và là thành viên tích "
      "cực của nhiều tổ chức quốc tế.")
VI_PLAIN = ("Hoi nghi Doi ngoai toan quoc dien ra ngay 14/12/2021 tai Ha Noi voi su tham du cua hon "
            "1.200 dai bieu. Viet Nam hien co quan he ngoai giao voi 189 quoc gia va la thanh vien "
            "tich cuc cua nhieu to chuc quoc te.")
EN = ("Vietnam's exports grew 15 percent year-on-year in the first six months to reach 190 billion "
      "dollars, the statistics office said, while imports rose 17 percent in the same period.")
FR = ("Les exportations du Vietnam ont augmenté de 15 pour cent au premier semestre pour atteindre "
      "190 milliards de dollars, selon l'office des statistiques, tandis que les importations ont "
      "progressé de 17 pour cent.")


@pytest.mark.parametrize(("text", "flagged"), [(VI, False), (VI_PLAIN, False), (EN, True), (FR, True),
                                               ("Short English note.", False)])
def test_language_note(text: str, flagged: bool) -> None:
    note = language_note(text)
    assert (note is not None) == flagged
    if note:
        assert "does not look Vietnamese" in note


def test_vietnamese_share_ranges() -> None:
    assert vietnamese_share(VI)[0] > 0.6
    assert vietnamese_share(EN)[0] < 0.05


def test_mojibake_repaired_line_by_line() -> None:
    broken = VI.encode("utf-8").decode("cp1252", errors="ignore")
    text = f"Dòng đúng: Việt Nam.\n{'Viá»‡t Nam cÃ³ quan há»‡ ngoáº¡i giao vá»›i 189 quá»‘c gia.'}"
    fixed, note = repair_mojibake(text)
    assert fixed == "Dòng đúng: Việt Nam.\nViệt Nam có quan hệ ngoại giao với 189 quốc gia."
    assert note == "mojibake (UTF-8 read as Windows-1252) repaired"
    assert repair_mojibake(VI) == (VI, None)
    assert broken != VI


def test_clean_vietnamese_is_never_touched() -> None:
    for text in (VI, VI_PLAIN, EN, "Giá “xăng” tăng — 3%… © 2024", "Café, naïve, Ökonomie"):
        assert repair_mojibake(text) == (text, None)
