"""Find the short answer to a question inside one retrieved sentence.

The question's wh-phrase ("bao nhiêu", "ai", "ở đâu", ...) splits it into a left
and a right context. Both are aligned to the sentence; the answer is the stretch
of sentence next to the aligned context on the wh-phrase's side, shaped by the
kind of answer the wh-phrase asks for (a number with its unit, a date, a name, a
place, or a clause).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from hoidap.normalize import Token, fold_token, has_diacritics, strip_diacritics, tokenize


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
    # "Tôn giáo nào ...?" asks for a named thing: reported as a clause, but
    # extracted like a name when the sentence has one.
    ("entity", "nào"),
))
# Typed without marks, "dau"/"may" are also ordinary words (đầu, máy): they only
# count as wh-words at the end of the question or after a wh-preposition.
_PLAIN_AMBIGUOUS = {"dau": frozenset(["o", "tai", "tu", "den", "toi", "vao", "do", "nho", "vi", "la"]),
                    "may": frozenset(["co", "la", "duoc", "thu", "nam", "thang", "ngay"])}

# Function words that never anchor an alignment on their own (they still count
# inside a run of two or more matching words).
STOPWORDS = _f(
    "của là và các những được có trong cho với đã sẽ đang một này đó thì mà ở tại từ đến về "
    "theo như nhiều khi bị do vì nên cũng rất để không ra vào lên nhất hơn ông bà người năm "
    "nào gì ai đâu sao bao nhiêu thế hay hoặc trên dưới sau trước lại còn đây ấy nay nhằm")
_STOP_PLAIN = frozenset(strip_diacritics(w) for w in STOPWORDS)
# Words a clause answer does not start with: copulas and connectives belong to
# the question's frame ("đó là: A, B và C" -> "A, B và C").
_LEAD_FILLER = _f("là đó thì mà rằng gồm như sau bao có vì do bởi nhờ nên")
_DISCOURSE = _phrases("cụ thể|theo đó|tuy nhiên|ngoài ra|trong khi đó|đồng thời|bên cạnh đó"
                      "|vì vậy|do đó|hiện nay|nhưng|và")
_NUMBER_WORDS = _f("một hai ba bốn năm sáu bảy tám chín mười mươi trăm nghìn ngàn triệu tỷ tỉ "
                   "vạn vài chục nửa rưỡi dăm lăm tư nhì mốt")
_NUM_QUALIFIERS = _f("trên hơn khoảng gần chừng gấp tới hàng chỉ xấp xỉ đạt")
_NUM_LINK = _f("đến tới và hoặc")
_NOT_UNIT = STOPWORDS - _f("người năm")
_DATE_NOUNS = _f("ngày tháng năm thế kỷ kỉ thập niên quý tuần giờ mùa thiên")
_DATE_PREFIX = _f("sáng trưa chiều tối đêm rạng đầu giữa cuối khoảng")
_YEAR_RE = re.compile(r"^(1\d{3}|20\d{2})$")
_DATE_NUM_RE = re.compile(r"^\d{1,2}/\d{1,4}(/\d{2,4})?$")
_PLACE_NOUNS = _f("tỉnh thành phố huyện xã quận nước thủ đô vùng miền khu vực làng thị trấn "
                  "phường châu đảo sông núi biển bang")
_TITLES = _f("ông bà anh chị bác sĩ giáo sư tiến sĩ vua hoàng đế tổng thống thủ tướng chủ tịch "
             "bộ trưởng thạc sĩ nhà văn thơ tướng")
# Sentence-initial capitals that are ordinary words, not names.
_COMMON_START = STOPWORDS | _f("ngày tháng sau trước trong theo tuy nhưng khi năm thời kể với")
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]\"“”]|\s[-–—]\s|[.!?]\s")

# Scoring weights, chosen by coordinate search on viquad1_dev + viquad2 (see
# scripts/tune_extract.py); vinewsqa_dev was used only to report.
W_UNIGRAM = 0.6  # alignment strength of a lone matching content syllable (runs: 1.0)
Q_DECAY = 0.6  # evidence kept per question word between a context word and the wh-phrase
S_DECAY = 0.5  # evidence kept per sentence word between the context word and the span
W_EDGE = 0.6  # span at a clause edge on a side where the question has no context
W_COVERED = 0.35  # penalty per question word inside the span
W_BREAK = {"clause": 0.1, "reason": 0.1, "list": 0.1, "entity": 0.1}  # per clause break inside
LIST_ITEM = 4  # commas between segments this short (tokens) separate list items
W_LIST_COMMA = 0.0  # break weight of such a comma
W_LEN = {"clause": 0.1, "reason": 0.1, "list": 0.1, "entity": 0.1}  # reward per token of untyped spans
W_TYPE = {"number": 0.5, "date": 0.5, "person": 0.5, "place": 0.5, "entity": 0.4}  # bonus of a typed span
W_FALLBACK = 0.3
HEAD_NOUN = 1  # words before a bare "nào" taken as the head noun of the wh-phrase  # score factor when the wanted type is absent and the slot is returned


@dataclass(frozen=True)
class Extraction:
    start: int
    end: int
    kind: str
    score: float


def _keys(tokens: list[Token], plain: bool) -> list[str]:
    return [t.plain if plain else t.norm for t in tokens]


def _match_at(keys: list[str], i: int, pat: tuple[str, ...]) -> int | None:
    """End index of ``pat`` matched at ``keys[i:]`` or None."""
    j = i
    for k, p in enumerate(pat):
        if p == "*":
            nxt = pat[k + 1]
            hits = [g for g in range(1, 4) if j + g < len(keys) and keys[j + g] == nxt]
            if not hits:
                return None
            j += hits[0]
        elif j < len(keys) and keys[j] == p:
            j += 1
        else:
            return None
    return j


def _find_wh(keys: list[str], plain: bool) -> tuple[str, int, int]:
    """The question's kind and the token range of its wh-phrase."""
    for kind, pats in _WH_RULES:
        for pat in pats:
            pkeys = tuple(strip_diacritics(w) for w in pat) if plain else pat
            for i in range(len(keys)):
                end = _match_at(keys, i, pkeys)
                if end is None:
                    continue
                amb = _PLAIN_AMBIGUOUS.get(pkeys[0]) if plain and len(pkeys) == 1 else None
                if amb is not None and end != len(keys) and (i == 0 or keys[i - 1] not in amb):
                    continue
                if kind == "entity":
                    # "Tôn giáo nào ...": the head noun describes the answer, it is
                    # not context to align ("Phật giáo Tây Tạng").
                    while i > 0 and end - i <= HEAD_NOUN and keys[i - 1] not in _plain_stop(plain):
                        i -= 1
                return kind, i, end
    return "clause", len(keys), len(keys)


