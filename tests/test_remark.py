"""Marks given back to a question typed without them (hoidap.text.remark)."""

from __future__ import annotations

from hoidap.text.remark import partly_marked, remark

SENTENCES = [
    "Việt Nam là thành viên Hội đồng Nhân quyền Liên Hợp Quốc nhiệm kỳ 2023-2025.",
    "Tham dự Hội nghị tại điểm cầu Đảng bộ VKSND tối cao có đồng chí Nguyễn Huy Tiến.",
    "Việt Nam 2 lần là nước chủ nhà APEC (năm 2006 và 2017), Việt Nam cũng đăng cai ASEAN.",
]


def test_a_question_typed_without_marks_takes_the_marks_of_the_sentences_found() -> None:
    assert remark("Viet Nam la thanh vien Hoi dong Nhan quyen Lien Hop Quoc nhiem ky nao?", SENTENCES) == \
        "Việt Nam là thành viên Hội đồng Nhân quyền Liên Hợp Quốc nhiệm kỳ nào?"


def test_question_words_and_common_words_take_their_marks_without_the_sentences() -> None:
    # "bao nhieu", "o dau" are never in the sentences: the question phrases give their marks;
    # "to chuc", "nguoi" are common words the language model knows.
    assert remark("Dai hoi to chuc o dau va bao nhieu nguoi du?", SENTENCES).startswith(
        "Đại hội tổ chức ở đâu và bao nhiêu người")


def test_a_syllable_takes_the_marks_its_neighbours_call_for() -> None:
    # One plain syllable, several words: the words beside it decide.
    assert remark("Nhung nam nao Viet Nam dang cai APEC?", []) == "Những năm nào Việt Nam đăng cai APEC?"
    assert remark("Anh ay co hoc nhung van truot?", []) == "Anh ấy có học nhưng vẫn trượt?"
    assert remark("Benh nhan bi dau dau o dau?", []) == "Bệnh nhân bị đau đầu ở đâu?"
    assert remark("Dau hieu cua benh la gi?", []) == "Dấu hiệu của bệnh là gì?"



def test_a_question_word_takes_its_question_reading_where_news_would_not() -> None:
    # News text writes "thứ máy" (a machine) far more than a question's "thứ mấy": the training
    # sets' questions are counted too (scripts/train_remark.py QUESTION_WEIGHT), with the sentence
    # around still deciding ("thang máy" is a lift, not "tháng mấy").
    assert remark("Doi tuyen Viet Nam leo len vi tri thu may tren bang xep hang FIFA?", []) == \
        "Đội tuyển Việt Nam leo lên vị trí thứ mấy trên bảng xếp hạng FIFA?"
    assert remark("Vu roi thang may xay ra khi nao?", []) == "Vụ rơi thang máy xảy ra khi nào?"

def test_the_sentences_found_outweigh_the_model_for_their_own_names() -> None:
    # "Hoi dong Nhan quyen" could be many things; the sentences found say which.
    got = remark("Viet Nam la thanh vien Hoi dong Nhan quyen nhiem ky nao?", SENTENCES)
    assert "Hội đồng Nhân quyền" in got


def test_a_lower_case_syllable_takes_the_lower_case_form_not_a_name() -> None:
    # "Việt Nam" is written more often than "năm", but "nam" typed in lower case is the year word.
    got = remark("Viet Nam dang cai APEC vao nhung nam nao?", SENTENCES)
    assert got == "Việt Nam đăng cai APEC vào những năm nào?"


def test_case_punctuation_and_acronyms_stay_as_typed() -> None:
    got = remark("TAI DIEM CAU Dang bo VKSND toi cao, ai tham du?", SENTENCES)
    assert got == "TẠI ĐIỂM CẦU Đảng bộ VKSND tối cao, ai tham dự?"


def test_a_question_typed_with_most_marks_is_left_as_typed() -> None:
    # A user who typed most marks typed the words as meant: "Ai", "giao" have none to type.
    q = "Ai là Bộ trưởng Ngoại giao?"
    assert not partly_marked(q) and remark(q, SENTENCES) == q


def test_a_question_missing_a_mark_or_two_gets_them_and_keeps_its_unmarked_words() -> None:
    # Typed with most marks, one missed: "la" is "là"; "Ai" and "giao" are words without marks.
    assert remark("Ai la Bộ trưởng Ngoại giao?", []) == "Ai là Bộ trưởng Ngoại giao?"
    assert remark("Việt Nam có quan he ngoại giao với bao nhiêu quốc gia?", []) == \
        "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?"
    assert remark("Ba trụ cột của nền đối ngoại là gì?", []) == "Ba trụ cột của nền đối ngoại là gì?"


def test_a_question_typed_with_few_marks_takes_the_rest_keeping_those_typed() -> None:
    # Typed in a hurry: the syllables without marks take them, the marks typed stay as typed
    # (here in the old style: "hoà").
    q = "Viet Nam la thanh vien Hội dong Nhan quyen nhiem ky nao?"
    assert partly_marked(q)
    assert remark(q, SENTENCES) == "Việt Nam là thành viên Hội đồng Nhân quyền nhiệm kỳ nào?"
    assert remark("Ai la Bộ truong ngoai giao?", []) == "Ai là Bộ trưởng ngoại giao?"
    assert remark("Hoà binh la gi?", []).startswith("Hoà bình là gì")


def test_syllables_nowhere_written_stay_as_typed() -> None:
    assert remark("xyz abc", SENTENCES) == "xyz abc"
    assert remark("Gia iPhone o Viet Nam?", SENTENCES).endswith("iPhone ở Việt Nam?")
    assert remark("", SENTENCES) == ""
