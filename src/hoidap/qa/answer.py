"""The short answer read by the trained reader from the ranker's best sentences.

The ranker (``hoidap.qa.rank``) orders the sentences of the chosen article; the
reader (``hoidap.qa.reader``) reads the first few of them (``Settings.read_sentences``) as one
passage in document order (those at most ``TOGETHER_GAP`` apart with the text between them), in
one call of the model, and its best span is the answer: a stretch of the original text, with its
offsets. When they do not fit the model's window together, the best that fit are read in one
call and the rest in another, and the span of the passage that most wants to answer (lowest
no-answer score, plus ``RANK_PENALTY`` per place down the ranker's order) wins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hoidap.models import StoredSentence
from hoidap.qa.extract import extract
from hoidap.qa.question import Question
from hoidap.qa.reader import Passage, Reader
from hoidap.text.lexicons import fold_phrase, lexicon
from hoidap.text.segment import word_around

# Sentences of the ranker's order read (the default of ``Settings.read_sentences``), their
# context on each side, and the no-answer score added per place down that order. Chosen on ViNewsQA dev fold A (crc32 of the
# title even) with the epoch-2 reader, which never saw ViNewsQA; fold B only reports.
# Raw reader spans, F1 on fold A (1,222 questions): top 1 alone 0.543; top 3 with one
# neighbour, penalty 0 / 0.5 / 1 / 2: 0.579 / 0.585 / 0.581 / 0.578; top 5: 0.572 /
# 0.588 / 0.581; top 3 without neighbours 0.575 / 0.580. The answer is in the ranker's
# top 3 sentences for most questions it misses at the top (oracle top 1 / 3: 0.56 / 0.67).
# Top 2 without neighbours: 0.567 / 0.574 / 0.570 (penalty 0 / 0.5 / 1). Answer time (300
# ViNewsQA questions, 500 articles, 2 busy cores) p50 / p99 ms: top 1 19 / 31, top 3 without
# neighbours 45 / 74, top 2 with neighbours 55 / 90, top 3 with neighbours 85 / 133: over the
# 50 / 120 ms budget, so no neighbours (0.580 against 0.585); at 22,644 articles top 3 is over
# it too, so ``Settings.read_sentences`` is 2 (see there).
# (The first choice, 1 sentence without neighbours, was made on ViQuAD 1.0 fold B with the
# epoch-1 model: Wikipedia paragraphs, where reading more measured no better.)
NEIGHBOURS = 0
RANK_PENALTY = 0.5
# The sentences read go in one passage, in document order; two at most this many places
# apart in the article go in with the sentences between them, as the text runs (the reader was
# trained on windows of running text), farther ones after, as if a space joined them. Chosen on
# ViNewsQA and ViQuAD 1.0 dev fold A, the 2 sentences read (F1, model calls a question): apart
# 0.6132 / 0.6271, 2.00; always joined 0.6189 / 0.6259, 1.00; only neighbours together (gap
# 1) 0.6230 / 0.6337, 1.56 / 1.33; gap 2, the rest apart 0.6267 / 0.6329, 1.45 / 1.18; gap 2,
# the rest joined (this) 0.6216 / 0.6282, 1.00. One call reads the question once: on the load
# test's questions (``benchmarks/load_test.py``, one process, one thread) a question took 32.8
# ms of CPU apart, 28.4 joined. A start-logit penalty on the lower-ranked sentence (0.5, as
# ``RANK_PENALTY``) changed nothing (0.6192 / 0.6265); the top sentence first, the runs before it
# joined after, 0.6170 / 0.6302; in the ranker's order, all joined, 0.6146 / 0.6284.
TOGETHER_GAP = 2
# The sentences read are read a second time, in the ranker's order (the best first, as if a space
# joined them), and each token's logits averaged over the two readings (``Reader.read``'s
# ``also``): one more call of the model when more than one sentence is read. Designed on ViNewsQA
# and ViQuAD 1.0 dev fold A (the reader's training fold, never reported), EM / F1: one reading
# 0.4730 / 0.6311 and 0.4862 / 0.6354; a second in the ranker's order 0.4853 / 0.6306 and
# 0.4983 / 0.6472; a second with each sentence read alone (one call each) 0.4779 / 0.6326 and
# 0.4913 / 0.6347. The two readings weigh the same (no weight was tuned). The second reading
# moves only the span's bounds: the no-answer score, which the calibrated confidence reads, stays
# the first reading's (averaged too and the confidence refitted, ViQuAD 2.0 B1's abstention fell
# from 0.215 to 0.170 at about the same cost). Fold B, only reported (one CPU, base in the same
# session): ViNewsQA 0.4149 / 0.6060 -> 0.4314 / 0.6107, ViQuAD 1.0 0.3829 / 0.5325 -> 0.3884 /
# 0.5307, B2 abstention 0.1592 both. Cost: one more call of the model, answer time x1.6 (500
# articles, ``benchmarks/answer_latency.py``: p50 / p99 50 / 93 -> 81 / 160 ms on a slow 2-core
# machine); a server under load reads 1 sentence (``dimmer``) and so no second time.
SECOND_READING = True
# Whether questions typed without diacritics are read by the reader (else the rules answer).
# Measured on the validation articles of ViQuAD fold A and ViNewsQA fold A (never trained on,
# never reported), questions stripped of their marks, with a reader trained on 25% unmarked
# questions: F1 0.431 read against 0.551 by the rules (ViQuAD, 195 questions), 0.418 against
# 0.547 (ViNewsQA, 20); marked, the same questions score 0.659 / 0.511. So the rules keep them.
READS_UNMARKED = False
# Question kinds whose reader span grows to the rules' typed span it overlaps: the rules know
# units and qualifiers ("189" -> "189 quốc gia"). Dates, people and places keep the reader's
# bounds, as clauses, reasons and lists do: their typed span is often a clause around the
# answer ("lúc 16 tuổi, anh chọn thực phẩm ...", "Norris được Joshua Aversano"), and the
# reader itself reads a title with its name ("Phó Thủ tướng Thường trực Chính phủ Phạm Bình
# Minh"). Decided on ViNewsQA dev fold A (1,222 questions, run-2 reader), exact matches with /
# without growing: number 82 / 81, person 23 / 26, place 25 / 26, date 24 / 27 (F1 30.9 /
# 32.8); all four kinds grown EM / F1 0.449 / 0.613, numbers only 0.455 / 0.615. Fold B, only
# reported (``hoidap eval squad``): ViNewsQA 0.4173 / 0.5983 -> 0.4196 / 0.5985, ViQuAD 1.0
# 0.3684 / 0.5139 -> 0.3721 / 0.5156.
EXPAND_KINDS = frozenset({"number"})


@dataclass(frozen=True)
class ReadAnswer:
    sentence: StoredSentence  # the sentence the span starts in (cited first)
    start: int  # the span's offsets into the document's original text
    end: int
    text: str
    no_answer: float  # the reader's no-answer score of its passage (lower: surer)


def read_answer(reader: Reader, question: Question, ranked: Sequence[StoredSentence],
                sentences: Sequence[StoredSentence], original: str, read: int) -> ReadAnswer | None:
    """The reader's answer among the first ``read`` of ``ranked`` (the article's sentences,
    best first); ``sentences`` are all of the article's, ``original`` its text."""
    by_index = {s.index: s for s in sentences}
    chosen = list(ranked[: max(1, read)])
    groups = _packed(reader, question.text, chosen, by_index, original)
    also = [_in_rank_order(chosen, original)] if SECOND_READING and len(chosen) > 1 else []
    spans = [sp for sp in reader.read(question.text, [p for _, p in groups], also) if sp.end > sp.start]
    if not spans:
        return None
    best = min(spans, key=lambda sp: (sp.no_answer + RANK_PENALTY * sp.passage, sp.passage))
    holder = next((s for s in sentences if s.start <= best.start < s.end), groups[best.passage][0][0])
    start, end = _expanded(question, holder, best.start, best.end)
    start, end = tidied(original, start, end, holder.start, holder.end)
    if question.kind in EXPAND_KINDS:
        start = qualified(original, start, holder.start, question.text)
    if _lone_syllable(original[start:end]) and holder.start <= start and end <= holder.end:
        # A lone syllable of a longer word is no answer ("xây" of "xây dựng lực lượng cán bộ"):
        # the whole word at least. (Every span grown to whole words joined names with the verb
        # after them, "Bệnh viện Rajaji khám": only a lone syllable is grown.)
        a, b = word_around(holder.text, start - holder.start, end - holder.start)
        start, end = holder.start + a, holder.start + b
    text = original[start:end]
    return ReadAnswer(holder, start, end, text, best.no_answer) if text else None