def _plain_stop(plain: bool) -> frozenset[str]:
    return _STOP_PLAIN if plain else STOPWORDS


def question_kind(question: str) -> str:
    plain = not has_diacritics(question)
    kind = _find_wh(_keys(tokenize(question), plain), plain)[0]
    return "clause" if kind == "entity" else kind


@dataclass
class _Sent:
    """One sentence analysed against one question."""

    text: str
    toks: list[Token]
    keys: list[str]  # matching forms (diacritic-free when the question has no marks)
    cap: list[bool]  # starts with a capital that is not just sentence-initial
    brk: list[bool]  # brk[i]: a clause boundary lies before token i (len n+1)
    bw: list[float]  # how much crossing that boundary costs a span (0 inside a list)
    strength: list[float]  # how strongly token i matches a question word
    lev: list[float]  # left-context evidence for a span starting at i (len n+1)
    rev: list[float]  # right-context evidence for a span ending at j (len n+1)
    cov: list[float]  # prefix sums of strength


def _analyse(question: str, sentence: str) -> tuple[str, list[str], _Sent]:
    plain = not has_diacritics(question)
    qt, st = tokenize(question), tokenize(sentence)
    qk, sk = _keys(qt, plain), _keys(st, plain)
    kind, lo, hi = _find_wh(qk, plain)
    n, m = len(st), len(qk)
    # Longest common runs between sentence and question (the wh-phrase excluded).
    run = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n):
        for j in range(m):
            if sk[i] == qk[j] and not lo <= j < hi:
                run[i + 1][j + 1] = run[i][j] + 1
    strength, qidx = [0.0] * n, [-1] * n
    for i in range(n - 1, -1, -1):
        for j in range(m):
            length = run[i + 1][j + 1]
            if not length:
                continue
            total = length
            if i + 1 < n and j + 1 < m and run[i + 2][j + 2]:
                total = max(total, run[i + 2][j + 2])
            if total == 1 and sk[i] in STOPWORDS:
                continue
            st_ = 1.0 if total >= 2 else W_UNIGRAM
            closer = qidx[i] < 0 or abs(j - lo) < abs(qidx[i] - lo)
            if st_ > strength[i] or (st_ == strength[i] and closer):
                strength[i], qidx[i] = st_, j
    brk = [True] + [bool(_CLAUSE_PUNCT.search(sentence[a.end : b.start]))
                    for a, b in zip(st, st[1:], strict=False)] + [True]
    # A comma between short segments separates list items ("A, B và C"), which
    # an answer may span; other boundaries end a clause.
    cuts = [i for i in range(n + 1) if brk[i]]
    bw = [0.0] * (n + 1)
    for k in range(1, len(cuts) - 1):
        i = cuts[k]
        short = cuts[k] - cuts[k - 1] <= LIST_ITEM and cuts[k + 1] - cuts[k] <= LIST_ITEM
        comma = sentence[st[i - 1].end : st[i].start].strip() == ","
        bw[i] = W_LIST_COMMA if short and comma else 1.0
    lev = [0.0] * (n + 1)
    for i in range(n + 1):
        prev = lev[i - 1] * S_DECAY if i else 0.0
        if i and 0 <= qidx[i - 1] < lo:
            prev = max(prev, strength[i - 1] * Q_DECAY ** (lo - 1 - qidx[i - 1]))
        lev[i] = max(prev, W_EDGE if lo == 0 and brk[i] else 0.0)
    rev = [0.0] * (n + 1)
    for j in range(n, -1, -1):
        nxt = rev[j + 1] * S_DECAY if j < n else 0.0
        if j < n and qidx[j] >= hi:
            nxt = max(nxt, strength[j] * Q_DECAY ** (qidx[j] - hi))
        rev[j] = max(nxt, W_EDGE if hi >= m and brk[j] else 0.0)
    cov = [0.0]
    for s in strength:
        cov.append(cov[-1] + s)
    cap = [sentence[t.start].isupper() for t in st]
    if cap and (st[0].norm in _COMMON_START or (n > 1 and not cap[1] and st[0].norm in STOPWORDS)):
        cap[0] = False
    return kind, qk[hi : hi + 3], _Sent(sentence, st, sk, cap, brk, bw, strength, lev, rev,
                                       cov)


