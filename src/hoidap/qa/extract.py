"""Find the short answer to a question inside one retrieved sentence.

The question's wh-phrase ("bao nhiêu", "ai", "ở đâu", ...) splits it into a left
and a right context. Both are aligned to the sentence, and the answer is a
stretch of sentence next to the aligned context, on the wh-phrase's side, that
holds few question words. The kind of the question shapes it: numbers, dates
and names are picked among candidates found by small patterns ("trên 151 triệu
liều", "ngày 14/12/2021", "Phó Thủ tướng ... Phạm Bình Minh"); clauses among
spans cut at context words, function words and clause boundaries.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from hoidap.text.lexicons import function_words, gazetteer
from hoidap.text.normalize import (
    fold_token,
    has_diacritics,
    strip_diacritics,
    tokenize,
    tokens_of,
)
from hoidap.text.segment import word_end
from hoidap.text.tokens import TokenSentence

KINDS = ("number", "date", "person", "place", "reason", "list", "clause")


def _f(words: str) -> frozenset[str]:
    return frozenset(fold_token(w) for w in words.split())


def _phrases(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(fold_token(w) for w in p.split()) for p in text.split("|"))


# Wh-phrases by kind, most specific kind first: the first kind with a phrase in
# the question wins ("năm bao nhiêu" is a date before "bao nhiêu" makes it a
# number; "do đâu" a reason before "đâu" makes it a place). "*" is 1-3 words.
_WH_RULES = tuple((kind, _phrases(p)) for kind, p in (
    ("reason", "tại sao|vì sao|sao lại|nguyên nhân|lý do|lí do|do đâu|nhờ đâu|vì đâu|vì lẽ gì"),
    ("date", "khi nào|bao giờ|lúc nào|ngày nào|năm nào|tháng nào|thời gian nào|thời điểm nào"
             "|thời kỳ nào|thời kì nào|giai đoạn nào|thế kỷ nào|thế kỉ nào|thập niên nào|năm mấy"
             "|tháng mấy|ngày mấy|mấy giờ|năm bao nhiêu|ngày bao nhiêu|dịp nào|hồi nào"),
    ("number", "bao nhiêu|bao lâu|bao xa|mấy|tỷ lệ|tỉ lệ|phần trăm"),
    ("person", "những ai|người nào|vị nào|ông nào|bà nào|nhân vật nào|tác giả nào|ai"),
    ("place", "ở đâu|tại đâu|từ đâu|đến đâu|tới đâu|vào đâu|nơi nào|tỉnh nào|nước nào"
              "|thành phố nào|quốc gia nào|địa phương nào|khu vực nào|địa điểm nào|vùng nào"
              "|châu lục nào|huyện nào|xã nào|lục địa nào|miền nào|đâu"),
    ("list", "gồm những gì|những gì|những * nào|các * nào|gồm gì"),
    ("clause", "là gì|như thế nào|thế nào|làm gì|cái gì|điều gì|gì|sao"),
    # "Tôn giáo nào ...?" asks for a named thing: reported as a clause, but a
    # name in the sentence is preferred.
    ("entity", "nào"),
))
# Internal kinds and the public kind they report.
_REPORTED = {"entity": "clause", "describe": "person"}
# Without marks, "dau" is also đầu/dâu and "may" also máy/may: "dau" is a
# wh-word only at the end or before a function word ("o dau", but not "vao dau
# thap ky"), "may" not before máy-compounds.
_PLAIN_DAU_NEXT = frozenset(["la", "thi", "ma", "de", "va", "nhieu", "nhat", "co", "duoc"])
_PLAIN_MAY_NOT_NEXT = frozenset(["bay", "tinh", "moc", "anh", "in", "phat", "bom", "nen", "xuc"])

# Function words never anchor an alignment on their own (they do inside a run
# of two or more matching words).
STOPWORDS = _f(" ".join(function_words("alignment_stopwords")))
_STOP_PLAIN = frozenset(strip_diacritics(w) for w in STOPWORDS)
# Answers often start right after these ("X là Y", "để Y", "rằng Y") ...
_PIVOT = _f("là để với về bởi nhằm rằng khi do vì nên như thì tới đến vào qua bằng nhờ gồm")
_CAUSAL = _f("vì do bởi nhờ để tại nên")
# ... but not with these: copulas and connectives of the question's frame
# ("đó là: A, B và C" -> "A, B và C").
_LEAD_FILLER = _f("là đó thì mà rằng gồm như sau bao có vì do bởi nhờ nên")
_DISCOURSE = _phrases("cụ thể|theo đó|tuy nhiên|ngoài ra|trong khi đó|đồng thời|bên cạnh đó"
                      "|vì vậy|do đó|hiện nay|nhưng|và")
# Number words that may start a number; "một" (also "a") only continues one.
_NUM_START = _f("hai ba bốn năm sáu bảy tám chín mười vài dăm nửa")
_NUM_WORDS = _NUM_START | _f("một mươi trăm nghìn ngàn triệu tỷ tỉ vạn chục rưỡi lăm tư mốt")
_NUM_QUAL = _f("trên hơn khoảng gần chừng gấp tới hàng chỉ xấp xỉ thứ")
_NUM_LINK = _f("đến tới hoặc")
_NOT_UNIT = STOPWORDS - _f("người năm")
_DATE_NOUNS = _f("ngày tháng năm thế kỷ kỉ thập niên quý tuần giờ mùa")
_DATE_PREFIX = _f("sáng trưa chiều tối đêm rạng đầu giữa cuối khoảng")
_DATE_SUFFIX = _f("tcn scn trước")
_YEAR_RE = re.compile(r"^(1\d{3}|20\d{2})$")
_DAY_MONTH_RE = re.compile(r"^\d{1,2}/\d{1,4}(/\d{2,4})?$")
_ROMAN_RE = re.compile(r"^[ivxl]+$")
# Lower-case words that belong to the name they precede: titles and roles
# ("kiến trúc sư Ieoh Ming Pei"), place nouns ("tỉnh Quảng Ninh").
_PERSON_PREFIX = _f("ông bà anh chị vua hoàng đế hậu tử công chúa tổng thống thủ tướng chủ tịch "
                    "bộ trưởng người thánh tướng thống đốc kiến trúc sư nhà văn thơ báo họa sĩ "
                    "nhạc tuyển hầu bá tước giáo mục cựu phó đại sứ thượng nghị tiến bác luật tù "
                    "lãnh tụ cố vấn đạo tiếng")
_PLACE_PREFIX = _f("tỉnh thành phố huyện xã quận nước thủ đô vùng miền khu làng đảo sông núi biển "
                   "bang châu đại lộ quảng trường đồi bờ phía bắc nam đông tây hồ vịnh cảng tiểu "
                   "lãnh thổ")
_NAME_JOIN = _f("de la le du des von van of the da di")  # "Île de la Cité"
_NAME_LIST = _f("và hoặc cùng")
_LIST_JOIN = _f("và hoặc")
_LOCATIVE = _f("tại ở từ đến tới sang khắp")
_COUNTS = (_NUM_START - _f("năm")) | _f("các những") | {strip_diacritics(w) for w in _NUM_START - _f("năm")}
_COUNT_OF = {w: i for i, ws in enumerate(("", "", "hai", "ba", "bốn bon", "năm nam", "sáu sau", "bảy bay",
                                           "tám tam", "chín chin", "mười muoi"))
             for w in ws.split()} | {str(i): i for i in range(2, 11)}
_COPULA_WH = {("là", "gì"), ("la", "gi"), ("gồm",), ("gom",)}
# Sentence-initial capitals that are ordinary words, not names.
_COMMON_START = STOPWORDS | _f("ngày tháng sau trước trong theo tuy nhưng khi năm thời kể với")
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]\"“”]|\s[-–—]\s|[.!?]\s")

# Weights, chosen by coordinate search maximising F1 on viquad1_dev with the
# gold sentence given (scripts/tune_extract.py; viquad2 agrees). vinewsqa_dev
# was used only to report.
W_UNIGRAM = 0.8  # alignment strength of a lone matching content word (runs: 1.0)
W_REPEAT = 0.0  # ... kept by a repeat of a question word matched in a longer run elsewhere
STRONG = 0.5  # strength from which a matched lower-case word ends a name
Q_DECAY = 0.4  # evidence kept per question word between a context word and the wh-phrase
S_DECAY = 0.2  # evidence kept per sentence word between a context word and the span
N_DECAY = 0.9  # the same for the side-blind nearness of typed candidates
W_DIR = 0.5  # weight of context on the wh-phrase's side (question word order)
W_NEAR = 0.25  # weight of nearness to any context word (typed candidates)
W_EDGE = 0.2  # span at a clause edge on a side where the question has no context
W_COVERED = 0.35  # penalty per question word inside the span
W_LEN = {"clause": 0.15, "describe": 0.05, "reason": 0.2, "list": 0.1, "entity": 0.15,
         "date": 0.1}  # reward per token of clause spans; none for names
W_LATER = 0.6  # ... kept by tokens beyond the clause that touches the span's anchor
W_CAUSE = 1.5  # a "tại sao" answer starting after "vì", "do", "nhờ" ...
W_TYPE = {"number": 0.5, "date": 0.5, "person": 0.25, "place": 2.0, "entity": 0.6, "list": 0.3}
# Typed bonus per item of an enumeration ("A, B và C" over "A và B"); viquad1
# list F1 0.692 at 0.1, 0.703 at 0.3 and 0.6.
W_ENUM = 0.3
# Items of a list repeat the question's words ("ba trụ cột đối ngoại" -> "đối
# ngoại Đảng, ... và đối ngoại nhân dân"): they are penalised less for it.
W_COVERED_KIND = {"list": 0.5}
W_LOCATIVE = 1.0
# A place answer that names an organisation ("Bộ Chính trị", "Ban ...") with no
# locative before it is the agent, not the venue ("Bộ Chính trị tổ chức Hội nghị"
# answered "ở đâu?"; the examples' demo). 1.0 cancels W_LOCATIVE's lead.
W_ORG_PLACE = 1.0
W_COUNT = 1.0  # an enumeration of as many items as the question counts ("Ba trụ cột ...")
ITEM_MAX = 6  # longest item of an enumeration, in syllables
W_RATE = 0.6  # typed bonus of a percentage when the question asks for a rate
W_WORD_NUM = 0.3  # typed bonus lost by a number in words ("năm loại") against digits
W_NAME_LIST = 0.2  # typed bonus of a list of names over one of them
UNIT_MAX = 2  # a unit the question names is taken whole up to this many syllables,
# else only its first ("70 tổ chức" but "151 triệu liều [vắc xin]")
NAME_PREFIX = 3  # most title/place-noun words taken before a name
# A name is preferred to the clause slot when it scores this much (slot scores
# grow with length, so the two are not compared directly).
TYPED_MIN = {"person": 0.0, "place": 0.5, "entity": 1.0}
SCORE_ANCHOR = 0.3  # share of the score from the span touching matched context
W_FALLBACK = 0.3  # score factor when the wanted type is absent


@dataclass(frozen=True)
class Extraction:
    start: int  # offsets into the sentence passed to ``extract``
    end: int
    kind: str  # the question kind
    score: float  # 0..1: sentence matches the question, span anchored, type found


def _match_at(keys: list[str], i: int, pat: tuple[str, ...]) -> int | None:
    """End index of ``pat`` matched at ``keys[i:]``, or None."""
    j = i
    for k, p in enumerate(pat):
        if p == "*":
            hits = [g for g in range(1, 4) if j + g < len(keys) and keys[j + g] == pat[k + 1]]
            if not hits:
                return None
            j += hits[0]
        elif j < len(keys) and keys[j] == p:
            j += 1
        else:
            return None
    return j


_Rule = tuple[int, str, tuple[str, ...]]  # rank, kind, phrase


def _index_rules(plain: bool) -> dict[str, list[_Rule]]:
    """Wh-phrases by their first word, in rule order."""
    index: dict[str, list[_Rule]] = {}
    for rank, (kind, pat) in enumerate((k, p) for k, pats in _WH_RULES for p in pats):
        keyed = tuple(strip_diacritics(w) for w in pat) if plain else pat
        index.setdefault(keyed[0], []).append((rank, kind, keyed))
    return index


_WH_INDEX = {False: _index_rules(False), True: _index_rules(True)}


def _find_wh(keys: list[str], plain: bool) -> tuple[str, int, int]:
    """The question's (internal) kind and the token range of its wh-phrase: the
    earliest rule that matches anywhere, at its first position."""
    best: tuple[int, int, str, int] | None = None
    for i, key in enumerate(keys):
        for rank, kind, pat in _WH_INDEX[plain].get(key, ()):
            if best is not None and (rank, i) >= best[:2]:
                break
            end = _match_at(keys, i, pat)
            if end is None:
                continue
            nxt = keys[end] if end < len(keys) else ""
            if plain and ((pat[-1] == "dau" and nxt and nxt not in _PLAIN_DAU_NEXT)
                          or (pat[-1] == "may" and nxt in _PLAIN_MAY_NOT_NEXT)):
                continue
            if len(pat) == 1 and kind == "place" and i == 0 and nxt in ("là", "la"):
                continue  # "Đâu là X?" asks what X is
            best = (rank, i, kind, end)
    return (best[2], best[1], best[3]) if best else ("clause", len(keys), len(keys))


@lru_cache(maxsize=4096)
def _question(question: str) -> tuple[bool, tuple[str, ...], str, int, int]:
    """A question's analysis, shared by the sentences it is asked of."""
    plain = not has_diacritics(question)
    qt = tuple(tokenize(question))
    qk = [t.plain if plain else t.norm for t in qt]
    kind, lo, hi = _find_wh(qk, plain)
    if kind == "person" and hi == len(qk) and lo > 1 and qk[lo - 1] in ("là", "la") and all(
            question[t.start].isupper() for t in qt[: lo - 1]):
        kind = "describe"  # "Georges Dayan là ai?" asks for a description, not a name
    elif kind == "clause" and lo > 1 and tuple(qk[lo:hi]) in _COPULA_WH and qk[0] in _COUNTS:
        kind = "list"  # "Ba trụ cột ... là gì?" asks for the three
    return plain, tuple(qk), kind, lo, hi