def _packed(reader: Reader, question: str, chosen: Sequence[StoredSentence],
            by_index: Mapping[int, StoredSentence], original: str
            ) -> list[tuple[list[StoredSentence], Passage]]:
    """The sentences chosen (best first) in groups each read as one passage, with that passage:
    the best that fit the model's window together, then the best of the rest, and so on (a
    sentence too long for the window alone is read alone, cut at its end)."""
    groups: list[tuple[list[StoredSentence], Passage]] = []
    rest = list(chosen)
    while rest:
        n = len(rest)
        passage = _together(rest[:n], by_index, original)
        while n > 1 and not reader.fits(question, passage):
            n -= 1
            passage = _together(rest[:n], by_index, original)
        groups.append((rest[:n], passage))
        rest = rest[n:]
    return groups


def _in_rank_order(chosen: Sequence[StoredSentence], original: str) -> Passage:
    """The sentences chosen read in the ranker's order, the best first, as if a space joined them:
    the second reading (``SECOND_READING``)."""
    first, *rest = chosen
    return Passage(original, first.start, first.end, tuple((s.start, s.end) for s in rest))


def _together(chosen: Sequence[StoredSentence], by_index: Mapping[int, StoredSentence],
              original: str) -> Passage:
    """The sentences chosen as one passage in document order: those at most ``TOGETHER_GAP``
    apart with the sentences between them, the rest joined after (one sentence: with
    ``NEIGHBOURS`` either side). Text runs on from one sentence to the next only where nothing
    but spaces lies between them in the original: cleaning left captions, repeated headlines
    and link lists out of the sentences, and the reader must not read them (an answer is a
    span of a sentence it cites)."""
    if len(chosen) == 1:
        s = chosen[0]
        return Passage(original, by_index.get(s.index - NEIGHBOURS, s).start, by_index.get(s.index + NEIGHBOURS, s).end)
    order = sorted(chosen, key=lambda s: s.index)
    stretches: list[tuple[int, int]] = []
    lo, last = order[0].start, order[0]
    for s in order[1:]:
        between = [by_index[i] for i in range(last.index + 1, s.index + 1) if i in by_index]
        if s.index - last.index > TOGETHER_GAP or len(between) < s.index - last.index:
            stretches.append((lo, last.end))
            lo, last = s.start, s
            continue
        for t in between:
            if original[last.end : t.start].strip():
                stretches.append((lo, last.end))
                lo = t.start
            last = t
    stretches.append((lo, last.end))
    (a, b), *more = stretches
    return Passage(original, a, b, tuple(more))


