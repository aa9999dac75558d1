"""One article through the stages: clean, segment, normalise, fingerprint.

``prepare`` is a pure function of a ``RawDocument``, so the single-machine
ingest and any batch job call the same code.
"""

from __future__ import annotations

from hoidap.errors import EmptyDocumentError
from hoidap.models import Article, PreparedArticle, RawDocument, Sentence
from hoidap.text.clean import clean_text
from hoidap.text.normalize import fingerprint, strip_diacritics, terms
from hoidap.text.segment import split_paragraphs


def prepare(raw: RawDocument) -> PreparedArticle:
    """Clean, split and normalise one article. Raises EmptyDocumentError when no body is left."""
    page = clean_text(raw.text)
    spans = split_paragraphs(raw.text, page.paragraphs)
    if not spans:
        raise EmptyDocumentError("no article text left after cleaning")
    sentence_terms = tuple(" ".join(terms(raw.text[s.start : s.end])) for s in spans)
    # Stripping is per character, so the body's plain form is its sentences'
    # plain forms joined: each sentence is stripped once, for both keys.
    sentence_plain = [strip_diacritics(t) for t in sentence_terms]
    body_key = " ".join(sentence_plain)
    doc_id = fingerprint(body_key)
    sentences = tuple(
        Sentence(doc_id, i, s.start, s.end, raw.text[s.start : s.end]) for i, s in enumerate(spans)
    )
    clean = "\n\n".join(raw.text[p.start : p.end] for p in page.paragraphs)
    title = raw.title or page.title
    article = Article(
        doc_id=doc_id,
        source=raw.url or raw.source,
        title=title,
        date=raw.date or page.date,
        outlet=raw.outlet or page.outlet,
        original_text=raw.text,
        clean_text=clean,
        questions=page.questions,
        credits=tuple(dict.fromkeys((*raw.credits, *page.credits))),
        sentences=sentences,
    )
    doc_terms = " ".join(([*terms(title)] if title else []) + [t for st in sentence_terms for t in st.split()])
    return PreparedArticle(article, doc_terms, sentence_terms, tuple(fingerprint(p) for p in sentence_plain))
