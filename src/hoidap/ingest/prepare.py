"""One article through the stages: clean, segment, normalise, fingerprint.

``prepare`` is a pure function of a ``RawDocument``, so the single-machine
ingest and any batch job call the same code.

An over-long article (issue 22) is refused, not split: the 22,644 VietNews test articles have a
median body of 1,876 characters, 99.9% are under 7,013 and the longest has 10,220, so a body over
``MAX_ARTICLE_CHARS`` is a book, a report or a whole site scraped as one page. Splitting it
into sections with their own ids would need section-aware ids, citations and re-ingest rules for
text that is not news; refusing with the reason (split it, or raise the limit) is the simpler,
honest choice, and keeps every stage's cost per article bounded.
"""

from __future__ import annotations

from hoidap.errors import BadInputError, EmptyDocumentError
from hoidap.models import Article, PreparedArticle, RawDocument, Sentence
from hoidap.text.clean import clean_text
from hoidap.text.normalize import fingerprint, strip_diacritics, terms
from hoidap.text.segment import split_paragraphs

# Characters of cleaned body text above which an article is refused (see above): ~10x the longest
# VietNews article, the 100,000 issue 22 names.
MAX_ARTICLE_CHARS = 100_000


def prepare(raw: RawDocument) -> PreparedArticle:
    """Clean, split and normalise one article. Raises EmptyDocumentError when no body is left."""
    page = clean_text(raw.text)
    spans = split_paragraphs(raw.text, page.paragraphs)
    if not spans:
        raise EmptyDocumentError("no article text left after cleaning")
    body_chars = sum(p.end - p.start for p in page.paragraphs)
    if body_chars > MAX_ARTICLE_CHARS:
        raise BadInputError(
            f"over-long article: {body_chars:,} characters of body text, over the "
            f"{MAX_ARTICLE_CHARS:,} a news article fits in; split it into articles (one per file "
            "or JSON line) and ingest those"
        )
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
