"""A question, parsed once per ``ask``: what retrieval searches for and what kind of
answer is wanted. Retrieval (``hoidap.search``), the sentence ranker and the
answer extractor all read this one record instead of parsing the text again."""

from __future__ import annotations

from dataclasses import dataclass

from hoidap.errors import QuestionError
from hoidap.qa.extract import question_kind
from hoidap.search.query import Query, parse_query


@dataclass(frozen=True)
class Question:
    text: str
    query: Query  # topic terms and bigrams, accented and plain (question words left out)
    kind: str  # the answer's kind (``hoidap.qa.extract.KINDS``): number, date, person, ...


def checked(text: str, max_chars: int, label: str = "the question") -> str:
    """``text`` stripped, or a ``QuestionError`` when it is empty or longer than ``max_chars``
    (a pasted article is not a question). The engine and the server's batch check share it."""
    q = text.strip()
    if not q:
        raise QuestionError(f"{label} is empty")
    if len(q) > max_chars:
        raise QuestionError(f"{label} is {len(q)} characters, over the limit of {max_chars}")
    return q


def parse_question(text: str) -> Question:
    return Question(text, parse_query(text), question_kind(text))
