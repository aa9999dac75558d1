import unicodedata

import pytest

from hoidap.text.normalize import (
    canonical_tone,
    fold_token,
    has_diacritics,
    normalize_text,
    strip_diacritics,
    terms,
    tokenize,
)


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [("hoà", "hòa"), ("thuý", "thúy"), ("khoẻ", "khỏe"), ("Thuỵ", "Thụy"), ("hoá", "hóa"), ("oà", "òa")],
)
def test_both_tone_styles_fold_to_one_form(new_style: str, old_style: str) -> None:
    assert fold_token(new_style) == fold_token(old_style)


@pytest.mark.parametrize("word", ["hoàn", "quý", "Huỳnh", "giữ", "gìn", "giường", "ngoài", "khuỷu", "quốc", "tuổi", "quà"])
def test_syllables_already_canonical_stay_intact(word: str) -> None:
    # Guards the naive "oà -> òa" rewrite that breaks "hoàn" and "quý".
    assert canonical_tone(word) == word


def test_nfd_input_matches_nfc_input() -> None:
    text = "Hoà bình Việt Nam"
    assert terms(unicodedata.normalize("NFD", text)) == terms(text) == ["hòa", "bình", "việt", "nam"]


def test_diacritic_free_form() -> None:
    assert strip_diacritics("Việt Nam đã nhận được") == "Viet Nam da nhan duoc"
    assert not has_diacritics("Viet Nam da nhan duoc bao nhieu lieu vac xin")
    assert has_diacritics("Việt Nam")


def test_tokens_keep_offsets_into_the_original() -> None:
    text = "Đến nay, Việt Nam đã nhận được trên 151 triệu liều (đạt 100%), 1.200 và 189/193."
    for tok in tokenize(text):
        assert fold_token(text[tok.start : tok.end]) == tok.norm
    assert [t.norm for t in tokenize(text)][-3:] == ["1.200", "và", "189/193"]


def test_offset_shift_for_slices() -> None:
    text = "Mở đầu. Hòa bình"
    toks = tokenize(text[8:], offset=8)
    assert text[toks[0].start : toks[0].end] == "Hòa"


def test_normalize_text_keeps_punctuation() -> None:
    assert normalize_text("Hoà Bình, THUÝ!") == "hòa bình, thúy!"
