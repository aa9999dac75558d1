from hoidap.models import Span
from hoidap.text.segment import split_paragraphs, split_sentences


def _split(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)))]


def test_splits_on_sentence_punctuation() -> None:
    text = "Việt Nam đã nhận được trên 151 triệu liều vắc xin. 71 nước đã công nhận quy chế kinh tế thị trường!"
    assert _split(text) == [
        "Việt Nam đã nhận được trên 151 triệu liều vắc xin.",
        "71 nước đã công nhận quy chế kinh tế thị trường!",
    ]


def test_numbers_and_abbreviations_do_not_split() -> None:
    text = "TP. Hồ Chí Minh có 1.200 ca mắc mới trong ngày. PGS.TS. Nguyễn Văn An cho biết như vậy."
    assert _split(text) == ["TP. Hồ Chí Minh có 1.200 ca mắc mới trong ngày.", "PGS.TS. Nguyễn Văn An cho biết như vậy."]


def test_closing_quote_stays_with_its_sentence() -> None:
    text = 'Ông nói: "Chúng ta sẽ vượt qua khó khăn." Sau đó hội nghị bế mạc.'
    assert _split(text)[0].endswith('khó khăn."')


def test_offsets_point_into_the_original() -> None:
    text = "Tiêu đề\n\nCâu thứ nhất khá dài ở đây. Câu thứ hai cũng dài vậy.\n\nĐoạn hai có một câu."
    first = text.index("Câu")
    second = text.index("Đoạn")
    paras = [Span(first, text.index("\n\n", first)), Span(second, len(text))]
    spans = split_paragraphs(text, paras)
    assert [text[s.start : s.end] for s in spans] == [
        "Câu thứ nhất khá dài ở đây.", "Câu thứ hai cũng dài vậy.", "Đoạn hai có một câu."]


def test_a_lone_syllable_is_grown_to_the_word_it_is_part_of() -> None:
    """The reader answered "xây" for "xây dựng lực lượng cán bộ ngoại giao" (the seeds): the
    whole word at least; a word of one syllable stays as it is."""
    from hoidap.text.segment import word_around

    s = "Trong đó, điều cốt yếu là xây dựng lực lượng cán bộ ngoại giao."
    at = s.index("xây")
    assert s[slice(*word_around(s, at, at + 3))] == "xây dựng"
    at = s.index("là")
    assert word_around(s, at, at + 2) == (at, at + 2)