def question_kind(question: str) -> str:
    """One of ``KINDS``: what the question asks for, with or without diacritics."""
    kind = _question(question)[2]
    return _REPORTED.get(kind, kind)


@dataclass
class _Sent(TokenSentence):
    """One sentence analysed against one question; lists are per token or per
    position between tokens (length n + 1)."""

    cap: list[bool]  # starts with a capital that is not just sentence-initial
    brk: list[bool]  # a clause boundary lies before position i
    nxt_cut: list[int]  # first boundary after position i
    prv_cut: list[int]  # last boundary before position j
    strength: list[float]  # how strongly token i matches a question word
    lev: list[float]  # left-context evidence for a span starting at i
    rev: list[float]  # right-context evidence for a span ending at j
    near_l: list[float]  # nearness of any context word before i
    near_r: list[float]  # nearness of any context word from j on
    cov: list[float]  # prefix sums of strength
    match: float  # share of the question's content words found in the sentence
    right: list[bool]  # token i matches a word of the right context
    rate: bool  # the question asks for a rate ("tỷ lệ", "phần trăm")
    count: int = 0  # how many things the question counts ("Ba trụ cột ..." -> 3), 0 if none


def _align(sk: list[str], qk: tuple[str, ...], lo: int, hi: int, stop: frozenset[str]
           ) -> tuple[list[float], list[int]]:
    """Per sentence token: match strength and the question index it matches (-1)."""
    n = len(sk)
    at: dict[str, list[int]] = {}
    for j, k in enumerate(qk):
        if not lo <= j < hi:
            at.setdefault(k, []).append(j)
    # fwd/bwd: length of the common run ending/starting at matching (i, j), over the
    # matches only (in order of i, then j), not the n x m grid: 5x faster per sentence.
    fwd: dict[tuple[int, int], int] = {}
    for i, k in enumerate(sk):
        for j in at.get(k, ()):
            fwd[i, j] = fwd.get((i - 1, j - 1), 0) + 1
    bwd: dict[tuple[int, int], int] = {}
    for i, j in reversed(fwd):
        bwd[i, j] = bwd.get((i + 1, j + 1), 0) + 1
    strength, qidx, runs = [0.0] * n, [-1] * n, [0] * n
    for (i, j), ending in fwd.items():
        total = ending + bwd[i, j] - 1
        if total == 1 and sk[i] in stop:
            continue
        st = 1.0 if total > 1 else W_UNIGRAM
        # Of equal matches, the one nearest the wh-phrase says most.
        if st > strength[i] or (st == strength[i] and abs(j - lo) < abs(qidx[i] - lo)):
            strength[i], qidx[i], runs[i] = st, j, total
    # A question word matched again later in a shorter run is more likely part
    # of the answer ("đối ngoại Đảng, ... đối ngoại nhân dân") than context.
    best: dict[int, int] = {}
    for i in range(n):
        if qidx[i] >= 0:
            best[qidx[i]] = max(best.get(qidx[i], 0), runs[i])
    for i in range(n):
        if qidx[i] >= 0 and runs[i] < best[qidx[i]]:
            strength[i] *= W_REPEAT
    return strength, qidx


