"""Marks for a question typed without them, read from the sentences it is asked of.

"Viet Nam tung hai lan dang cai APEC vao nhung nam nao?" finds its article (retrieval matches
unmarked syllables), but the stages after it read marked text best: the question's kind
("nhiệm kỳ nào" is a period, "Phó Viện trưởng ... nào" a person) and the trained reader, which
read unmarked questions worse than the rules did (``qa.answer.READS_UNMARKED``). So the
question is given back its marks, in ordered steps, before it is read:

1. question phrases ("bao nhieu" -> "bao nhiêu", "nao" -> "nào"): ``function_words.json``;
2. runs of syllables as the retrieved sentences write them, longest first (up to
   ``MAX_RUN``): "thanh vien Hoi dong Nhan quyen" -> "thành viên Hội đồng Nhân quyền", so a
   syllable takes the marks its neighbours call for ("Hoi" -> "Hội" beside "dong");
3. a syllable alone, as those sentences most often write it, with the capitals typed
   (a lower-case "nam" is "năm" even where "Việt Nam" is more frequent);
4. a function word the sentences do not hold ("co" -> "có"), from the same word lists,
   unless typed with a capital inside the question (a name: "Viet Nam" stays);
5. anything else stays as typed.

Only syllables are changed: case as typed, punctuation and spacing kept. The sentences are
the ones retrieval and the ranker already hold, so the cost is linear in the question and
in those sentences, not in the article. Measured in the CHANGELOG (issue 19).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache

from hoidap.text.lexicons import function_words
from hoidap.text.normalize import has_diacritics, nfc, strip_diacritics

# Longest run of syllables looked up in the sentences: names and terms of four syllables
# ("Hội đồng Bảo an") are common; longer runs add little over chaining shorter ones.
MAX_RUN = 4
# Function-word lists that give a lone syllable its marks when the sentences do not hold it,
# in order of precedence (the first list holding a plain form decides).
DEFAULT_LISTS = ("question_phrases", "alignment_stopwords", "topic_stopwords")

_SYLLABLE = re.compile(r"\w+")

Run = tuple[str, ...]


@cache
def _question_phrases() -> dict[Run, Run]:
    """Plain question phrase -> marked ("bao nhieu" -> "bao nhiêu"), longest first."""
    phrases = sorted(function_words("question_phrases"), key=lambda p: -len(p.split()))
    return {tuple(strip_diacritics(p).split()): tuple(p.split()) for p in phrases}


@cache
def _defaults() -> dict[str, str]:
    """Plain function word -> its marked form, the first list holding it deciding."""
    out: dict[str, str] = {}
    for name in DEFAULT_LISTS:
        for phrase in function_words(name):
            for word in phrase.split():
                out.setdefault(strip_diacritics(word), word)
    return out


def _longest(runs: dict[Run, Run]) -> int:
    return max((len(r) for r in runs), default=0)


def _plain(word: str) -> str:
    return strip_diacritics(word).lower()


def _cased(marked: str, typed: str) -> str:
    """``marked`` (lower case) in the case the user typed the syllable."""
    if len(typed) > 1 and typed.isupper():
        return marked.upper()
    return marked[:1].upper() + marked[1:] if typed[:1].isupper() else marked


def _capitals(words: Run) -> tuple[bool, ...]:
    return tuple(w[:1].isupper() for w in words)


def _runs_in(texts: Iterable[str], wanted: set[Run]) -> dict[Run, Counter[Run]]:
    """For each plain run of ``wanted``, the forms the texts give it (as written), counted."""
    seen: dict[Run, Counter[Run]] = defaultdict(Counter)
    longest = max((len(r) for r in wanted), default=0)
    for text in texts:
        words = _SYLLABLE.findall(nfc(text))
        plain = [_plain(w) for w in words]
        for i in range(len(words)):
            for n in range(1, min(longest, len(words) - i) + 1):
                key = tuple(plain[i:i + n])
                if key not in wanted:
                    break  # a longer run holds this one, so it is not wanted either
                seen[key][tuple(words[i:i + n])] += 1
    return seen


def _best(forms: Counter[Run], typed: Run) -> Run:
    """The commonest form written with the capitals the user typed, else the commonest: a
    lower-case "nam" is "năm" even where "Việt Nam" is written more often."""
    alike = [(n, f) for f, n in forms.items() if _capitals(f) == _capitals(typed)]
    chosen = max(alike)[1] if alike else forms.most_common(1)[0][0]
    return tuple(w.lower() for w in chosen)


def remark(question: str, texts: Iterable[str]) -> str:
    """``question`` with the marks its syllables take in ``texts``; unchanged when it already
    carries marks (a user who types some marks typed the words as meant)."""
    if has_diacritics(question):
        return question
    spans = [(m.start(), m.end(), m.group()) for m in _SYLLABLE.finditer(question)]
    typed = tuple(w for _, _, w in spans)
    plain = [_plain(w) for w in typed]
    wanted = {tuple(plain[i:i + n]) for i in range(len(plain))
              for n in range(1, min(MAX_RUN, len(plain) - i) + 1)}
    found = _runs_in(texts, wanted)
    phrases = _question_phrases()
    defaults = _defaults()
    marked: list[str] = list(plain)
    i = 0
    while i < len(plain):
        step = 1
        phrase = next((n for n in range(_longest(phrases), 0, -1) if tuple(plain[i:i + n]) in phrases), 0)
        if phrase:
            marked[i:i + phrase] = phrases[tuple(plain[i:i + phrase])]
            step = phrase
        else:
            run = next((n for n in range(MAX_RUN, 0, -1) if tuple(plain[i:i + n]) in found), 0)
            if run:
                marked[i:i + run] = _best(found[tuple(plain[i:i + run])], typed[i:i + run])
                step = run
            elif i == 0 or not typed[i][:1].isupper():  # a capital inside a question starts a name
                marked[i] = defaults.get(plain[i], plain[i])
        i += step
    out, last = [], 0
    for (start, end, as_typed), word, bare in zip(spans, marked, plain, strict=True):
        out.append(question[last:start])
        out.append(as_typed if word == bare else _cased(word, as_typed))  # "iPhone" stays as typed
        last = end
    out.append(question[last:])
    return "".join(out)
