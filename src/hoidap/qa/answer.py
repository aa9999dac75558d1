"""The short answer read by the trained reader from the ranker's best sentences.

The ranker (``hoidap.qa.rank``) orders the sentences of the chosen article; the
reader (``hoidap.qa.reader``) reads the first ``READ_SENTENCES`` of them, each with
``NEIGHBOURS`` sentences either side as context (so that "Ông" or "ngành" in the
sentence resolve), all in one batched call, and the span of the passage that most
wants to answer (lowest no-answer score) is the answer: a stretch of the original
text, with its offsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hoidap.models import StoredSentence
from hoidap.qa.extract import extract
from hoidap.qa.question import Question
from hoidap.qa.reader import Passage, Reader

# Sentences of the ranker's order read, and their context on each side. Chosen on
# ViQuAD 1.0 fold B (the reader's held-out half; ViNewsQA only reports): see
# scripts/train_reader.py and the CHANGELOG.
READ_SENTENCES = 1
NEIGHBOURS = 0
# Question kinds whose reader span grows to the rules' typed span it overlaps: the rules
# know units, qualifiers and titles ("189" -> "189 quốc gia", "Phạm Bình Minh" -> "Phó Thủ
# tướng Phạm Bình Minh"); clauses, reasons and lists keep the reader's own bounds.
EXPAND_KINDS = frozenset({"number", "date", "person", "place"})


@dataclass(frozen=True)
class ReadAnswer:
    sentence: StoredSentence  # the sentence the span starts in (cited first)
    start: int  # the span's offsets into the document's original text
    end: int
    text: str
    no_answer: float  # the reader's no-answer score of its passage (lower: surer)


def read_answer(reader: Reader, question: Question, ranked: Sequence[StoredSentence],
                sentences: Sequence[StoredSentence], original: str) -> ReadAnswer | None:
    """The reader's answer among the first ``READ_SENTENCES`` of ``ranked`` (the article's
    sentences, best first); ``sentences`` are all of the article's, ``original`` its text."""
    by_index = {s.index: s for s in sentences}
    chosen = list(ranked[:READ_SENTENCES])
    passages = [Passage(original, by_index.get(s.index - NEIGHBOURS, s).start,
                        by_index.get(s.index + NEIGHBOURS, s).end) for s in chosen]
    spans = [sp for sp in reader.read(question.text, passages) if sp.end > sp.start]
    if not spans:
        return None
    best = min(spans, key=lambda sp: (sp.no_answer, sp.passage))
    holder = next((s for s in sentences if s.start <= best.start < s.end), chosen[best.passage])
    start, end = _expanded(question, holder, best.start, best.end)
    text = original[start:end].strip()
    return ReadAnswer(holder, start, end, text, best.no_answer) if text else None


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
