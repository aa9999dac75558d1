"""hoidap.qa.grounding: an answer about something other than what the question names."""

from __future__ import annotations

from hoidap.qa.grounding import deputy_for_office, missing_numbers, unknown_terms

ARTICLE = ("Hội nghị Ngoại giao lần thứ 31 khai mạc sáng 14/12. Việt Nam có quan hệ thương mại với "
           "224 đối tác, xuất khẩu đạt 40.000 tỷ đồng trong giai đoạn 2016-2020. Chỉ thị 32-CT/TW.")


def test_a_year_the_article_never_states_is_missing() -> None:
    assert missing_numbers("Năm 2012 Việt Nam có quan hệ thương mại với bao nhiêu đối tác?", ARTICLE) == ("2012",)


def test_numbers_match_by_their_digits_whatever_the_separators() -> None:
    assert missing_numbers("Đối tác nào trong 224 đối tác, với 40000 tỷ đồng?", ARTICLE) == ()
    assert missing_numbers("Giai đoạn 2016 - 2020 xuất khẩu bao nhiêu?", ARTICLE) == ()
    assert missing_numbers("Từ 2016-2021 thì sao?", ARTICLE) == ("2021",)


def test_one_digit_numbers_are_not_checked() -> None:
    """They are often written in words ("lần thứ hai")."""
    assert missing_numbers("Lần thứ 2 là khi nào?", ARTICLE) == ()


def test_an_ordinal_must_be_stated_as_an_ordinal() -> None:
    """"32" of "Chỉ thị 32-CT/TW" is not the 32nd conference."""
    assert missing_numbers("Chủ đề của Hội nghị Ngoại giao lần thứ 32 là gì?", ARTICLE) == ("32",)
    assert missing_numbers("Hội nghị Ngoại giao lần thứ 31 khai mạc khi nào?", ARTICLE) == ()


SENTENCE = ("Trình bày báo cáo, Phó Thủ tướng Thường trực Chính phủ Phạm Bình Minh cho biết; "
            "Thủ tướng Phạm Minh Chính chủ trì.")


def _span(name: str) -> tuple[int, int]:
    at = SENTENCE.find(name)
    return at, at + len(name)


def test_a_deputy_does_not_answer_for_the_office() -> None:
    assert deputy_for_office("Ai là Thủ tướng năm 2021?", SENTENCE, *_span("Phạm Bình Minh"))
    assert deputy_for_office("Ai là Thủ tướng?", SENTENCE, *_span("Phó Thủ tướng Thường trực Chính phủ Phạm Bình Minh"))
    assert not deputy_for_office("Ai là Thủ tướng?", SENTENCE, *_span("Phạm Minh Chính"))


def test_a_deputy_answers_for_the_deputy_and_any_other_question() -> None:
    assert not deputy_for_office("Ai là Phó Thủ tướng?", SENTENCE, *_span("Phạm Bình Minh"))
    assert not deputy_for_office("Ai trình bày báo cáo?", SENTENCE, *_span("Phạm Bình Minh"))


def test_a_term_no_sentence_holds_is_unknown() -> None:
    """The seeds never say "vàng": a gold-price question got their date "14-12" for "hôm nay"."""
    from hoidap.search.query import parse_query

    held = {("acc", "giá"): 3, ("acc", "hôm"): 5, ("acc", "nay"): 9}

    def doc_freqs(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {p: held.get(p, 0) for p in pairs}

    assert unknown_terms(parse_query("Giá vàng hôm nay bao nhiêu?"), doc_freqs) == ("vàng",)
    assert unknown_terms(parse_query("Giá hôm nay bao nhiêu?"), doc_freqs) == ()


def test_a_term_the_collection_writes_as_one_word_or_in_a_title_only_is_known() -> None:
    """"ô tô" of an article writing "ôtô", "truy quét" of one saying it in its headline only:
    a paraphrase, not a topic the collection lacks (both refused right answers, the reader's
    confidence falling with an unknown term)."""
    from hoidap.search.query import parse_query

    sentences = {("acc", "thanh"): 2, ("acc", "niên"): 2, ("acc", "cướp"): 1, ("acc", "ôtô"): 4,
                 ("acc", "vụ"): 3, ("acc", "truy"): 1}
    titles = {("acc", "quét"): 1}

    def doc_freqs(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {p: sentences.get(p, 0) for p in pairs}

    def title_freqs(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {p: titles.get(p, 0) for p in pairs}

    assert unknown_terms(parse_query("Thanh niên cướp ô tô?"), doc_freqs) == ()
    assert unknown_terms(parse_query("Vụ truy quét?"), doc_freqs) == ("quét",)
    assert unknown_terms(parse_query("Vụ truy quét?"), doc_freqs, title_freqs) == ()
    assert unknown_terms(parse_query("Giá vàng?"), doc_freqs, title_freqs) == ("giá", "vàng")
