"""The document rows both backends keep alike, turned into records: one mapping, so the
two stores return equal ``DocumentInfo`` and ``Article`` objects for equal rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from hoidap.models import Article, DocumentInfo, Sentence

# The columns ``info`` reads, in its order.
INFO_COLUMNS = "doc_id, source, title, date, outlet, n_sentences, questions"


def info(row: Sequence[Any]) -> DocumentInfo:
    """A ``DocumentInfo`` from a row of ``INFO_COLUMNS`` (``questions``: a JSON list)."""
    doc_id, source, title, date, outlet, n_sentences, questions = row
    return DocumentInfo(doc_id, source, title, date, outlet, n_sentences, tuple(json.loads(questions)))


def article(row: Sequence[Any], sentences: Iterable[tuple[int, int, int]]) -> Article:
    """An ``Article`` from ``(doc_id, source, title, date, outlet, original_text, clean_text,
    questions, credits)`` (the last two JSON lists) and its ``(index, start, end)`` sentences."""
    doc_id, source, title, date, outlet, original, clean, questions, credits = row
    sents = tuple(Sentence(doc_id, idx, start, end, original[start:end]) for idx, start, end in sentences)
    return Article(doc_id, source, title, date, outlet, original, clean,
                   tuple(json.loads(questions)), tuple(json.loads(credits)), sents)