def _cuts(brk: list[bool]) -> tuple[list[int], list[int]]:
    """The nearest clause boundary after / before each position."""
    n = len(brk) - 1
    nxt, prv = [n] * (n + 1), [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        nxt[i] = i + 1 if brk[i + 1] else nxt[i + 1]
    for j in range(1, n + 1):
        prv[j] = j - 1 if brk[j - 1] else prv[j - 1]
    return nxt, prv


_RATE = frozenset(("tỷ lệ", "tỉ lệ", "phần trăm", "ty le", "ti le", "phan tram"))


def _analyse(question: str, sentence: str) -> tuple[str, _Sent]:
    plain, qk, kind, lo, hi = _question(question)
    stop = _STOP_PLAIN if plain else STOPWORDS
    st = tokens_of(sentence)
    sk = [t.plain if plain else t.norm for t in st]
    n, m = len(st), len(qk)
    strength, qidx = _align(sk, qk, lo, hi, stop)
    brk = [True] + [bool(_CLAUSE_PUNCT.search(sentence[a.end : b.start]))
                    for a, b in zip(st, st[1:], strict=False)] + [True]
    # Evidence from a context word decays with its distance from the span, in
    # the question and in the sentence.
    lev, near_l = [W_EDGE if lo == 0 else 0.0] + [0.0] * n, [0.0] * (n + 1)
    for i in range(1, n + 1):
        k = i - 1
        own = strength[k] * Q_DECAY ** (lo - 1 - qidx[k]) if 0 <= qidx[k] < lo else 0.0
        lev[i] = max(lev[i - 1] * S_DECAY, own, W_EDGE if lo == 0 and brk[i] else 0.0)
        near_l[i] = max(near_l[i - 1] * N_DECAY, strength[k])
    rev, near_r = [0.0] * n + [W_EDGE if hi >= m else 0.0], [0.0] * (n + 1)
    for j in range(n - 1, -1, -1):
        own = strength[j] * Q_DECAY ** (qidx[j] - hi) if qidx[j] >= hi else 0.0
        rev[j] = max(rev[j + 1] * S_DECAY, own, W_EDGE if hi >= m and brk[j] else 0.0)
        near_r[j] = max(near_r[j + 1] * N_DECAY, strength[j])
    cov = [0.0]
    for x in strength:
        cov.append(cov[-1] + x)
    cap = [sentence[t.start].isupper() for t in st]
    if cap and st[0].norm in _COMMON_START:
        cap[0] = False
    content = [k for j, k in enumerate(qk) if not lo <= j < hi and k not in stop]
    found = set(sk)
    match = sum(k in found for k in content) / len(content) if content else 0.0
    nxt_cut, prv_cut = _cuts(brk)
    return kind, _Sent(sentence, st, cap, brk, nxt_cut, prv_cut, strength, lev, rev,
                       near_l, near_r, cov, match, [k >= hi for k in qidx],
                       any(f"{a} {b}" in _RATE for a, b in zip(qk, qk[1:], strict=False)),
                       _COUNT_OF.get(qk[0], 0) if qk and kind == "list" else 0)


def _is_num(t: str) -> bool:
    return any(c.isdigit() for c in t) or t in _NUM_WORDS


def _numbers(s: _Sent) -> list[tuple[int, int, int, float]]:
    """Numbers with their qualifier ("trên", "khoảng") and unit ("liều", "%"),
    as (start, end of the number, end with the unit, bonus): the number alone
    is scored, so a unit the question names counts as context, not answer."""
    toks, n, out = s.toks, len(s.toks), []
    i = 0
    while i < n:
        t, prev = toks[i].norm, toks[i - 1].norm if i else ""
        digits = any(c.isdigit() for c in t)
        glued = i > 0 and not s.gap(i) and s.cap[i - 1]  # "BLU-82", "MiG-21"
        is_date = _DAY_MONTH_RE.match(t) or (prev in _DATE_NOUNS and digits)
        year_next = t == "năm" and i + 1 < n and toks[i + 1].norm[:1].isdigit()
        if not ((digits and not is_date and not glued) or (t in _NUM_START and not year_next)):
            i += 1
            continue
        j = i + 1
        while j < n and (not s.brk[j] or s.gap(j) in "-–") and (
                _is_num(toks[j].norm)
                or (toks[j].norm in _NUM_LINK and j + 1 < n and _is_num(toks[j + 1].norm))):
            j += 1
        a = i
        while a > max(0, i - 2) and not s.brk[a] and toks[a - 1].norm in _NUM_QUAL:
            a -= 1
        end = j
        bonus = 0.0 if digits else -W_WORD_NUM
        if s.text[toks[j - 1].end :].startswith("%"):
            bonus += W_RATE if s.rate else 0.0
        else:
            # The unit the question names ("bao nhiêu tổ chức" -> "70 tổ chức"),
            # else one word ("45 chuyến").
            while end < n and not s.brk[end] and s.right[end]:
                end += 1
            if end - j > UNIT_MAX:
                # A long named unit is cut at its first function word when that
                # leaves a short head ("224 thị trường [và đối tác]"), else to
                # one syllable ("151 triệu liều [vắc xin]").
                cut = next((k for k in range(j + 1, end) if toks[k].norm in STOPWORDS), end)
                end = cut if cut - j <= UNIT_MAX else j + 1
            if end == j and j < n and not s.brk[j] and not s.strength[j] \
                    and toks[j].norm not in _NOT_UNIT:
                end = j + 1
            if end > j:
                # A unit is a word, not a syllable: "224 thị [trường]" runs on to "224 thị trường".
                stop = word_end(s.text, toks[end - 1].end)
                while end < n and not s.brk[end] and toks[end].end <= stop:
                    end += 1
        out.append((a, j, end, bonus))
        i = j
    return out


def _dates(s: _Sent) -> list[tuple[int, int, int, float]]:
    """Dates: "sáng 23/1", "ngày 28 tháng 6 năm 1948", "năm 1986", "2008-2009"."""
    toks, n, out = s.toks, len(s.toks), []
    i = 0
    while i < n:
        t = toks[i].norm
        nxt = toks[i + 1].norm if i + 1 < n and not s.brk[i + 1] else ""
        if not (_YEAR_RE.match(t) or _DAY_MONTH_RE.match(t) or (t in _DATE_NOUNS and (
                nxt[:1].isdigit() or nxt in _NUM_WORDS or nxt in _DATE_NOUNS
                or _ROMAN_RE.match(nxt)))):
            i += 1
            continue
        a = i
        while a and not s.brk[a] and toks[a - 1].norm in _DATE_PREFIX:
            a -= 1
        j = i + 1
        while j < n and (not s.brk[j] or s.gap(j) in "-–"):
            u = toks[j].norm
            if not (u[:1].isdigit() or u in _DATE_NOUNS or u in _NUM_WORDS or u in _DATE_SUFFIX
                    or _ROMAN_RE.match(u)
                    or (u in _NUM_LINK and j + 1 < n and toks[j + 1].norm[:1].isdigit())):
                break
            j += 1
        out.append((a, j, j, 0.0))
        i = j
    return out


def _names(s: _Sent, place: bool) -> list[tuple[int, int, int, float]]:
    """Capitalised runs with the titles or place nouns before them, and lists
    of such runs ("Mỹ và Anh")."""
    toks, n, out = s.toks, len(s.toks), []
    prefix = _PLACE_PREFIX if place else _PERSON_PREFIX
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if not s.cap[i]:
            i += 1
            continue
        j = i + 1
        while j < n and (not s.brk[j] or s.gap(j) in (".", "-")):
            if s.cap[j] or (toks[j].norm in _NAME_JOIN and j + 1 < n and s.cap[j + 1]):
                j += 1
            elif j + 1 < n and s.cap[j + 1] and not s.brk[j + 1] and s.strength[j] < STRONG:
                j += 2  # one lower-case word inside a name ("Thủ tướng Canada")
            elif s.brk[j + 1] and toks[j].norm not in STOPWORDS:
                j += 1  # and one closing it ("Trung tâm Hội nghị Quốc gia,")
                break
            else:
                break
        # Organisation names capitalise only their first syllable per word: "Ban Bí
        # thư" is one name, which the capital rule alone cut to "Ban Bí".
        org = _org_at(s, i)
        if org > j - i and not any(s.brk[k] for k in range(i + 1, i + org)):
            j = i + org
        a = i
        while a > max(0, i - NAME_PREFIX) and not s.brk[a] and toks[a - 1].norm in prefix:
            a -= 1
        runs.append((a, j))
        i = j
    for k, (a, b) in enumerate(runs):
        out.append((a, b, b, 0.0))
        for a2, b2 in runs[k + 1 :]:  # "A, B và C" is one answer too
            sep = s.text[toks[b - 1].end : toks[a2].start].strip()
            if a2 - b > 1 or not (sep == "," or (a2 - b == 1 and toks[b].norm in _NAME_LIST)):
                break
            out.append((a, b2, b2, W_NAME_LIST))
            b = b2
    return out


def _enumerations(s: _Sent) -> list[tuple[int, int, int, float]]:
    """Coordinated lists "A, B và C" whose items are short, as (start, end, end, bonus).

    The first item has no comma before it, so where it starts is guessed: after
    a colon or a pivot ("là", "gồm"), else at a word that starts another item too
    (parallel items share their head: "đối ngoại Đảng, ngoại giao Nhà nước và
    đối ngoại nhân dân"), else after the last word matching the question.
    """
    toks, n, out = s.toks, len(s.toks), []
    for j in range(1, n - 1):
        if toks[j].norm not in _LIST_JOIN or s.brk[j] or s.brk[j + 1]:
            continue
        items = [(j + 1, s.nxt_cut[j + 1])]
        end = j
        while True:
            b = s.prv_cut[end]
            if b == 0 or "," not in s.gap(b) or end - b > ITEM_MAX:
                break
            items.append((b, end))
            end = b
        if any(e - a > ITEM_MAX for a, e in items):
            continue
        lo = s.prv_cut[end]
        window = range(max(lo, end - ITEM_MAX), end)
        heads = {toks[a].norm for a, _ in items}
        if (lo == 0 or ":" in s.gap(lo)) and end - lo <= ITEM_MAX:
            start = lo
        elif parallel := [p for p in window if toks[p].norm in heads]:
            start = parallel[0]
        elif pivots := [p for p in window if p and toks[p - 1].norm in _PIVOT]:
            start = pivots[-1]
        elif (matched := [p for p in window if s.strength[p] >= STRONG]) and matched[-1] + 1 < end:
            start = matched[-1] + 1
        else:
            continue
        n_items = len(items) + 1
        out.append((start, items[0][1], items[0][1], W_ENUM * n_items + W_COUNT * (n_items == s.count)))
    return out


@lru_cache(maxsize=1)
def _org_names() -> tuple[frozenset[tuple[str, ...]], int]:
    """Organisation names and heads of the entity gazetteer, and the longest in words."""
    g = gazetteer()
    names = frozenset(g.standalone_orgs) | frozenset(g.org_heads)
    return names, max(map(len, names))


def _org_at(s: _Sent, a: int) -> int:
    """Length in tokens of the organisation name or head starting at token ``a`` (0 if none)."""
    names, longest = _org_names()
    norms = [t.norm for t in s.toks[a : a + longest]]
    return next((n for n in range(len(norms), 0, -1) if tuple(norms[:n]) in names), 0)


def _place_bonus(s: _Sent, a: int) -> float:
    if a > 0 and s.toks[a - 1].norm in _LOCATIVE:
        return W_LOCATIVE
    return -W_ORG_PLACE if _org_at(s, a) else 0.0


def _typed(s: _Sent, kind: str) -> list[tuple[float, int, int]]:
    """Candidates of the wanted type as (score, start, end)."""
    if kind == "number":
        cands = _numbers(s)
    elif kind == "date":
        cands = _dates(s)
    elif kind == "list":
        cands = _enumerations(s)
    else:
        cands = _names(s, kind == "place")
        if kind == "place":  # "tại Hội trường Diên Hồng": a name after a locative is a place
            cands = [(a, b, shown, bonus + _place_bonus(s, a)) for a, b, shown, bonus in cands]
    out = []
    for a, b, shown, bonus in cands:
        if s.cov[b] - s.cov[a] >= b - a:
            continue  # only question words: not an answer
        sc = (W_DIR * (s.lev[a] + s.rev[b]) + W_NEAR * (s.near_l[a] + s.near_r[b])
              - W_COVERED * W_COVERED_KIND.get(kind, 1.0) * (s.cov[b] - s.cov[a]) + W_TYPE[kind] + bonus)
        out.append((sc, a, shown))
    return out


def _slot(s: _Sent, kind: str) -> tuple[int, int]:
    """The best clause span, cut at context words, pivots and boundaries."""
    toks, n = s.toks, len(s.toks)
    starts = [i for i in range(n)
              if s.brk[i] or s.strength[i - 1] > 0 or toks[i - 1].norm in _PIVOT]
    ends = [j for j in range(1, n + 1)
            if s.brk[j] or (j < n and (s.strength[j] > 0 or toks[j].norm in _PIVOT))]
    wlen = W_LEN.get(kind, 0.0)
    words = [0]  # prefix counts of content words: function words alone are no answer
    for t in toks:
        words.append(words[-1] + (t.norm not in STOPWORDS))
    best = (-math.inf, 0, n)
    for i in starts:
        lead = W_DIR * s.lev[i] + W_COVERED * s.cov[i]
        if kind == "reason" and i and toks[i - 1].norm in _CAUSAL:
            lead += W_CAUSE
        for j in ends:
            if j > i and words[j] > words[i]:
                # Tokens past the clause that touches either end of the span
                # earn less: answers rarely run on into the next clause.
                first = max(min(j, s.nxt_cut[i]) - i, j - max(i, s.prv_cut[j]))
                sc = (lead + W_DIR * s.rev[j] - W_COVERED * s.cov[j]
                      + wlen * (first + W_LATER * (j - i - first)))
                if sc > best[0]:
                    best = (sc, i, j)
    return _trim(s, best[1], best[2])


def _trim(s: _Sent, i: int, j: int) -> tuple[int, int]:
    """Drop the discourse markers and copulas a span starts with."""
    changed = True
    while changed and i + 1 < j:
        changed = False
        for d in _DISCOURSE:
            if i + len(d) < j and tuple(t.norm for t in s.toks[i : i + len(d)]) == d:
                i, changed = i + len(d), True
        if i + 1 < j and s.toks[i].norm in _LEAD_FILLER:
            i, changed = i + 1, True
    return i, j


@lru_cache(maxsize=1024)
def extract(question: str, sentence: str) -> Extraction | None:
    """The answer to ``question`` inside ``sentence``: ``sentence[start:end]``.

    None when the question asks for a number and the sentence has none, or the
    sentence has no words; otherwise the best span, with a low score when the
    sentence barely matches the question or lacks the wanted type.

    Remembered (a pure function of its two strings): answering a question extracts from
    the heads of the candidate articles, then from every sentence of the chosen one, which
    holds one of those heads, then again from the sentence the reader's span grows in; a
    fifth of the calls were repeats (the load test's questions)."""
    kind, s = _analyse(question, sentence)
    if not s.toks:
        return None
    typed = _typed(s, kind) if kind in W_TYPE else []
    if typed:
        sc, a, b = max(typed)
        if sc >= TYPED_MIN.get(kind, -math.inf):
            # An organisation as the best "place" means the sentence names no venue.
            agent = kind == "place" and _place_bonus(s, a) < 0
            return _make(s, a, b, kind, W_FALLBACK if agent else 1.0)
    elif kind == "number":
        return None
    # Without a name in the sentence, "ai"/"ở đâu" is answered by a description
    # ("người cao tuổi", "các vùng nông thôn"), shaped like a clause.
    a, b = _slot(s, kind if typed or kind not in ("person", "place") else "describe")
    fallback = kind in W_TYPE and kind != "entity" and not typed
    return _make(s, a, b, kind, W_FALLBACK if fallback else 1.0)


def _make(s: _Sent, a: int, b: int, kind: str, fit: float) -> Extraction | None:
    if a >= b:
        return None
    start, end = s.toks[a].start, s.toks[b - 1].end
    if s.text[end : end + 1] == "%":
        end += 1
    if start and s.text[start - 1] == "$":
        start -= 1
    anchor = min(1.0, max(s.lev[a], s.rev[b], s.near_l[a], s.near_r[b]))
    score = fit * s.match * (1 - SCORE_ANCHOR + SCORE_ANCHOR * anchor)
    return Extraction(start, end, _REPORTED.get(kind, kind), round(score, 3))