def _fit(s: _Sent, i: int, j: int) -> float:
    """How well span [i, j) sits between the aligned left and right context."""
    return s.lev[i] + s.rev[j] - W_COVERED * (s.cov[j] - s.cov[i])


def _numbers(s: _Sent, unit: list[str]) -> list[tuple[int, int]]:
    toks, n, out = s.toks, len(s.toks), []
    isnum = [any(c.isdigit() for c in t.norm) or t.norm in _NUMBER_WORDS for t in toks]
    i = 0
    while i < n:
        if not isnum[i] or (i and toks[i - 1].norm in _DATE_NOUNS and _is_date_num(toks, i)):
            i += 1
            continue
        j = i + 1
        while j < n and not s.brk[j] and (isnum[j] or (toks[j].norm in _NUM_LINK and j + 1 < n
                                                       and isnum[j + 1])):
            j += 1
        a = i - 1 if i and toks[i - 1].norm in _NUM_QUALIFIERS and not s.brk[i] else i
        end = j
        if s.text[toks[j - 1].end : toks[j - 1].end + 1] == "%":
            pass
        elif j < n and not s.brk[j]:
            k = 0
            while k < len(unit) and j + k < n and s.keys[j + k] == unit[k]:
                k += 1
            if k:
                end = j + k
            elif toks[j].norm not in _NOT_UNIT and not s.cap[j]:
                end = j + 1
        out.append((a, end))
        i = j
    return out


def _is_date_num(toks: list[Token], i: int) -> bool:
    return any(c.isdigit() for c in toks[i].norm)