# Bracket and quote pairs an answer keeps whole: "Nhà Quốc hội (Hà Nội" is grown to its ")",
# a closing mark with no opening inside the span is grown back to it or dropped.
PAIRS = {"(": ")", "[": "]", "“": "”", "‘": "’"}
# How far past the span its closing mark (or before it its opening one) is looked for.
PAIR_CHARS = 40
# Left off the ends of an answer: spaces and the sentence's own punctuation.
_EDGE = " \t\n.,;:!?…"


def tidied(original: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """The span ``original[start:end]`` with its brackets and quotes balanced inside the
    sentence ``original[lo:hi]`` (grown to a mark within ``PAIR_CHARS``, else cut before the
    unmatched one) and without punctuation or spaces at its ends."""
    for op, cl in PAIRS.items():
        span = original[start:end]
        if span.count(op) > span.count(cl):
            close = original.find(cl, end, min(hi, end + PAIR_CHARS))
            end = close + 1 if close >= 0 else start + span.rfind(op)
        elif span.count(cl) > span.count(op):
            opening = original.rfind(op, max(lo, start - PAIR_CHARS), start)
            if opening >= 0:
                start = opening
            else:
                end = start + span.rfind(cl)
    span = original[start:end]
    if span.count('"') % 2:  # a straight quote left alone: drop it where it stands at an end
        if span.rstrip(_EDGE).endswith('"'):
            end = start + span.rstrip(_EDGE).rfind('"')
        elif span.lstrip(_EDGE).startswith('"'):
            start += span.find('"') + 1
    while start < end and original[start] in _EDGE:
        start += 1
    while end > start and original[end - 1] in _EDGE:
        end -= 1
    return start, end


# The words before a number that say which way it is approximate, read back this far: "trên 220
# đối tác" is not "220 đối tác" (the facts lexicon's qualifiers, as the claims read them).
QUALIFIER_WORDS = 3
# Qualifiers that are also common words of other senses, never taken: "Ngoài 69 con" (besides),
# "Nhiệt độ 49-60 độ C" (the end of "nhiệt độ"), "chỉ 8%" (only: no bound), "đúng", "quá",
# "sắp", "suýt", "tầm", "ước", "vượt" (verbs and adverbs). Looked at on ViNewsQA dev fold A.
QUALIFIER_AMBIGUOUS = frozenset(fold_phrase(w) for w in (
    "ngoài", "độ", "chỉ", "đúng", "quá", "sắp", "suýt", "tầm", "ước", "vượt"))


def qualified(original: str, start: int, lo: int, question: str = "") -> int:
    """The start of a number's span moved back over the qualifier written just before it ("trên",
    "hơn", "gần", "khoảng", "ít nhất": ``facts_lexicon.json``), within the sentence from ``lo``.
    A reader's span often leaves it out ("220 đối tác" for "trên 220 đối tác"), which turns a
    bound into an exact figure; the rules' typed span keeps it, but grows the reader's only
    where the two overlap."""
    if not original[start : start + 1].isdigit():
        return start
    before = original[lo:start]
    words = list(re.finditer(r"\w+", before))
    if not words or before[words[-1].end() :].strip():
        return start  # punctuation between: "(2016 - 2021), 35 năm" has no qualifier
    quals = lexicon().qualifiers
    for n in range(min(QUALIFIER_WORDS, len(words)), 0, -1):
        run = words[-n:]
        if any(before[a.end() : b.start()] != " " for a, b in zip(run, run[1:], strict=False)):
            continue
        phrase = fold_phrase(" ".join(m.group() for m in run))
        if phrase in quals and phrase not in QUALIFIER_AMBIGUOUS:
            # A qualifier the question states ("tối đa là bao nhiêu tiếng?") is asked, not answered.
            asked = " " + fold_phrase(" ".join(re.findall(r"\w+", question))) + " "
            return start if f" {phrase} " in asked else lo + run[0].start()
    return start


def _lone_syllable(text: str) -> bool:
    """One lower-case syllable of letters: a word of its own, or a piece of a longer one."""
    return bool(text) and text.isalpha() and text.islower()


def _expanded(question: Question, sentence: StoredSentence, start: int, end: int) -> tuple[int, int]:
    """The span grown to the rules' typed span of the same sentence when the two overlap."""
    if question.kind not in EXPAND_KINDS:
        return start, end
    rule = extract(question.text, sentence.text)
    if rule is None:
        return start, end
    a, b = sentence.start + rule.start, sentence.start + rule.end
    if a < end and start < b:  # they overlap
        return min(a, start), max(b, end)
    return start, end
