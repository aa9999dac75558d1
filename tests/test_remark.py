"""Marks given back to a question typed without them (hoidap.text.remark)."""

from __future__ import annotations

from hoidap.text.remark import remark

SENTENCES = [
    "Việt Nam là thành viên Hội đồng Nhân quyền Liên Hợp Quốc nhiệm kỳ 2023-2025.",
    "Tham dự Hội nghị tại điểm cầu Đảng bộ VKSND tối cao có đồng chí Nguyễn Huy Tiến.",
    "Việt Nam 2 lần là nước chủ nhà APEC (năm 2006 và 2017), Việt Nam cũng đăng cai ASEAN.",
]


def test_a_question_typed_without_marks_takes_the_marks_of_the_sentences_found() -> None:
    assert remark("Viet Nam la thanh vien Hoi dong Nhan quyen Lien Hop Quoc nhiem ky nao?", SENTENCES) == \
        "Việt Nam là thành viên Hội đồng Nhân quyền Liên Hợp Quốc nhiệm kỳ nào?"


def test_question_words_take_their_marks_from_the_word_lists() -> None:
    # "bao nhieu", "o dau" are never in the sentences: the question phrases give their marks;
    # "nguoi" is a function word the sentences lack; "to chuc" is nowhere, so it stays.
    assert remark("Dai hoi to chuc o dau va bao nhieu nguoi du?", SENTENCES) == \
        "Dai hội to chuc ở đâu và bao nhiêu người dự?"


def test_a_lower_case_syllable_takes_the_lower_case_form_not_a_name() -> None:
    # "Việt Nam" is written more often than "năm", but "nam" typed in lower case is the year word.
    got = remark("Viet Nam dang cai APEC vao nhung nam nao?", SENTENCES)
    assert got == "Việt Nam đăng cai APEC vào những năm nào?"


def test_case_punctuation_and_acronyms_stay_as_typed() -> None:
    got = remark("TAI DIEM CAU Dang bo VKSND toi cao, ai du?", SENTENCES)
    assert got == "TẠI ĐIỂM CẦU Đảng bộ VKSND tối cao, ai dự?"


def test_a_question_with_any_marks_is_left_as_typed() -> None:
    # A user who typed some marks typed the words as meant.
    q = "Viet Nam là thanh vien nao?"
    assert remark(q, SENTENCES) == q


def test_syllables_nowhere_found_stay_unmarked() -> None:
    assert remark("xyz abc", SENTENCES) == "xyz abc"
    assert remark("Gia iPhone o Viet Nam?", SENTENCES) == "Gia iPhone ở Việt Nam?"
    assert remark("Viet Nam?", []) == "Viet Nam?"