def _dates(s: _Sent, unit: list[str]) -> list[tuple[int, int]]:
    toks, n, out = s.toks, len(s.toks), []
    i = 0
    while i < n:
        t = toks[i].norm
        head = (_YEAR_RE.match(t) or _DATE_NUM_RE.match(t)
                or (t in _DATE_NOUNS and i + 1 < n and not s.brk[i + 1]
                    and (toks[i + 1].norm[:1].isdigit() or toks[i + 1].norm in _NUMBER_WORDS
                         or toks[i + 1].norm in _DATE_NOUNS)))
        if not head:
            i += 1
            continue
        a = i
        while a and not s.brk[a] and toks[a - 1].norm in _DATE_PREFIX:
            a -= 1
        j = i + 1
        while j < n and not s.brk[j] or (j < n and s.text[toks[j - 1].end : toks[j].start] == "-"):
            u = toks[j].norm
            if not (u[:1].isdigit() or u in _DATE_NOUNS or u in _NUMBER_WORDS or u in _f("tcn")
                    or (u in _NUM_LINK and j + 1 < n and toks[j + 1].norm[:1].isdigit())):
                break
            j += 1
        out.append((a, j))
        i = j
    return out


def _names(s: _Sent, unit: list[str]) -> list[tuple[int, int]]:
    """Runs of capitalised syllables, with a title or place noun just before them."""
    toks, n, out = s.toks, len(s.toks), []
    i = 0
    while i < n:
        if not s.cap[i]:
            i += 1
            continue
        j = i + 1
        while j < n and (s.cap[j] or toks[j].norm in _f("de la of van von")) and (
                not s.brk[j] or s.text[toks[j - 1].end : toks[j].start] in (".", "-")):
            j += 1
        a = i
        while a and not s.brk[a] and (toks[a - 1].norm in _TITLES | _PLACE_NOUNS) and a > i - 2:
            a -= 1
        out.append((a, j))
        i = j
    return out


_TYPED: dict[str, Callable[[_Sent, list[str]], list[tuple[int, int]]]] = {
    "number": _numbers, "date": _dates, "person": _names, "place": _names, "entity": _names}


def _slot(s: _Sent, kind: str) -> tuple[int, int, float]:
    n = len(s.toks)
    starts = [i for i in range(n) if s.brk[i] or s.strength[i - 1] > 0]
    ends = [j for j in range(1, n + 1) if s.brk[j] or (j < n and s.strength[j] > 0)]
    wlen, wbrk = W_LEN.get(kind, 0.0), W_BREAK.get(kind, 0.0)
    nbrk = [0.0]
    for b in s.bw[1:]:
        nbrk.append(nbrk[-1] + b)
    best = (0, n, -math.inf)
    for i in starts:
        for j in ends:
            if j > i:
                sc = _fit(s, i, j) + wlen * (j - i) - wbrk * (nbrk[j - 1] - nbrk[i])
                if sc > best[2]:
                    best = (i, j, sc)
    return best


def _trim(s: _Sent, i: int, j: int) -> tuple[int, int]:
    toks = s.toks
    changed = True
    while changed and i < j:
        changed = False
        for d in _DISCOURSE:
            if tuple(t.norm for t in toks[i : i + len(d)]) == d and i + len(d) < j:
                i, changed = i + len(d), True
        if toks[i].norm in _LEAD_FILLER and i + 1 < j:
            i, changed = i + 1, True
    return i, j


def extract(question: str, sentence: str) -> Extraction | None:
    kind, unit, s = _analyse(question, sentence)
    if not s.toks:
        return None
    finder = _TYPED.get(kind)
    typed = []
    if finder is not None:
        for a, b in finder(s, unit):
            if s.cov[b] - s.cov[a] < b - a:  # a span made only of question words is no answer
                typed.append((_fit(s, a, b) + W_TYPE[kind], a, b))
    a, b, sc = _slot(s, kind)
    a, b = _trim(s, a, b)
    if typed:
        best = max(typed)
        if best[0] >= sc or kind in ("number", "date"):
            return _make(s, best[1], best[2], kind, best[0])
    elif kind in ("number", "date"):
        return None
    return _make(s, a, b, kind, sc * (W_FALLBACK if finder and kind != "entity" else 1.0))


def _make(s: _Sent, a: int, b: int, kind: str, sc: float) -> Extraction | None:
    if a >= b:
        return None
    end = s.toks[b - 1].end
    if s.text[end : end + 1] == "%":
        end += 1
    kind = "clause" if kind == "entity" else kind
    return Extraction(s.toks[a].start, end, kind, round(1 / (1 + math.exp(-2 * (sc - 0.5))), 3))
