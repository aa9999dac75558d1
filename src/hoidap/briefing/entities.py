"""People (with their titles), organisations, places and events named in the articles.

Gazetteers and capitalisation patterns (``data/entities_gazetteer.json``), not
a statistical tagger: underthesea's CRF NER misses most titles and splits
Vietnamese names, and its deep models would need a download. The patterns
use how Vietnamese news writes names: each syllable of a person's name is
capitalised ("Phạm Bình Minh") while only the first syllable of each word of
a title or an organisation is ("Phó Thủ tướng Thường trực Chính phủ",
"Bộ Ngoại giao"), so the run of fully capitalised syllables after a title is
the name.

Mentions are merged by their diacritic-free, case-folded name; a person keeps
the longest title seen, an event the first date stated with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hoidap.briefing.facts import explicit_date, sentence_citation
from hoidap.models import Article, Citation, Entity
from hoidap.text.lexicons import Gazetteer, Phrases, first_words, gazetteer, lexicon
from hoidap.text.normalize import strip_diacritics, tokenize
from hoidap.text.segment import word_end
from hoidap.text.tokens import TokenSentence

# Citations kept per entity (its mentions, one per sentence, in document order).
MAX_CITATIONS = 20
# Tokens allowed between a title's head and the name it belongs to
# ("Bộ trưởng Hàng không Ai Cập Sherif Fathy": 4).
MAX_TITLE_TAIL = 8
# A name is 2 to 5 capitalised syllables ("Joe Biden", "Tôn Nữ Thị Ninh").
NAME_SYLLABLES = (2, 5)
# Lower-case words an event name may run on with ("Hội nghị đối ngoại toàn quốc").
MAX_EVENT_LOWER = 4
_ROMAN = frozenset("IVXLC")
# An event's date follows its name closely: "ngày 14/12/2021", "(tháng 7/2022)".
EVENT_DATE_CHARS = 24
_DATE_OPENERS = ("ngày", "tháng", "năm", "hôm", "sáng", "chiều", "tối", "đêm", "trưa")
# Words that end a lower-case run of a name besides the function words of facts_lexicon.json.
_EXTRA_STOPS = frozenset({"tổ", "dự", "đề", "lần", "nhiệm", "khóa", "khoá", "năm", "ngày", "tháng", "hôm"})


@dataclass
class _Sent(TokenSentence):
    # Per token, read often enough to be worth a list each.
    raws: list[str] = field(default_factory=list)
    norms: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    taken: list[bool] = field(default_factory=list)
    brk: list[bool] = field(default_factory=list)  # punctuation (not a space or hyphen) before token i

    @classmethod
    def of(cls, text: str) -> _Sent:
        toks = tokenize(text)
        s = cls(text, toks, [text[t.start : t.end] for t in toks], [t.norm for t in toks],
                [t.start for t in toks], [t.end for t in toks], [False] * len(toks))
        s.brk = [True] + [bool(s.gap(i).strip(" -–\u00a0")) for i in range(1, len(toks))]
        return s

    def broken(self, i: int) -> bool:
        """Punctuation (anything but spaces and hyphens) between token ``i - 1`` and ``i``."""
        return i <= 0 or i >= len(self) or self.brk[i]

    def cap(self, i: int) -> bool:
        return 0 <= i < len(self) and self.raws[i][:1].isupper()

    def _words(self, i: int, j: int) -> tuple[str, ...]:
        return tuple(self.norms[i:j])

    def match(self, i: int, phrases: Phrases, longest: int = 6) -> int:
        """Length of the longest phrase of ``phrases`` starting at token ``i`` (no punctuation inside), 0 if none."""
        return self.longest_entry(i, phrases, first_words(phrases), self.brk, longest, self._words)

    def span(self, a: int, b: int) -> str:
        return self.text[self.starts[a] : self.ends[b - 1]]


@dataclass
class _Found:
    kind: str
    name: str
    title: str | None
    date: str | None


def _name_run(s: _Sent, i: int, limit: int) -> int:
    """End of the run of capitalised syllables from ``i`` (at most ``limit`` long)."""
    k = i
    while k < len(s) and k - i < limit and s.cap(k) and not s.raws[k][0].isdigit() \
            and (k == i or not s.broken(k)) and not s.raws[k].isupper():
        k += 1
    return k


def _strip_places(s: _Sent, a: int, b: int, g: Gazetteer) -> int:
    """Skip place names at the start of a capitalised run ("Mỹ Joe Biden" -> "Joe Biden")."""
    while a < b:
        n = s.match(a, g.places)
        if not n or b - (a + n) < NAME_SYLLABLES[0]:
            break
        a += n
    return a


def _not_a_name(s: _Sent, a: int, g: Gazetteer) -> bool:
    """A capitalised run that starts like an organisation, a title or an event ("Ban Chấp hành")."""
    return any(s.match(a, ph) for ph in (g.org_heads, g.titles, g.event_heads, g.standalone_orgs))


def _persons(s: _Sent, g: Gazetteer, out: list[_Found]) -> None:
    i = 0
    while i < len(s):
        n = s.match(i, g.titles)
        if not n or not (s.cap(i) or tuple(s.norms[i : i + n]) in g.weak_titles):
            i += 1
            continue
        # The name is the first run of >= 2 capitalised syllables after the title head.
        k = i + n
        found = False
        while k < len(s) and k - (i + n) <= MAX_TITLE_TAIL and not s.broken(k):
            if s.match(k, g.title_stop):
                break
            end = _name_run(s, k, 12)
            if end - k >= NAME_SYLLABLES[0]:
                a = _strip_places(s, k, end, g)
                # Capitalised title words run into the name ("Thường trực Phạm Bình Minh"
                # has no lower-case break): the name starts at its surname when one is there.
                sur = next((p for p in range(a, end - 1) if s.norms[p] in g.surnames), a)
                if s.norms[a] not in g.surnames and sur > a:
                    a = sur
                if end - a > NAME_SYLLABLES[1]:
                    a = end - NAME_SYLLABLES[1]
                if end - a >= NAME_SYLLABLES[0] and not any(s.taken[a:end]) and not _not_a_name(s, a, g):
                    title = s.span(i, a) if a > i + 0 else None
                    if tuple(s.norms[i : i + n]) in g.weak_titles and a == i + n:
                        title = _apposition(s, end, g) or (s.span(i, a) if s.cap(i) else None)
                    out.append(_Found("person", s.span(a, end), title, None))
                    for p in range(i, end):
                        s.taken[p] = True
                    i = end
                    found = True
                break
            k = end if end > k else k + 1
        if not found:
            i += 1
    # Names without a title: a surname and 1-4 capitalised syllables, not inside another name.
    i = 0
    while i < len(s):
        if s.taken[i] or not s.cap(i) or s.norms[i] not in g.surnames or (s.cap(i - 1) and not s.broken(i)):
            i += 1
            continue
        end = _name_run(s, i, NAME_SYLLABLES[1])
        if end - i >= NAME_SYLLABLES[0] and not s.match(i, g.places) and not any(s.taken[i:end]) \
                and not s.cap(end):
            out.append(_Found("person", s.span(i, end), _apposition(s, end, g), None))
            for p in range(i, end):
                s.taken[p] = True
            i = end
        else:
            i += 1


def _apposition(s: _Sent, end: int, g: Gazetteer) -> str | None:
    """ "Nguyễn Phú Trọng, Tổng Bí thư Ban Chấp hành ..." -> the title after the comma."""
    if end >= len(s) or s.text[s.ends[end - 1] : s.starts[end]].strip() != ",":
        return None
    n = s.match(end, g.titles)
    if not n or not s.cap(end) or tuple(s.norms[end : end + n]) in g.weak_titles:
        return None
    k = end + n
    while k < len(s) and not s.broken(k) and k - end < MAX_TITLE_TAIL + n and not _stop(s, k, g):
        k += 1
    return s.span(end, k)


def _stop(s: _Sent, k: int, g: Gazetteer) -> bool:
    """A function word or verb that ends a name running on in lower case ("Quốc hội Việt Nam có")."""
    return s.norms[k] in lexicon().np_stop or s.norms[k] in _EXTRA_STOPS or bool(s.match(k, g.title_stop))


def _capitalised_tail(s: _Sent, k: int, g: Gazetteer, max_lower: int = 2) -> int:
    """Extend a name over capitalised words, each followed by at most two lower-case syllables
    ("Ban Chấp hành Trung ương Đảng", "Liên hợp quốc", "VKSND tối cao"), up to a function word."""
    lowers = 0
    while k < len(s) and not s.broken(k) and not s.taken[k]:
        if s.cap(k) or all(c in _ROMAN for c in s.raws[k]):
            lowers = 0
        elif lowers < max_lower and not _stop(s, k, g) and not s.raws[k][0].isdigit():
            lowers += 1
        else:
            break
        k += 1
    while k > 0 and not s.cap(k - 1) and _stop(s, k - 1, g):
        k -= 1
    return k


def _orgs_places(s: _Sent, g: Gazetteer, out: list[_Found]) -> None:
    i = 0
    while i < len(s):
        if s.taken[i]:
            i += 1
            continue
        # "tỉnh Quảng Ninh", "thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"
        n = s.match(i, g.place_prefixes)
        if n and s.cap(i + n) and not s.taken[i + n]:
            end = _name_run(s, i + n, 5)
            if end > i + n:
                out.append(_Found("place", s.span(i + n, end), None, None))
                for p in range(i, end):
                    s.taken[p] = True
                i = end
                continue
        n = s.match(i, g.standalone_orgs)
        if n and s.cap(i):
            end = _capitalised_tail(s, i + n, g, max_lower=0)
            out.append(_Found("organization", s.span(i, end), None, None))
            for p in range(i, end):
                s.taken[p] = True
            i = end
            continue
        n = s.match(i, g.org_heads)
        if n and s.cap(i) and (s.cap(i + n) or (i + n < len(s) and s.raws[i + n].isupper())) \
                and not s.broken(i + n):
            end = _capitalised_tail(s, i + n, g)
            if end > i + n:
                out.append(_Found("organization", s.span(i, end), None, None))
                for p in range(i, end):
                    s.taken[p] = True
                i = end
                continue
        if s.raws[i] in g.acronyms:
            out.append(_Found("organization", s.raws[i], None, None))
            s.taken[i] = True
            i += 1
            continue
        n = s.match(i, g.places)
        if n and s.cap(i) and not (s.cap(i - 1) and not s.broken(i) and not s.taken[i - 1]) \
                and not (s.cap(i + n) and not s.broken(i + n) and not s.raws[i + n].isupper()):
            out.append(_Found("place", s.span(i, i + n), None, None))
            for p in range(i, i + n):
                s.taken[p] = True
            i += n
            continue
        i += 1


def _events(s: _Sent, g: Gazetteer, out: list[_Found], year: str | None) -> None:
    i = 0
    while i < len(s):
        n = s.match(i, g.event_heads)
        if not n or not s.cap(i) or s.taken[i]:
            i += 1
            continue
        k = i + n
        if s.cap(k) and not s.broken(k):
            k = _capitalised_tail(s, k, g)
        else:
            lower = 0
            while k < len(s) and not s.broken(k) and lower < MAX_EVENT_LOWER and not s.cap(k) \
                    and not _stop(s, k, g) and not s.raws[k][0].isdigit() \
                    and s.norms[k] not in ("về", "trực", "tuyến", "cấp", "đầu", "tiên"):
                k += 1
                lower += 1
            if k < len(s) and s.cap(k) and not s.broken(k):
                k = _capitalised_tail(s, k, g)
        # "lần thứ 31", "lần thứ XIII", "khóa XII", "năm 2018"
        if k + 2 < len(s) and s.norms[k] == "lần" and s.norms[k + 1] == "thứ" and not s.broken(k):
            k += 3
        elif k + 1 < len(s) and s.norms[k] in ("khóa", "khoá", "năm") and not s.broken(k) \
                and (s.raws[k + 1].isdigit() or all(c in _ROMAN for c in s.raws[k + 1])):
            k += 2
        if k == i + n:
            i += 1
            continue
        # The date stated right after the name ("Hội nghị ... ngày 14/12/2021") is the
        # event's; a date elsewhere in the sentence dates its main clause ("Ngày 14/12, ...
        # triển khai Nghị quyết Đại hội XIII" is not the Congress's date).
        after = s.text[s.ends[k - 1] :].lstrip(" ,(")[:EVENT_DATE_CHARS]
        date = explicit_date(after, 0, len(after), year) if after.lower().startswith(_DATE_OPENERS) else None
        # A date opening the sentence ("Ngày 14/12/2021, ... tổ chức Hội nghị ...") dates
        # the first event named, the one its main clause is about; not the later ones.
        if date is None and not any(f.kind == "event" for f in out):
            date = explicit_date(s.text, s.starts[i], s.starts[i], year)
        out.append(_Found("event", s.span(i, k), None, date))
        for p in range(i, k):
            s.taken[p] = True
        i = k


def entities_in_sentence(text: str, year: str | None = None) -> list[tuple[str, str, str | None, str | None]]:
    """``(kind, name, title, date)`` of every entity mention in one sentence, in that order of passes."""
    g = gazetteer()
    s = _Sent.of(text)
    found: list[_Found] = []
    _events(s, g, found, year)
    _persons(s, g, found)
    _orgs_places(s, g, found)
    return [(f.kind, _whole_words(text, f.name) if f.kind != "person" else f.name, f.title, f.date)
            for f in found]


def _whole_words(text: str, name: str) -> str:
    """A name the capitalisation patterns cut inside a word, run to the word's end:
    "Hội đồng Bảo an Liên" -> "Hội đồng Bảo an Liên hợp quốc", "Ủy ban Di sản thế" ->
    "Ủy ban Di sản thế giới". Word segmentation runs only for a name followed by a
    lower-case syllable, the only way it can end inside a word."""
    at = text.find(name)
    return text[at : word_end(text, at + len(name))] if at >= 0 else name


def _name_key(kind: str, name: str) -> tuple[str, str]:
    return kind, strip_diacritics(" ".join(t.norm for t in tokenize(name)))


@dataclass
class _Acc:
    kind: str
    name: str
    title: str | None = None
    date: str | None = None
    citations: list[Citation] = field(default_factory=list)
    docs: set[str] = field(default_factory=set)


def extract_entities(articles: Sequence[Article]) -> list[Entity]:
    """Every entity of the articles, merged by name; most widely cited first."""
    acc: dict[tuple[str, str], _Acc] = {}
    for art in articles:
        year = art.date[:4] if art.date and art.date[:4].isdigit() else None
        for sent in art.sentences:
            cite = sentence_citation(art, sent.start, sent.end, sent.text)
            for kind, name, title, date in entities_in_sentence(sent.text, year):
                key = _name_key(kind, name)
                a = acc.setdefault(key, _Acc(kind, name))
                if title and (a.title is None or len(title) > len(a.title)):
                    a.title = title
                if date and a.date is None:
                    a.date = date
                if len(a.citations) < MAX_CITATIONS and all(
                    (c.doc_id, c.start) != (cite.doc_id, cite.start) for c in a.citations
                ):
                    a.citations.append(cite)
                a.docs.add(art.doc_id)
    kinds = {"person": 0, "organization": 1, "place": 2, "event": 3}
    ordered = sorted(acc.values(), key=lambda a: (-len(a.docs), -len(a.citations), kinds[a.kind], a.name))
    return [Entity(a.name, a.kind, a.title, a.date, tuple(a.citations)) for a in ordered]
