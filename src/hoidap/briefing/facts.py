"""Figures in the articles, parsed, and compared across sources.

A figure is a number with what it counts: "trên 151 triệu liều vắc xin" is the
value 151,000,000, the range (151e6, unbounded) from the qualifier "trên", the
counted noun phrase "liều vắc xin" and the sentence that states it. Figures
are read from the stored sentences only, so nothing from a removed
related-article block, caption or menu is ever a figure.

Rules, not a model: Vietnamese number formats ("1.200" thousands, "2,5"
decimal, "151 triệu", "189/193"), qualifiers turned into ranges, dates,
ordinals, codes and years left out ("lần thứ 31", "22-NQ/TW", "năm 2021",
"14/12"), then the noun phrase after the number. The word lists live in
``data/facts_lexicon.json`` (``hoidap.text.lexicons``).

Modules: ``numbers`` reads the numbers and qualifiers, this module what a
figure counts, its unit and date, and ``conflicts`` compares figures across
sources (its names are re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hoidap.briefing.claims import BIRTH, CLOCK_UNIT, DATE_UNIT, MONTH_UNIT
from hoidap.briefing.conflicts import compare, intersects, label, quantity_class
from hoidap.briefing.numbers import (
    APPROX_SPREAD,
    HARD_PUNCT,
    YEAR_RANGE,
    Sent,
    is_compound,
    is_glued,
    is_labelled,
    is_number,
    is_word,
    looks_like_date,
    parse_number,
    qualifier_before,
    qualifier_range,
    split_glued_units,
)
from hoidap.models import Article, Citation, Figure
from hoidap.text.lexicons import Lexicon, fold_phrase, lexicon, synonymised
from hoidap.text.normalize import tokenize
from hoidap.text.segment import word_end

__all__ = [
    "APPROX_SPREAD", "MAX_PHRASE_SYLLABLES", "UNKNOWN_HEAD_SYLLABLES", "YEAR_RANGE",
    "Lexicon", "compare", "explicit_date", "extract_figures", "figures_in_text", "fold_phrase", "intersects",
    "label", "lexicon", "parse_number", "qualifier_range", "quantity_class",
    "sentence_citation", "synonymised",
]

# The longest noun phrase read after a number, in syllables. Six covers
# "quốc gia thành viên Liên hợp quốc" and "tổ chức nhân dân và phi chính phủ"
# while stopping before the verb phrase that usually follows.
MAX_PHRASE_SYLLABLES = 8
# After a noun the lexicon does not know, at most this many syllables: enough
# for "thanh thiếu niên" or "xe chữa cháy", short of the verb that follows.
UNKNOWN_HEAD_SYLLABLES = 3
# Dates stated in a sentence: "ngày 14/12", "tháng 7/2022", "quý I/2022", "năm 2021".
_YEAR_IN_TEXT_RE = re.compile(
    r"(?:(?:ngày|hôm)\s+(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?)"
    r"|(?:tháng\s+(\d{1,2})[/.-](\d{4}))"
    r"|(?:(?:quý\s+\w+|tháng\s+\d{1,2})\s*/\s*(\d{4}))"
    r"|(?:năm\s+(\d{4}))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Parsed:
    """A figure inside one sentence, with offsets relative to the sentence text."""

    value: float
    low: float | None
    high: float | None
    low_strict: bool
    high_strict: bool
    qualifier: str | None
    unit: str | None
    head: str | None  # the counted noun's head, folded ("quốc gia")
    counts: str | None
    start: int
    end: int
    of: float | None
    context: tuple[str, ...]
    date: str | None
    as_of_now: bool  # "đến nay": the figure is as of the article's date
    measure: str | None  # the relation or subject the sentence names (``Figure.measure``)


def _noun_phrase(s: Sent, j: int, lex: Lexicon) -> int:
    """End token (exclusive) of the noun phrase starting at ``j`` (``j`` if none).

    After a time unit ("35 năm", "26 tuổi") the phrase is the unit alone; after
    a known head noun it may run to ``MAX_PHRASE_SYLLABLES``, after an unknown
    one to ``UNKNOWN_HEAD_SYLLABLES`` (the verb that follows is not read as
    part of the noun), finishing a capitalised name it has started.
    """
    if j < len(s.toks) and s.norm(j) in lex.closed_units:
        return j + 1
    if j < len(s.toks) and (s.norm(j) in lex.np_start_stop or s.norm(j) in lex.np_stop):
        return j
    head = s.phrase_at(j, lex.head_nouns, 3)
    limit = MAX_PHRASE_SYLLABLES if head else UNKNOWN_HEAD_SYLLABLES
    # A known head is read whole, verbs in it included: "người bị thương", "người thiệt mạng".
    k = j + head
    used_and = False
    while k < len(s.toks) and (k - j < limit or (s.raw(k)[:1].isupper() and s.raw(k - 1)[:1].isupper())):
        if k > j and HARD_PUNCT.search(s.gap(k)):
            break
        if not is_word(s, k):
            break
        w = s.norm(k)
        two = f"{w} {s.norm(k + 1)}" if k + 1 < len(s.toks) else ""
        if k == j and (w in lex.np_stop_keep_first or two in lex.np_stop_keep_first):
            k += 2 if two in lex.np_stop_keep_first else 1
            continue
        if w == "và" and not used_and and 0 < k - j <= 3 and k + 1 < len(s.toks) \
                and not s.hard[k + 1] and s.phrase_at(k + 1, lex.head_nouns, 3):
            used_and = True
            k += 1
            continue
        if w in lex.np_stop or two in lex.np_stop or s.gap(k).strip() == "/":
            break
        k += 1
    if k > j and s.norm(k - 1) == "và":
        k -= 1
    # Cut by the syllable limit inside a word ("3.025 hội viên cá|nhân"): finish the word.
    if k - j >= limit and k < len(s.toks) and s.raw(k - 1)[:1].islower():
        end = word_end(s.text, s.toks[k - 1].end)
        while k < len(s.toks) and s.toks[k].end <= end:
            k += 1
    return k


def _head(s: Sent, j: int, end: int, lex: Lexicon) -> str | None:
    """The counted noun: a known head ("quốc gia"), a classifier ("chiếc"), else the first two syllables."""
    if end <= j:
        return None
    n = s.phrase_at(j, lex.head_nouns, 3)
    if n and j + n <= end:
        return " ".join(s.toks[k].norm for k in range(j, j + n))
    if s.norm(j) in lex.classifiers or end - j == 1:
        return s.norm(j)
    return f"{s.norm(j)} {s.norm(j + 1)}"



def _context(s: Sent, lo: int, hi: int, skip: set[int], lex: Lexicon) -> tuple[str, ...]:
    """Key words of tokens ``[lo, hi)``: compounds as adjacent pairs ("thương mại"), lone words alone.

    Words are folded with synonyms unified ("vaccine" -> "vắc xin"); generic
    words, the class nouns and ``skip`` (the figure itself) are dropped, and a
    dropped word or a hyphen splits a run, so "nghị viện" and "viện trợ" share
    nothing while "kinh tế - thương mại" and "thương mại" share "thương mại".
    """
    heads = {w for n in lex.noun_class for w in n.split()}
    runs: list[list[str]] = [[]]
    for k in range(lo, hi):
        if k in skip or not is_word(s, k) or (k > lo and s.gap(k).strip()):
            runs.append([])
        if k not in skip and is_word(s, k):
            runs[-1].append(s.norm(k))
    items: list[str] = []
    for run in runs:
        kept: list[list[str]] = [[]]
        for w in synonymised(run, lex):
            if w in lex.generic or w in heads:
                kept.append([])
            else:
                kept[-1].append(w)
        for part in kept:
            if len(part) == 1:
                items.append(part[0])
            items += [f"{a} {b}" for a, b in zip(part, part[1:], strict=False)]
    return tuple(dict.fromkeys(items))


def _relation(s: Sent, first: int, lex: Lexicon) -> str | None:
    """ "có quan hệ thương mại với N ..." -> "quan hệ thương mại" (the relation the count is of)."""
    if first == 0 or s.norm(first - 1) != "với" or HARD_PUNCT.search(s.gap(first)):
        return None
    c0 = s.clause_start(first - 1)
    for k in range(first - 2, c0 - 1, -1):
        if s.norm(k) == "quan" and s.norm(k + 1) == "hệ" or s.norm(k) in ("hợp", "liên") and k + 1 < first - 1:
            return s.text[s.toks[k].start : s.toks[first - 2].end]
    return None


def _subject(s: Sent, first: int, lex: Lexicon) -> str | None:
    """What a money or percent figure measures, read backwards from it:
    "kim ngạch thương mại của Việt Nam vẫn vượt mốc 600 tỷ USD" -> "kim ngạch thương mại của Việt Nam".

    Linking verbs and adverbs just before the figure are skipped; the run of
    words before them (through "của") is the subject only if it holds a
    measure noun ("kim ngạch", "tỷ lệ", "giá", ...). Otherwise ``None``: no
    subject is better than a wrong one.
    """
    k = first - 1
    while k >= 0 and not s.hard[k + 1] and (s.norm(k) in lex.linking or s.norm(k) in lex.np_stop):
        k -= 1
    end = k + 1
    while k >= 0 and not s.hard[k + 1] and end - k <= MAX_PHRASE_SYLLABLES and is_word(s, k) \
            and (s.norm(k) == "của" or (s.norm(k) not in lex.np_stop and s.norm(k) not in lex.linking)):
        k -= 1
    start = k + 1
    while start < end and s.norm(start) == "của":
        start += 1
    words = [s.norm(p) for p in range(start, end)]
    pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
    if end <= start or not (set(words) | pairs) & lex.measure_nouns:
        return None
    return s.text[s.toks[start].start : s.toks[end - 1].end]


def explicit_date(text: str, start: int, clause_end: int, year: str | None) -> str | None:
    """The last date stated before ``start``, else the first one after it in the same clause, as ISO."""
    before: str | None = None
    after: str | None = None
    for m in _YEAR_IN_TEXT_RE.finditer(text):
        d, mo, y, mo2, y2, y3, y4 = m.groups()
        if d and mo:
            yy = y or year
            iso = f"{yy}-{int(mo):02d}-{int(d):02d}" if yy else None
        elif mo2 and y2:
            iso = f"{y2}-{int(mo2):02d}"
        else:
            iso = y3 or y4
        if iso is None:
            continue
        if m.start() < start:
            before = iso
        elif m.start() < clause_end and after is None:
            after = iso
    return before or after


def _parse_sentence(text: str, lex: Lexicon, article_year: str | None) -> list[_Parsed]:
    s = Sent(text, split_glued_units(tokenize(text), lex))
    out: list[_Parsed] = []
    temporal = any(
        tuple(s.norm(k + m) for m in range(len(p))) == p
        for k in range(len(s.toks)) for p in lex.temporal
    )
    i = 0
    n = len(s.toks)
    while i < n:
        raw = s.raw(i)
        vague = s.phrase_at(i, lex.vague, 3) if s.norm(i) == "hàng" else 0
        if not vague and not is_number(raw):
            i += 1
            continue
        if not vague and (is_glued(s, i) or looks_like_date(s, i, lex) or is_labelled(s, i, lex)
                          or is_compound(s, i, lex)):
            i += 1
            continue
        qual, kind, first = qualifier_before(s, i, lex)
        of: float | None = None
        num2: float | None = None
        j = i + 1
        if vague:
            scale_word = " ".join(s.norm(k) for k in range(i, i + vague))
            value = lex.vague[scale_word]
            qual, kind, first = s.text[s.toks[i].start : s.toks[i + vague - 1].end], "vague", i
            j = i + vague
        else:
            try:
                if "/" in raw:
                    a, b = raw.split("/", 1)
                    value, of = parse_number(a), parse_number(b)
                    if "/" in b or of == 0:
                        i += 1
                        continue
                else:
                    value = parse_number(raw)
            except ValueError:
                i += 1
                continue
            # A range: "5-10 năm", "từ 10 đến 20 triệu đồng".
            if j < n and is_number(s.raw(j)) and s.gap(j).strip() in ("-", "–") and "/" not in s.raw(j):
                try:
                    num2 = parse_number(s.raw(j))
                    j += 1
                except ValueError:
                    num2 = None
            elif j + 1 < n and s.norm(j) in ("đến", "tới") and is_number(s.raw(j + 1)) \
                    and not s.hard[j] and not s.hard[j + 1] and "/" not in s.raw(j + 1):
                try:
                    num2 = parse_number(s.raw(j + 1))
                    j += 2
                except ValueError:
                    num2 = None
        # Scales: "151 triệu", "1,5 nghìn tỷ".
        mult = 1.0
        while j < n and not HARD_PUNCT.search(s.gap(j)) and s.norm(j) in lex.scales and not vague:
            mult *= lex.scales[s.norm(j)]
            j += 1
        value *= mult
        if num2 is not None:
            num2 *= mult
        # Unit: "%" right after, a currency or a measure.
        unit: str | None = None
        gap_after = s.gap(j) if j <= n else ""
        after_text = s.text[s.toks[j - 1].end :]
        if re.match(r"\s?%", after_text):
            unit = "%"
        elif j < n and not HARD_PUNCT.search(gap_after):
            u = s.phrase_at(j, lex.currencies, 3)
            if u:
                unit = lex.currencies[" ".join(s.norm(k) for k in range(j, j + u))]
                j += u
            else:
                u = s.phrase_at(j, lex.measures, 2)
                if u:
                    unit = s.text[s.toks[j].start : s.toks[j + u - 1].end]
                    j += u
        # A rate: "đồng/lít", "đồng/môn thi/thí sinh".
        while unit and unit != "%" and j < n and s.gap(j) == "/":
            k = j + 1
            if k < n and not s.hard[k] and s.gap(k) == " " and s.norm(k) not in lex.np_stop \
                    and is_word(s, k):
                k += 1
            unit += "/" + s.text[s.toks[j].start : s.toks[k - 1].end]
            j = k
        # What it counts: the noun phrase after the number (or after a measure: "1.000 tấn trái cây").
        np_start = j
        np_end = j
        money = unit is not None and unit.split("/")[0] in lex.currencies.values()
        if not money and j < n and not s.hard[j] and not (s.raw(j)[:1].isupper() and not s.raw(j).isupper()):
            np_end = _noun_phrase(s, j, lex)
        # A figure needs something it counts or measures; a bare number is left out.
        if unit is None and np_end == np_start and mult == 1.0:
            i += 1
            continue
        plain_int = not vague and raw.isdigit() and of is None
        if plain_int and YEAR_RANGE[0] <= value <= YEAR_RANGE[1] and mult == 1.0 and unit is None \
                and _head(s, np_start, np_end, lex) not in lex.head_nouns:
            i += 1
            continue  # "2021 kim ngạch": a year
        head = _head(s, np_start, np_end, lex) if unit is None else None
        np_text = s.text[s.toks[np_start].start : s.toks[np_end - 1].end] if np_end > np_start else None
        relation = _relation(s, first, lex)
        measure: str | None = relation
        if np_text and relation:
            counts: str | None = f"{np_text} có {relation}"
        elif np_text:
            counts = np_text
        else:
            counts = measure = _subject(s, first, lex)
        low: float | None
        high: float | None
        if kind == "vague":
            low, high, ls, hs = value, value * 10, False, True
        elif num2 is not None:
            low, high, ls, hs = min(value, num2), max(value, num2), False, False
        else:
            low, high, ls, hs = qualifier_range(value, kind)
        # Key words: the clause around the figure, without the figure's own numbers and head.
        c0, c1 = s.clause_start(first), s.clause_end(max(np_end - 1, i))
        skip = set(range(first, np_start))
        if head:
            skip |= {k for k in range(np_start, np_end) if s.norm(k) in head.split()}
        context = _context(s, c0, c1, skip, lex)
        start = s.toks[first].start
        end = s.toks[np_end - 1].end if np_end > np_start else (
            s.toks[j - 1].end + (len(re.match(r"\s?%", after_text).group()) if unit == "%" else 0)  # type: ignore[union-attr]
        )
        clause_end_char = s.toks[c1 - 1].end if c1 > 0 else len(text)
        date = explicit_date(text, start, clause_end_char, article_year)
        out.append(_Parsed(
            value=value, low=low, high=high, low_strict=ls, high_strict=hs,
            qualifier=qual if kind != "exact" else qual, unit=unit or head, head=head,
            counts=counts, start=start, end=end, of=of, context=context, date=date,
            as_of_now=temporal, measure=measure,
        ))
        i = max(j, i + 1)
    return out


# -- articles ------------------------------------------------------------------
def sentence_citation(article: Article, start: int, end: int, text: str, in_title: bool = False) -> Citation:
    return Citation(article.doc_id, article.source, article.title, text, start, end,
                    article.outlet, article.date, in_title=in_title)


def _stated(article: Article) -> list[tuple[str, int, Citation]]:
    """What states figures in an article, with the offset of its text and its citation: the
    title first (cited as ``in_title``: a headline's "180 hành khách" is compared with another
    source's body, issue #20), then the body's sentences."""
    out = []
    title = (article.title or "").strip()
    if article.title and title:
        at = article.title.find(title)
        out.append((title, at, sentence_citation(article, at, at + len(title), title, in_title=True)))
    out += [(s.text, s.start, sentence_citation(article, s.start, s.end, s.text)) for s in article.sentences]
    return out


def _article_day(article: Article) -> str | None:
    return article.date[:10] if article.date else None


def extract_figures(articles: Sequence[Article]) -> list[Figure]:
    """Every figure in the articles' titles and body sentences, in document then text order."""
    lex = lexicon()
    out: list[Figure] = []
    for art in articles:
        year = art.date[:4] if art.date and art.date[:4].isdigit() else None
        for text, at, cite in _stated(art):
            for p in _parse_sentence(text, lex, year):
                date = p.date or (_article_day(art) if p.as_of_now else None)
                qualifier = p.qualifier
                if qualifier is None and p.as_of_now:
                    qualifier = "đến nay"
                out.append(Figure(
                    value=p.value, low=p.low, high=p.high, qualifier=qualifier, unit=p.unit,
                    counts=p.counts, date=date,
                    text=text[p.start : p.end], start=at + p.start, end=at + p.end,
                    citation=cite, of=p.of, low_strict=p.low_strict, high_strict=p.high_strict,
                    context=p.context, measure=p.measure,
                ))
    return out


# -- dates ----------------------------------------------------------------------
# An event date: "ngày 23/8", "tối 24/8", "rạng sáng 1.9.2016", "(19/5)", "đến 31.10.2016".
# A day/month with a date word, "đến/tới" or an opening bracket just before it, so
# fractions ("bằng 1/6 mức") are not read.
_EVENT_DATE_RE = re.compile(
    r"(?:(?<=\()|(?<=\bngày )|(?<=\bhôm )|(?<=\bsáng )|(?<=\btrưa )|(?<=\bchiều )|(?<=\btối )|(?<=\bđêm )"
    r"|(?<=\bmùng )|(?<=\bmồng )|(?<=\bNgày )|(?<=\bĐêm )|(?<=\bSáng )|(?<=\bTối )|(?<=\bChiều )"
    r"|(?<=\bđến )|(?<=\btới )|(?<=\bhôm qua )|(?<=\bHôm qua )|(?<=\bvào )"
    # a day, month and year is a date wherever it stands ("kết thúc 30/5/2016")
    r"|(?=\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d\d(?!\d)))"
    # "23-27/5", a span of days, is read whole: day 23, days 23 to 27 (never "23-2", 23 February).
    r"(\d{1,2})(?:\s?[-–]\s?(\d{1,2}))?[/.-](\d{1,2})(?:[/.-](\d{4}))?(?!\d)(?![\d/.-]\d)"
    # "từ 5-12 tuổi", "từ 1/3 đến 1/2 số hộ": a range or a fraction of something, not a date
    r"(?!\s*(?:%|tuổi|lần|người|triệu|tỷ|tỉ|nghìn|ngàn|số|km|kg)\b)")
# A month: "tháng 2/2015", "vào 2/2015" (a day/month/year is an event date above).
# "từ tháng 6.2019 - 6.2020", "tháng 6/2019 đến tháng 6/2020": a span of months, read whole.
_MONTH_RE = re.compile(r"(?<=\btháng )(\d{1,2})[/.-](\d{4})"
                       r"(?:\s?(?:[-–]|đến|tới)\s?(?:tháng\s)?(\d{1,2})[/.-](\d{4}))?\b")
# A clock time: "20h", "21h30", "20 giờ 30", "8g", "19h45'", a time of day read as a claim
# ("lúc 20h" vs "lúc 21 giờ"); not durations ("trong 3 giờ", "hơn 25 giờ": a qualifier or
# "trong"/"sau" before it).
_CLOCK_RE = re.compile(
    r"(?<![\w/.,-])(?<!trong )(?<!sau )(?<!hơn )(?<!mất )(?<!suốt )(?<!sau hơn )"
    r"(\d{1,2})\s?(?:h|g|giờ)(?:\s?(\d{2})(?:'|\s?phút)?)?(?![\w])(?!\s*đồng hồ)")
# Time-zone wording: a day's difference between two sources may be the same moment.
_TIME_ZONE_RE = re.compile(r"giờ địa phương|giờ Việt Nam|giờ Hà Nội|giờ GMT|\bGMT\b|\bUTC\b|theo giờ", re.IGNORECASE)
# A person's year of birth, as the press gives it beside the name: "(Lê Thị Hậu, SN 1994)",
# "anh Võ Minh Huy (sinh năm 1985, quê Phú Yên)", "Vương Văn Danh (SN 1986, ngụ Q8)".
# A bare "sinh" only where it opens the bracket or the aside ("(sinh 1990, ...", ", sinh 1990"):
# "học sinh 2005" is a school year.
_BIRTH_RE = re.compile(r"(?:(?<!\w)SN|(?<!\w)[Ss]inh năm|(?:(?<=\()|(?<=, ))[Ss]inh)\s?((?:19|20)\d\d)(?!\d)")
# The oldest age a year of birth is read as (older: a founding year, not a person's).
MAX_AGE = 110


def extract_dates(articles: Sequence[Article]) -> list[Figure]:
    """Event dates stated in the articles' sentences, as figures whose value is the day's
    ordinal (``unit`` ``DATE_UNIT``, ``date`` the ISO day), so that two sources' dates of
    one event can be compared like their figures; months ("tháng 2/2015": the span of its days,
    ``counts`` ``MONTH_UNIT``) and clock times ("lúc 20h", "21 giờ 30", ``CLOCK_UNIT``, value in minutes) likewise. A sentence that names a time zone
    ("giờ địa phương") widens its dates by a day either way: "tối 24/8 (giờ địa phương)"
    and "22h ngày 23/8" (Vietnam time) may be the same moment.

    A person's year of birth ("SN 1994", "sinh năm 1985") is an age (unit "tuổi", ``counts``
    ``BIRTH``): the article's year (an undated one's: the latest full date it states, a year
    more allowed) less the birth year, give or take one (a birthday still to come; the nominal
    age some papers print), so that it is compared with
    another source's age of the same person ("Lê Thị H. (22 tuổi)" / "Lê Thị Hậu, SN 1994" in
    2015) and, exactly, with its year of birth (``claims.verdict``)."""
    import datetime as dt

    out: list[Figure] = []
    for art in articles:
        year = int(art.date[:4]) if art.date and art.date[:4].isdigit() else 2000
        # The year an age is counted in: the article's, else the latest its full dates name (an
        # article is written on or after them: a year more is allowed then).
        now, later = (year, 0) if art.date and art.date[:4].isdigit() else (_latest_year(art), 1)
        for text, at, cite in _stated(art):
            for m in _BIRTH_RE.finditer(text):
                age = float(now - int(m.group(1))) if now is not None else -1.0
                if 0 <= age <= MAX_AGE:
                    out.append(Figure(
                        value=age, low=age - 1, high=age + 1 + later, qualifier=None, unit="tuổi", counts=BIRTH,
                        date=None, text=m.group(), start=at + m.start(), end=at + m.end(), citation=cite))
            zone = bool(_TIME_ZONE_RE.search(text))
            for m in _EVENT_DATE_RE.finditer(text):
                d, mo, y = int(m.group(1)), int(m.group(3)), int(m.group(4) or year)
                last = int(m.group(2) or d)
                try:
                    day = float(dt.date(y, mo, d).toordinal())
                    until = float(dt.date(y, mo, last).toordinal())
                except ValueError:
                    continue
                if until < day:
                    continue  # "12-5/6" is no span of days
                spread = 1.0 if zone else 0.0
                out.append(Figure(
                    value=day, low=day - spread, high=until + spread, qualifier=None, unit=DATE_UNIT,
                    counts=DATE_UNIT, date=f"{y:04d}-{mo:02d}-{d:02d}", text=m.group(),
                    start=at + m.start(), end=at + m.end(), citation=cite))
            for m in _MONTH_RE.finditer(text):
                mo, y = int(m.group(1)), int(m.group(2))
                mo2, y2 = (int(m.group(3)), int(m.group(4))) if m.group(3) else (mo, y)
                if 1 <= mo <= 12 and 1 <= mo2 <= 12 and (y2, mo2) >= (y, mo):
                    # A month is the span of its days: "tháng 2/2015" and "3/3/2015" disagree,
                    # "tháng 3/2015" holds that day.
                    first = float(dt.date(y, mo, 1).toordinal())
                    ending = float((dt.date(y2 + mo2 // 12, mo2 % 12 + 1, 1) - dt.timedelta(days=1)).toordinal())
                    out.append(Figure(
                        value=first, low=first, high=ending, qualifier=None, unit=DATE_UNIT, counts=MONTH_UNIT,
                        date=f"{y:04d}-{mo:02d}", text=m.group(), start=at + m.start(),
                        end=at + m.end(), citation=cite))
            for m in _CLOCK_RE.finditer(text):
                h, mi = int(m.group(1)), int(m.group(2) or 0)
                if h <= 24 and mi < 60:
                    minute = float(h * 60 + mi)
                    # "20h" may be 20:00-20:59 as written; "20h30" is that minute.
                    high = minute + (59 if m.group(2) is None else 0)
                    out.append(Figure(
                        value=minute, low=minute, high=high, qualifier=None, unit=CLOCK_UNIT, counts=CLOCK_UNIT,
                        date=None, text=m.group(), start=at + m.start(), end=at + m.end(),
                        citation=cite))
    return out


_FULL_DATE_RE = re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]((?:19|20)\d\d)(?!\d)")


def _latest_year(article: Article) -> int | None:
    """The latest year of the full dates ("23/12/2015") an undated article states, if any."""
    years = [int(m.group(1)) for m in _FULL_DATE_RE.finditer(article.original_text)]
    return max(years) if years else None


def figures_in_text(text: str, date: str | None = None, doc_id: str = "text") -> list[Figure]:
    """Figures of a bare text (one pseudo-document ``doc_id``; sentences split by ``segment``)."""
    from hoidap.models import Sentence, Span
    from hoidap.text.segment import split_sentences

    spans = split_sentences(text, Span(0, len(text)))
    sents = tuple(Sentence(doc_id, k, sp.start, sp.end, text[sp.start : sp.end]) for k, sp in enumerate(spans))
    art = Article(doc_id, doc_id, None, date, None, text, text, sentences=sents)
    return extract_figures([art])
