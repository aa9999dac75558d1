"""Find the article body of a scraped news page, and its metadata.

``clean_text`` never rewrites text: it returns body paragraphs as spans of the
page it was given, so every later citation quotes the page exactly. Everything
else (navigation, related-article lists, captions, repeated headlines, credits)
is either dropped or turned into metadata. The rules are line-based because
scraped pages put one block (paragraph, caption, headline, widget) per line.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hoidap.models import CleanedPage, Span
from hoidap.shipped import data_json

logger = logging.getLogger(__name__)


# The long word lists live in data/clean_patterns.json (read once, here); the rules that
# use them, and why, are described where each constant is bound below.
_WORDS = data_json("clean_patterns.json")
_PAGE_WORDS = data_json("page_patterns.json")  # the site names and title separators HTML reading uses too


# --- tuned constants -------------------------------------------------------
# fmt: off

# Lines introducing a related-article / "more news" widget. What follows them is
# a list of other articles' headlines and teasers until real body text resumes.
RELATED_MARKERS: tuple[str, ...] = tuple(_WORDS["related_markers"])
# Headings of a readers' comments section ("Bình luận (3)", "Ý kiến (5)", "Gửi bình luận"). Once
# the body has begun, such a heading ends it: the comments below are readers' full sentences,
# which read like body text. Above the body it is a share bar's count, and only furniture.
COMMENT_MARKERS: tuple[str, ...] = tuple(_WORDS["comment_markers"])

# Words that make up share bars, font widgets and navigation ("Cỡ chữ: Tương phản",
# "Chia sẻ Facebook Zalo", "Back to E-magazine"). A short line made only of these is
# furniture; matching words rather than whole lines also catches their combinations.
FURNITURE_WORDS: frozenset[str] = frozenset(_WORDS["furniture_words"])
FURNITURE_MAX_WORDS = 8  # share bars are short; a longer line is content
FURNITURE_LINE_MAX_WORDS = 20  # headers, breadcrumbs, "follow us" lines are one short line

# Section names of Vietnamese news sites, casefolded, in both tone-mark styles (hoá/hóa).
# Menus and breadcrumbs ("Trang chủ | Thời sự | Thế giới", "Trang chủ Chính trị Kinh tế")
# are made of them; such a line is furniture and never the title (the headline follows it).
SECTION_NAMES: frozenset[str] = frozenset(_WORDS["section_names"])
# Separators of menu items: "|", "›", "»", ">", "/"; or the runs of spaces that remain when
# a scraper flattens a horizontal menu ("Trang chủ   Chính trị   Kinh tế").
MENU_MAX_CHARS = 200  # a whole top menu fits on one line
MENU_ITEM_MAX_WORDS = 4  # "Bất động sản", "Khoa học - Công nghệ"; longer items are headlines
MENU_MIN_ITEMS = 3  # symbol-separated short items, even of unknown sections ("... | Đối ngoại")
MENU_MIN_SECTIONS = 2  # section names run together without separators

# Furniture that a word list cannot express.
FURNITURE_PATTERNS: tuple[str, ...] = (
    r"theo dõi\b.{0,80}\b(?:google news|facebook|zalo|youtube|tiktok)\W*",  # "follow us on ..."
    r"mời (?:quý )?(?:độc giả|bạn đọc)\b.{0,60}",  # "Mời độc giả xem thêm video:"
    r"\S.{0,50}(?:\s[>»›/]\s.{1,50}){1,6}",  # breadcrumb "Trang chủ > Thời sự > ..."
    r"(?:(?:cổng|trang) thông tin|báo|tạp chí) điện tử.{0,80}",  # site header
)
# The generic part of a site header; the organisation's name follows it.
PORTAL_LABEL = r"(?:(?:cổng|trang) thông tin|báo|tạp chí) điện tử"

# Labels of a credit line ("Nguồn: Báo CafeF", "Ảnh: Nguyễn Hồng", "Đồ họa: ...").
CREDIT_LABELS: tuple[str, ...] = tuple(_WORDS["credit_labels"])
# "Nguồn: BTN tổng hợp" is "compiled by BTN": the words after the outlet's name are not part of it.
OUTLET_CREDIT_SUFFIXES: tuple[str, ...] = tuple(_WORDS["outlet_credit_suffixes"])
CREDIT_MAX_CHARS = 100  # a credit names people or outlets; a long "Nguồn: ..." is a sentence
BYLINE_MAX_WORDS = 6  # "Kim Hồng", "DS Nguyễn Thu Giang", "Theo TTXVN"; longer is text
BYLINE_MAX_CHARS = 60

# Common outlet abbreviations used as a lead tag ("TTTĐ - ...", "(TTXVN) - ...").
# TTTĐ is Báo Tuổi trẻ Thủ đô (tuoitrethudo.vn), whose pages look like seed 000.
OUTLET_ABBREVIATIONS: dict[str, str] = dict(_WORDS["outlet_abbreviations"])
# Outlets whose lead tag is a name in parentheses ("(Dân trí) - ...") rather than an abbreviation.
LEAD_OUTLET_NAMES: dict[str, str] = {
    k: v for k, v in _WORDS["lead_outlet_names"].items() if not k.startswith("_")
}
# The names and domains of Vietnamese news sites (data/page_patterns.json, casefolded), for a
# page that names its own site only in a header or footer line ("VnExpress", "Báo điện tử Dân
# trí", "© 1997-2022. Toàn bộ bản quyền thuộc VnExpress"): the outlet when nothing else names one.
SITE_NAMES: frozenset[str] = frozenset(_PAGE_WORDS["title_outlets"])
SITE_LINE_MAX_CHARS = 80  # a site's name line is short; a longer line mentioning it is text
SITE_SUFFIX_MAX_WORDS = 8  # "Báo Thế giới và Việt Nam" after a headline's separator
# How a page joins a headline and its site's name ("... - VnExpress", "... | Báo Dân trí").
TITLE_SEPARATORS: tuple[str, ...] = tuple(_PAGE_WORDS["title_separators"])

# Copyright and legal footer lines ("© Copyright 1997 VnExpress.net. All rights reserved.",
# "Giấy phép số 298/GP-BTTTT"): dropped wherever they are. A footer is one line of a few parts;
# a longer line that matches is body text about copyright, and kept.
FOOTER_PATTERNS: tuple[str, ...] = tuple(_WORDS["footer_patterns"])
FOOTER_MAX_CHARS = 300
# Every footer pattern holds one of these words: the patterns run only on a line that has one
# (substring tests cost ~1/20 of the patterns' search on the lines of a page).
FOOTER_KEYWORDS: tuple[str, ...] = tuple(_WORDS["footer_keywords"])
# An unknown lead tag ("BTN - ...") is the outlet only when the page states no full name.
# A single upper-case token this short is an abbreviation, not a name ("BTN", "VOV.VN").
ABBREVIATION_MAX_CHARS = 10
# Upper-case words that start a lead paragraph without being an outlet ("ASEAN - Trung Quốc").
NOT_OUTLET_TAGS: frozenset[str] = frozenset(_WORDS["not_outlet_tags"])
# Nouns that head an organisation's name; the following word is capitalised too
# ("VIỆN KIỂM SÁT ..." -> "Viện Kiểm sát ...").
ORG_HEADS: frozenset[str] = frozenset(_WORDS["org_heads"])

CAPTION_TAIL_CHARS = 150  # a photo credit is short; only the end of a line can hold one
TITLE_MIN_WORDS = 4  # shorter lines are section labels ("Tin tức", "Thế giới")
# The body paragraphs a headline is compared with (``_choose_title``): a headline restates the lead.
TITLE_BODY_PARAGRAPHS = 3
TITLE_MAX_WORDS = 40
# Share of lower-case words from which a line above the body that is longer than any headline
# is read as the lead (``_cut_lead``). On the design pages (sets X and Z) body lines of over 20
# words are 83% lower case at the median; a flattened menu of two-word sections ("Thời sự Kinh
# tế ...") is about half, so the bar stands well above it.
CUT_LEAD_LOWER_SHARE = 0.7
DATE_LINE_MAX_WORDS = 4  # words besides the date on a metadata line ("Tin tức", "Thứ Ba")
DATE_LINE_MAX_CHARS = 80
# "Tags:", "Mời độc giả xem thêm video:" may end like a sentence but are short.
FURNITURE_LINE_MAX_CHARS = 80
# A paragraph whose end was cut or glued (no final punctuation) is still body when it is
# long and contains a sentence boundary; headline runs and captions have neither.
UNTERMINATED_BODY_MIN_CHARS = 80
RELATED_HEADLINE_MAX_WORDS = 40
JOIN_MIN_WORDS = 5  # a line continued on the next line is a cut sentence, not a menu item
SUFFIX_MAX_WORDS = 3  # a repeated headline may carry a category label ("... Tin tức")

MARKER_MAX_CHARS = max(len(m) for m in RELATED_MARKERS) + 3  # room for " :"
COMMENT_MARKER_MAX_CHARS = max(len(m) for m in COMMENT_MARKERS) + 8  # room for " (123):"
_SENTENCE_END = frozenset(".!?…:;")
_CLOSERS = "\"'”’»)]•■"  # closing quotes/brackets, and end-of-article marks
_PROSE_TAIL = frozenset(',"”')
# fmt: on

# --- compiled patterns -------------------------------------------------------

def _alternation(phrases: Iterable[str]) -> str:
    """A regex alternation of literal phrases, longest first (so "tin liên quan" wins over "tin")."""
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


_MARKERS = _alternation(RELATED_MARKERS)
_MARKER_LINE_RE = re.compile(rf"(?:{_MARKERS})\s*:?", re.IGNORECASE)
_COMMENTS_RE = re.compile(rf"(?:{_alternation(COMMENT_MARKERS)})\s*(?:\(\d+\))?\s*[:?]?", re.IGNORECASE)
_MARKER_INLINE_RE = re.compile(rf"(?:{_MARKERS})\s*(?::|>>|»|-|–|—)\s*\S", re.IGNORECASE)
_FURNITURE_RE = re.compile("|".join(f"(?:{p})" for p in FURNITURE_PATTERNS), re.IGNORECASE)
_DROP_PUNCT = str.maketrans(dict.fromkeys(":|()[]•·,;.", " "))
_LABELS = _alternation(CREDIT_LABELS)
_CREDIT_RE = re.compile(rf"(?:{_LABELS})\s*:\s*(\S.*)", re.IGNORECASE)
# A whole-line parenthesised credit: "(Theo DailyMail)", "(Tổng hợp)".
_PAREN_CREDIT_RE = re.compile(
    r"\(\s*((?:theo|nguồn|tổng hợp|ảnh|photo)\b[^()]{0,80})\)\.?", re.IGNORECASE
)
_THEO_RE = re.compile(r"theo\s+(?!dõi\b)(\S.*?)\.?", re.IGNORECASE)
# A caption ends with its photo credit: "... (Ảnh: qdnd.vn)", "(Ảnh minh họa)", "... - Ảnh: Q.L."
_CAPTION_END_RE = re.compile(
    # "(Ảnh: Nikkan Sports)." may close with a full stop; "(nguồn: ...)." closes a sourced sentence.
    r"(?:\(\s*(?:ảnh|photo|video|clip|đồ\s*h[oọ]a)\b[^()]*\)\.?|\(\s*nguồn\b[^()]*\)"
    r"|[.\-–—|]\s*(?:ảnh|photo)(?:\s+minh\s+h[oọ]a)?(?:\s*:\s*[^:()]{1,60})?)\s*$",
    re.IGNORECASE,
)
_PORTAL_RE = re.compile(PORTAL_LABEL, re.IGNORECASE)
_MENU_SEP_RE = re.compile(r"[|›»>/]|\s\s")
_WORD_RE = re.compile(r"\w+")
_SITE_LINE_RE = re.compile(
    r"(?:©\s*)?(?:copyright\s*)?(?:\d{4}\s*(?:-\s*\d{4})?\s*\.?\s*)?"
    r"(?:(?:toàn bộ )?bản quyền thuộc (?:về )?)?(?:báo điện tử |báo |trang tin điện tử |tạp chí )?(.+?)"
    r"(?: điện tử)?[\s.]*",
    re.IGNORECASE)
_SITE_LABEL_RE = re.compile(r"(?:báo|tạp chí)\s", re.IGNORECASE)
_INITIALS_RE = re.compile(r"(?:[A-ZĐ]\.\s?)+[A-ZĐ]\.?")
_MENU_SPLIT_RE = re.compile(r"\s*[|›»>/]\s*|\s{2,}")
_MENU_SYMBOL_RE = re.compile(r"[|›»>/]")
_MENU_ITEM_END = frozenset(".!?…:;,")
_SECTION_MAX_WORDS = max(len(n.split()) for n in SECTION_NAMES)
_SECTION_FIRST_WORDS = frozenset(n.split()[0] for n in SECTION_NAMES)
_SUFFIXES = "|".join(re.escape(x) for x in OUTLET_CREDIT_SUFFIXES)
_OUTLET_SUFFIX_RE = re.compile(rf"\s*[(,\-–]?\s*(?:{_SUFFIXES})\s*\)?\s*$", re.IGNORECASE)
_DIGIT_RE = re.compile(r"\d")
_ENUM_RE = re.compile(r"(?:\d{1,2}|[IVX]{1,4}|[a-zđ])[.)]\s")
_QUESTION_RE = re.compile(r"\[question\]\s*(.*)", re.IGNORECASE | re.DOTALL)
_QUESTION_SPLIT_RE = re.compile(r"(?<=\?)\s*,\s*")
_BULLET_RE = re.compile(r"[-–—•+*●▪◦·]\s*\S")
_INTERNAL_END_RE = re.compile(r"[.!?…][\"'”’)\]]*\s+[\"“‘(]?(\w)")
_VI_LETTER_RE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ\u0300-\u0323]",
    re.IGNORECASE,
)
_ENGLISH_LINE_RE = re.compile(r"[A-Za-z][A-Za-z0-9’'&.,\- ]*")
_LEAD_NAMES = _alternation(LEAD_OUTLET_NAMES)
# "TTO - ", "(TTXVN) - ", "(Dân trí) - ", and "(PLO)-" with no space after the dash (only in
# parentheses: "UAV-..." is a word).
_LEAD_TAG_RE = re.compile(
    rf"(\(?)([A-ZĐ][A-ZĐ0-9&.]{{0,9}}[A-ZĐ0-9]|{_LEAD_NAMES})(\)?)\s*[-–—](\s*)(?=\S)"
)
# Matched on a block's casefolded text (no IGNORECASE: this runs on every block of every page).
_FOOTER_RE = re.compile("|".join(f"(?:{p})" for p in FOOTER_PATTERNS))
_DATE_MARKER_RE = re.compile(r"\s*date\s*:?\s*((\d{4})-(\d{2})(?:-(\d{2}))?)(?=\s|$)\s*")
_DATE_RE = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})(?!\d)"
    r"|ngày\s+(?P<vd>\d{1,2})\s+tháng\s+(?P<vm>\d{1,2})\s+năm\s+(?P<vy>\d{4})"
    r"|(?<!\d)(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})(?!\d)",
    re.IGNORECASE,
)
_TIME_RE = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:h]([0-5]\d)(?!\d)(?::\d\d)?\s*([ap]m)?", re.I)
_DATE_NOISE_RE = re.compile(
    r"\(?\s*(?:gmt|utc)\s*[+-]\s*\d+\s*\)?|\b(?:ngày|lúc|giờ|cập nhật|đăng|thứ\s+\w+|chủ nhật)\b"
    r"|[,|:()\-–]",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Unit:
    """One block of the page: a line, or a line joined with its lowercase continuation."""

    start: int
    end: int
    text: str  # the block with runs of whitespace collapsed, for matching
    key: str  # casefolded ``text``, for repeat detection
    body: bool  # reads as body prose (see _is_body_text)
    furniture: bool  # share bars, site headers, menus and breadcrumbs
    date: str | None  # ISO date when the block is a date/metadata line


def _make_unit(start: int, end: int, text: str, line: str | None = None) -> _Unit:
    """``line`` is the block before whitespace was collapsed: its gaps separate menu items."""
    ends = _ends_sentence(text)
    # Metadata lines are short and unpunctuated; skip their tests for prose.
    meta = not ends and len(text) <= DATE_LINE_MAX_CHARS
    furniture = (meta or len(text) <= FURNITURE_LINE_MAX_CHARS) and _is_furniture(text, ends)
    if not (furniture or ends) and len(text) <= MENU_MAX_CHARS:
        furniture = _is_menu(line or text)
    date = _parse_date_line(text) if meta else None
    return _Unit(start, end, text, text.casefold(), _is_body_text(text, ends), furniture, date)


# --- line classifiers ----------------------------------------------------------


def _ends_sentence(s: str) -> bool:
    core = s.rstrip(_CLOSERS)
    return bool(core) and core[-1] in _SENTENCE_END


def _has_internal_end(s: str) -> bool:
    # "TP. HCM", "PGS. TS" are abbreviations: a sentence ends after a lowercase word or number.
    for m in _INTERNAL_END_RE.finditer(s):
        before = s[m.start() - 1] if m.start() else ""
        if (before.islower() or before.isdigit()) and (m[1].isupper() or m[1].isdigit()):
            return True
    return False


def _is_body_text(s: str, ends: bool) -> bool:
    if ends or _BULLET_RE.match(s):
        return True
    if len(s) < UNTERMINATED_BODY_MIN_CHARS:
        return False
    # A long line cut at a comma or closed by a quote is prose, never a headline.
    return s[-1] in _PROSE_TAIL or _has_internal_end(s)


def _cut_lead(s: str) -> bool:
    """A line above the body longer than any headline, in lower case as prose is: the lead, its
    full stop cut by the scrape (a flattened menu or a run of headlines is mostly capitalised)."""
    words = s.split()
    if len(words) <= TITLE_MAX_WORDS:
        return False
    return sum(w[:1].islower() for w in words) >= CUT_LEAD_LOWER_SHARE * len(words)


def _is_all_caps(s: str) -> bool:
    return s.upper() == s and s.lower() != s


def _nwords(s: str) -> int:
    return s.count(" ") + 1  # units are whitespace-collapsed


def _is_furniture(s: str, ends: bool) -> bool:
    n = _nwords(s)
    if n <= FURNITURE_MAX_WORDS and FURNITURE_WORDS.issuperset(
        s.lower().translate(_DROP_PUNCT).split()
    ):
        return True
    if n > FURNITURE_LINE_MAX_WORDS or (ends and not s.endswith(":")):
        return False
    if _FURNITURE_RE.fullmatch(s):
        return True
    if ends:
        return False
    # Site headers ("CỔNG THÔNG TIN ĐIỆN TỬ") and English site names carry no body text.
    return _is_all_caps(s) or (n >= 3 and bool(_ENGLISH_LINE_RE.fullmatch(s)))


def _section_run(s: str) -> int:
    """How many capitalised section names make up ``s`` ("Trang chủ Chính trị" -> 2), else 0."""
    if s.split(None, 1)[0].casefold() not in _SECTION_FIRST_WORDS:
        return 0  # fast exit: most lines do not start with a section name
    words = s.split()
    i = count = 0
    while i < len(words):
        if not words[i][0].isupper():
            return 0
        for k in range(min(_SECTION_MAX_WORDS, len(words) - i), 0, -1):
            if " ".join(words[i : i + k]).casefold() in SECTION_NAMES:
                break
        else:
            return 0
        i, count = i + k, count + 1
    return count


def _is_menu_item(item: str) -> bool:
    return (
        item[0].isupper()
        and item[-1] not in _MENU_ITEM_END
        and len(item.split()) <= MENU_ITEM_MAX_WORDS
        and not _DIGIT_RE.search(item)
    )


def _is_menu(line: str) -> bool:
    """A navigation bar or breadcrumb: short capitalised items, or a run of section names."""
    sep = _MENU_SEP_RE.search(line)
    if sep is None:
        return _section_run(line) >= MENU_MIN_SECTIONS
    first = line[: sep.start()].rstrip()
    if first and not _is_menu_item(first):
        return False  # fast exit: the first item is already too long for a menu
    items = [x for x in _MENU_SPLIT_RE.split(line) if x]
    if len(items) < 2:
        return bool(items) and _section_run(items[0]) >= MENU_MIN_SECTIONS
    if not all(_is_menu_item(x) for x in items):
        return False
    # Unknown items need symbol separators; runs of spaces alone also separate table cells.
    if len(items) >= MENU_MIN_ITEMS and _MENU_SYMBOL_RE.search(line):
        return True
    return any(" ".join(x.split()).casefold() in SECTION_NAMES for x in items)


def _is_abbreviation(name: str) -> bool:
    return len(name) <= ABBREVIATION_MAX_CHARS and " " not in name and _is_all_caps(name)


def _spelled_out(abbr: str, headers: list[str]) -> str | None:
    """The all-caps header whose initials spell ``abbr`` ("BÁO TIN NHANH" for "BTN"), title-cased.

    Every word of such a name is a name word, so each is capitalised ("Báo Tin Nhanh").
    """
    letters = [c for c in abbr if c.isalpha()]
    for header in headers:
        words = header.split()
        if len(letters) >= 2 and [w[0] for w in words] == letters:
            return " ".join(w[0] + w[1:].lower() for w in words)
    return None


def _choose_outlet(
    lead: str | None, closing: list[str], header: str | None, caps_headers: list[str]
) -> str | None:
    """The page's outlet: a stated full name wins over an abbreviation that no table expands.

    Order: a lead tag the table expands; the site header that the page's abbreviation spells
    out; the first full name of a closing credit, then of the site header; else an abbreviation.
    """
    candidates = [c for c in (lead, *closing, header) if c]
    if lead and not _is_abbreviation(lead):
        return lead
    for name in candidates:
        spelled = _spelled_out(name, caps_headers) if _is_abbreviation(name) else None
        if spelled:
            return spelled
    full = [c for c in candidates if not _is_abbreviation(c)]
    if full:
        return full[0]
    return candidates[0] if candidates else None


def _site_line(line: str) -> str | None:
    """The known news site a short line names ("VnExpress", "Báo điện tử Dân trí", "Báo Công an
    Nhân dân điện tử", "Toàn bộ bản quyền thuộc VnExpress"), as the line writes it, else None."""
    if len(line) > SITE_LINE_MAX_CHARS:
        return None
    m = _SITE_LINE_RE.fullmatch(line.strip())
    name = m[1].strip() if m else ""
    return name if name and " ".join(name.split()).casefold() in SITE_NAMES else None


def _site_name(units: list[_Unit]) -> str | None:
    """The first header or footer line that names a known news site."""
    for u in units:
        name = _site_line(u.text)
        if name:
            return _org_name(name) if _is_all_caps(name) else name
    return None


def _names_an_outlet(name: str) -> bool:
    """Whether a credited name is an outlet the tables know, or an abbreviation ("TTXVN", "AFP";
    a writer's initials, "H.A", are not one)."""
    if _INITIALS_RE.fullmatch(name):
        return False
    return (_is_abbreviation(name) or name in OUTLET_ABBREVIATIONS or name in LEAD_OUTLET_NAMES
            or _site_line(name) is not None)


def _names_a_site(tail: str) -> bool:
    """Whether the part after a headline's separator is a site's name: a known one, or "Báo ..." /
    "Tạp chí ..." of a few words ("Báo Thế giới và Việt Nam")."""
    return _site_line(tail) is not None or (
        bool(_SITE_LABEL_RE.match(tail)) and _nwords(tail) <= SITE_SUFFIX_MAX_WORDS)


def strip_site_suffix(title: str) -> str:
    """A headline without the site's name a page appends or prepends ("X - Báo Thanh Niên",
    "X | Vietnamplus", "ZNEWS.VN - X")."""
    for sep in TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and _names_a_site(tail.strip()):
            return strip_site_suffix(head.strip())
        head, found, tail = title.partition(sep)
        if found and tail.strip() and _names_a_site(head.strip()):
            return strip_site_suffix(tail.strip())
    return title


def _outlet_name(credit: str) -> str:
    """The outlet named by a source credit, without "tổng hợp" ("BTN tổng hợp" -> "BTN")."""
    return _OUTLET_SUFFIX_RE.sub("", credit).strip()


def _credit(s: str) -> str | None:
    """The credit's value ("Báo CafeF" for "Nguồn: Báo CafeF"), or None if not a credit line."""
    if len(s) > CREDIT_MAX_CHARS or (":" not in s and s[0] != "("):
        return None
    m = _CREDIT_RE.fullmatch(s) or _PAREN_CREDIT_RE.fullmatch(s)
    return m.group(1).strip() if m else None


def _is_byline(s: str) -> bool:
    """A name alone on a line ("Kim Hồng") or "Theo <outlet>": a credit when at the end."""
    words = s.split()
    if not words or len(words) > BYLINE_MAX_WORDS:
        return False
    if _THEO_RE.fullmatch(s):
        return "," not in s.rstrip(".") or len(words) <= 3
    if _DIGIT_RE.search(s) or _ends_sentence(s.rstrip(".")):
        return False
    if len(words) == 1:
        return "." in s and _is_all_caps(s)  # initials: "H.THANH"
    return all(w.lstrip("(")[:1].isupper() for w in words)


def _parse_date_line(s: str) -> str | None:
    """ISO date of an unpunctuated metadata line such as "Tin tức 14/12/2021 10:38"."""
    m = _DATE_RE.search(s)
    if not m:
        return None
    if m["y"]:
        day, month, year = int(m["d"]), int(m["m"]), int(m["y"])
    elif m["vy"]:
        day, month, year = int(m["vd"]), int(m["vm"]), int(m["vy"])
    else:
        day, month, year = int(m["id"]), int(m["im"]), int(m["iy"])
    if not (1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2100):
        return None
    rest = s[: m.start()] + " " + s[m.end() :]
    t = _TIME_RE.search(rest)
    if t:
        rest = rest[: t.start()] + " " + rest[t.end() :]
    if len(_DATE_NOISE_RE.sub(" ", rest).split()) > DATE_LINE_MAX_WORDS:
        return None
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    if not t:
        return iso
    hour = int(t[1]) % 12 + 12 if (t[3] or "").lower() == "pm" else int(t[1])
    return f"{iso}T{hour:02d}:{t[2]}"


def _similar(a: _Unit | None, b: _Unit | None) -> bool:
    """Same headline, allowing a short category label after one copy ("... Quốc tế")."""
    if a is None or b is None:
        return False
    x, y = (a.key, b.key) if len(a.key) <= len(b.key) else (b.key, a.key)
    if not y.startswith(x):
        return False
    return (
        x == y
        or (
            _nwords(x) >= TITLE_MIN_WORDS
            and not _ends_sentence(y)  # a label, not a sentence that happens to start alike
            and y.startswith(x + " ")
            and _nwords(y[len(x) + 1 :]) <= SUFFIX_MAX_WORDS
        )
    )


def _org_name(header: str) -> str:
    """Sentence-case an all-caps organisation name, keeping its head noun's complement capitalised."""
    words = header.lower().split()
    out = [w.capitalize() if i == 0 else w for i, w in enumerate(words)]
    for i, w in enumerate(words[:-1]):
        if w in ORG_HEADS:
            nxt = i + 2 if w in ("tổng", "tạp") and i + 2 < len(words) else i + 1
            out[nxt] = out[nxt].capitalize()
            break
    return " ".join(out).replace("việt nam", "Việt Nam")


def _header_outlet(name: str, labelled: bool, portal_seen: bool) -> str | None:
    """The site named by a header line, or None ("THỜI SỰ" is a section label, not a site)."""
    if not name:
        return None
    # An all-caps header names the site after a portal label or as "BỘ ...", "VIỆN ...".
    named = labelled or portal_seen or name.split()[0].lower() in ORG_HEADS
    if _is_all_caps(name) and named:
        return _org_name(name)
    return name if labelled else None  # "Cổng thông tin điện tử Chính phủ"


def _lead_tag(text: str, pos: int) -> tuple[int, str] | None:
    """(offset after the tag, outlet) for a lead such as "TTTĐ - ..." or "(TTXVN) - ..."."""
    m = _LEAD_TAG_RE.match(text, pos)
    if not m or bool(m[1]) != bool(m[3]) or not (m[4] or m[1]):
        return None
    abbr = m[2]
    if abbr in LEAD_OUTLET_NAMES:
        # "(Dân trí) - ..." needs its parentheses ("Tin tức - ..." may open a sentence); a name
        # of one word ("Kinhtedothi - ...", "VietNamNet - ...") is a tag without them.
        return (m.end(), LEAD_OUTLET_NAMES[abbr]) if m[1] or " " not in abbr else None
    if abbr in OUTLET_ABBREVIATIONS:
        return m.end(), OUTLET_ABBREVIATIONS[abbr]
    if abbr in NOT_OUTLET_TAGS or not (m[1] or len(abbr) >= 3):
        return None
    return m.end(), abbr


# --- page splitting ------------------------------------------------------------


def _units(text: str, first_start: int) -> list[_Unit]:
    """Non-blank lines as spans; a line continuing in lowercase on the next line is joined to it."""
    units: list[_Unit] = []
    pos = 0
    prev_joinable = False
    for raw in text.split("\n"):
        line_start, pos = pos, pos + len(raw) + 1
        lstripped = raw.lstrip()
        core = lstripped.rstrip()
        if not core:
            prev_joinable = False
            continue
        start = line_start + len(raw) - len(lstripped)
        if start < first_start:  # the leading " date 2021-12 " marker is metadata
            start = first_start
            if start >= line_start + len(raw) - (len(lstripped) - len(core)):
                continue
        end = line_start + len(raw) - (len(lstripped) - len(core))
        line = flat = text[start:end]
        if "  " in flat or not flat.isprintable():  # tabs, NBSP, CR: collapse for matching
            flat = " ".join(flat.split())
        unit = _make_unit(start, end, flat, line)
        if prev_joinable and flat[0].islower() and not (unit.furniture or _BULLET_RE.match(flat)):
            unit = _make_unit(units[-1].start, end, f"{units[-1].text} {flat}")
            units[-1] = unit
        else:
            units.append(unit)
        # Only a line cut mid-sentence continues; "Diễn Đàn" + "rss feeds" are two menu items.
        prev_joinable = not (unit.body or unit.furniture or unit.date) and (
            _nwords(unit.text) >= JOIN_MIN_WORDS
        )
    return units


def _title_candidate(u: _Unit, counts: Counter[str], next_is_date: bool) -> bool:
    words = u.text.split()
    if not TITLE_MIN_WORDS <= len(words) <= TITLE_MAX_WORDS or _BULLET_RE.match(u.text):
        return False
    if _ENUM_RE.match(u.text):  # "1. Cúm A là gì?" is a numbered section, not the page title
        return False
    if not (u.text[0].isupper() or u.text[0].isdigit() or u.text[0] in "\"“'‘"):
        return False  # menus and widgets ("» Bóng Đá", "susucn nguồn bài: ...")
    if not _VI_LETTER_RE.search(u.text) or _is_all_caps(u.text):
        return False
    last = u.text.rstrip(_CLOSERS)[-1:]
    if last in ".…;:,":
        return False
    # A question/exclamation is a title only when the page repeats it or dates it.
    return last not in "?!" or counts[u.key] > 1 or next_is_date


def _syllables(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if not w.isdigit()}


def _choose_title(candidates: list[_Unit], lead: list[str]) -> _Unit | None:
    """The headline among the lines above the body: the one whose syllables the first body
    paragraphs hold most (a site's slogan, "Báo tiếng Việt nhiều người xem nhất", or a menu the
    rules did not know shares little with the article); the first on a tie, or without a body."""
    if not candidates:
        return None
    body = _syllables(" ".join(lead))

    def share(u: _Unit) -> float:
        own = _syllables(u.text)
        return len(own & body) / len(own) if own else 0.0

    if not body:
        return candidates[0]
    return max(enumerate(candidates), key=lambda ku: (share(ku[1]), -ku[0]))[1]


def split_questions(line: str) -> tuple[str, ...]:
    """The questions of a ``[question] q1?,q2?`` line (commas inside a question stay)."""
    m = _QUESTION_RE.match(line.strip())
    body = m[1] if m else line
    return tuple(q.strip() for q in _QUESTION_SPLIT_RE.split(body.strip()) if q.strip())


@dataclass
class _Page:
    """What the line-by-line reading of ``clean_text`` has found so far."""

    date: str | None = None
    title: str | None = None
    # Lines above the body that could be the headline; the one chosen shares most with the body.
    title_candidates: list[_Unit] = field(default_factory=list)
    dates: list[tuple[int, str]] = field(default_factory=list)  # (offset, ISO date) of date lines
    header_outlet: str | None = None
    caps_headers: list[str] = field(default_factory=list)  # all-caps lines above the title ("BÁO TIN NHANH")
    sources: list[tuple[int, str]] = field(default_factory=list)  # (offset, outlet) of "Nguồn: ..." / "Theo ..."
    theo: set[int] = field(default_factory=set)  # offsets of the sources read from a "Theo ..." line
    questions: tuple[str, ...] = ()
    credits: list[tuple[int, str]] = field(default_factory=list)
    # ("body" | "byline", unit) in page order; bylines are credits only after the last body.
    kept: list[tuple[str, _Unit]] = field(default_factory=list)
    in_related: bool = False
    in_comments: bool = False  # below a comments heading that follows the body: nothing more is body
    prev_kind: str = ""  # inside a related block: "headline", "repeat" (second copy) or "teaser"
    seen_body: bool = False
    in_list: bool = False  # after a body line ending in ":", unpunctuated lines are its items
    portal_seen: bool = False  # a "CỔNG THÔNG TIN ĐIỆN TỬ" header names the site on its next line


def clean_text(text: str) -> CleanedPage:
    """Body paragraphs (as spans of ``text``) and metadata of one scraped news page."""
    page = _Page()
    first_start = 0
    m = _DATE_MARKER_RE.match(text)
    if m and 1 <= int(m[3]) <= 12:
        page.date, first_start = m[1], m.end()  # the scraper's " date 2021-12" marker: it stands
    units = _units(text, first_start)
    counts = Counter(u.key for u in units)
    for i, u in enumerate(units):
        _read_unit(text, units, i, u, counts, page)
    paragraphs, lead_outlet = _paragraphs(text, page)
    title = _choose_title(page.title_candidates, [text[p.start : p.end] for p in paragraphs[:TITLE_BODY_PARAGRAPHS]])
    if title is not None:
        page.title = strip_site_suffix(title.text)
    if page.dates and page.date is None:
        # The article's own date line follows its headline; one above it is the site's "today".
        after = title.start if title is not None else -1
        page.date = next((d for pos, d in page.dates if pos > after), page.dates[0][1])
    page.credits.sort()
    # A "Nguồn:" line mid-page credits a chart or a quote; only one after the body names the outlet.
    body_end = paragraphs[-1].end if paragraphs else -1
    site = _site_name(units)
    # "Theo Thu Hà" may name a person as well as an outlet: on a page that names its own site,
    # only a "Theo ..." that is a known outlet or an abbreviation ("Theo TTXVN") names the source.
    closing = [name for pos, name in sorted(page.sources)
               if pos > body_end and not (site and pos in page.theo and not _names_an_outlet(name))]
    outlet = _choose_outlet(lead_outlet, closing, page.header_outlet, page.caps_headers) or site
    logger.debug("clean_text: %d of %d blocks kept as body", len(paragraphs), len(units))
    return CleanedPage(
        paragraphs=tuple(paragraphs),
        title=page.title,
        date=page.date,
        outlet=outlet,
        credits=tuple(c for _, c in page.credits),
        questions=page.questions,
    )


def _read_unit(text: str, units: list[_Unit], i: int, u: _Unit, counts: Counter[str], page: _Page) -> None:
    """One block of the page: metadata, furniture, a related block's line, or a body candidate."""
    s = u.text
    if s[0] == "[" and _QUESTION_RE.match(s):
        page.questions = split_questions(s)
        return
    if page.in_comments:
        return
    if len(s) <= COMMENT_MARKER_MAX_CHARS and _COMMENTS_RE.fullmatch(s):
        page.in_comments = page.seen_body
        return
    short = _nwords(s) <= RELATED_HEADLINE_MAX_WORDS
    if len(s) <= MARKER_MAX_CHARS and _MARKER_LINE_RE.fullmatch(s):
        page.in_related, page.prev_kind, page.in_list = True, "", False
        return
    if short and _MARKER_INLINE_RE.match(s):
        return
    if u.date and not page.in_related:
        page.dates.append((u.start, u.date))
        return
    if u.furniture:
        _read_header(text, u, page)
        return
    if len(s) <= FOOTER_MAX_CHARS and any(k in u.key for k in FOOTER_KEYWORDS) and _FOOTER_RE.search(u.key):
        return
    if page.in_related and _in_related_block(units, i, u, short, page):
        return
    credit = _credit(s)
    if credit is not None:
        page.credits.append((u.start, s))
        if s.lower().startswith("nguồn") and _outlet_name(credit):
            page.sources.append((u.start, _outlet_name(credit)))
        return
    if _CAPTION_END_RE.search(s, max(0, len(s) - CAPTION_TAIL_CHARS)):
        return
    if not page.seen_body:
        next_is_date = i + 1 < len(units) and units[i + 1].date is not None
        # A site's name ("Báo Công an Nhân dân điện tử") is no headline.
        if _title_candidate(u, counts, next_is_date) and _site_line(s) is None:
            page.title_candidates.append(u)
            return
    if any(_similar(c, u) for c in page.title_candidates):
        return
    if page.in_list and not u.body and short:
        page.kept.append(("body", u))  # an item of a list that a body line ending in ":" opened
    elif len(s) <= BYLINE_MAX_CHARS and _is_byline(s):
        page.kept.append(("byline", u))
    elif u.body or (not page.seen_body and _cut_lead(s)):
        page.kept.append(("body", u))
        page.seen_body = True
        page.in_list = s.endswith(":")


def _read_header(text: str, u: _Unit, page: _Page) -> None:
    """Furniture above the title may name the site ("BÁO TIN NHANH", a portal's name)."""
    if page.seen_body or page.title_candidates:
        return
    s = u.text
    label = _PORTAL_RE.match(s)
    name = s[label.end() :].strip(" -–:|") if label else s
    caps = bool(name) and _is_all_caps(name)
    # An all-caps menu ("TRANG CHỦ | THỜI SỰ") is furniture, but it names no site.
    if (caps or label) and not _is_menu(text[u.start : u.end]):
        if caps:
            page.caps_headers.append(name)
        page.header_outlet = page.header_outlet or _header_outlet(name, bool(label), page.portal_seen)
    page.portal_seen = page.portal_seen or label is not None


def _in_related_block(units: list[_Unit], i: int, u: _Unit, short: bool, page: _Page) -> bool:
    """Whether a line inside a related-articles block is one of its headlines, repeats or
    teasers (skipped); False ends the block: normal body resumes."""
    s = u.text
    prev = units[i - 1] if i else None
    nxt = units[i + 1] if i + 1 < len(units) else None
    if short and _similar(prev, u) and page.prev_kind in ("headline", "repeat"):
        page.prev_kind = "repeat"
        return True
    if short and _similar(u, nxt):
        page.prev_kind = "headline"
        return True
    if page.prev_kind == "repeat" or (
        page.prev_kind == "headline" and (s.endswith(("...", "…")) or _lead_tag(s, 0))
    ):
        page.prev_kind = "teaser"
        return True
    if short and not u.body:
        page.prev_kind = "headline"
        return True
    page.in_related = False
    return False


def _paragraphs(text: str, page: _Page) -> tuple[list[Span], str | None]:
    """The body paragraphs (the first one past its outlet tag) and that tag's outlet; bylines
    after the last body line become credits (and "Theo ..." a closing source)."""
    kept = page.kept
    last_body = max((k for k, (kind, _) in enumerate(kept) if kind == "body"), default=-1)
    paragraphs: list[Span] = []
    seen: set[str] = set()
    lead_outlet: str | None = None
    for k, (kind, u) in enumerate(kept):
        if kind == "byline" and k > last_body:
            page.credits.append((u.start, u.text))
            theo = _THEO_RE.fullmatch(u.text)
            if theo and _nwords(theo[1]) <= SUFFIX_MAX_WORDS + 1:
                name = _outlet_name(theo[1].rsplit("/", 1)[-1])
                if name:
                    page.sources.append((u.start, name))
                    page.theo.add(u.start)
            continue
        if (kind == "byline" and not u.body) or u.key in seen:
            continue  # a name mid-page is a caption; an exact repeat adds nothing
        seen.add(u.key)
        start = u.start
        if not paragraphs:
            tag = _lead_tag(text, u.start)
            if tag and tag[0] < u.end:
                start, lead_outlet = tag
        paragraphs.append(Span(start, u.end))
    return paragraphs, lead_outlet
