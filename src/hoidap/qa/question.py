"""A question, parsed once per ``ask``: what retrieval searches for and what kind of
answer is wanted. Retrieval (``hoidap.search``), the sentence ranker and the
answer extractor all read this one record instead of parsing the text again."""

from __future__ import annotations

from dataclasses import dataclass

from hoidap.qa.extract import question_kind
from hoidap.search.query import Query, parse_query


@dataclass(frozen=True)
class Question:
    text: str
    query: Query  # topic terms and bigrams, accented and plain (question words left out)
    kind: str  # the answer's kind (``hoidap.qa.extract.KINDS``): number, date, person, ...


def parse_question(text: str) -> Question:
    return Question(text, parse_query(text), question_kind(text))
