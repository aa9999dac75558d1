"""The frozen records that pipeline stages pass to each other.

Offsets (``start``/``end``) are always character offsets into a document's
``original_text``: the text as read (for HTML, the text trafilatura extracted),
before any cleaning or normalisation, so ``original_text[start:end]`` is what a
citation quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` of a document's original text."""

    start: int
    end: int


@dataclass(frozen=True)
class RawDocument:
    """One article as read from a file, before cleaning (output of ``ingest``)."""

    source: str  # the URL when known, else the path as given (``path#Lline`` for JSONL)
    text: str  # the original text; for HTML, PDF and DOCX, the text extracted from it
    title: str | None = None
    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    # How it was read, for the ingest report: "decoded as UTF-16", "mojibake ... repaired",
    # "does not look Vietnamese ..." (several joined by "; ").
    encoding_note: str | None = None
    credits: tuple[str, ...] = ()  # authors the page or file names (HTML byline, PDF/DOCX author)


@dataclass(frozen=True)
class CleanedPage:
    """What ``clean.clean_text`` keeps of a page: body paragraphs and metadata."""

    paragraphs: tuple[Span, ...]  # body paragraphs, in order, as spans of the original
    title: str | None = None
    date: str | None = None  # ISO: "2021-12-14T10:38", "2021-12-14" or "2021-12"
    outlet: str | None = None
    credits: tuple[str, ...] = ()  # "Nguồn: ...", "Ảnh: ...", author lines
    questions: tuple[str, ...] = ()  # from a trailing "[question] q1?,q2?" line


@dataclass(frozen=True)
class Sentence:
    """A body sentence; ``text == original_text[start:end]`` of its document."""

    doc_id: str
    index: int  # position in the document, from 0
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Article:
    """A cleaned, segmented article as stored in the index."""

    doc_id: str
    source: str  # the URL when known, else the path as given (``FILE#Lline`` for a JSON line)
    title: str | None
    date: str | None
    outlet: str | None
    original_text: str
    clean_text: str
    questions: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    sentences: tuple[Sentence, ...] = ()

    @property
    def n_sentences(self) -> int:
        return len(self.sentences)


@dataclass(frozen=True)
class DocumentInfo:
    """An article's metadata without its text (what ``hoidap docs`` lists)."""

    doc_id: str
    source: str
    title: str | None
    date: str | None
    outlet: str | None
    n_sentences: int
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A retrieved sentence with its retrieval score (higher is better)."""

    sentence_id: int
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    dup_key: str = ""  # sentences sharing a key say the same thing (syndicated text)
    sentence_score: float = 0.0  # the sentence's own BM25, normalised by the query's best (0..1)
    document_score: float = 0.0  # its document's BM25, normalised likewise
    position: int = 0  # index of the sentence in its document, from 0


@dataclass(frozen=True)
class StoredSentence:
    """A sentence row as the retriever needs it."""

    sid: int
    doc_id: str
    dno: int
    index: int
    start: int
    end: int
    text: str
    terms: str
    dup_key: str


@dataclass(frozen=True)
class KeywordHit:
    """A row of a keyword index and its BM25 score."""

    key: int  # sentence id or document number in the store
    score: float


@dataclass(frozen=True)
class Stats:
    """What a collection holds (``hoidap stats``)."""

    documents: int
    sentences: int
    outlets: tuple[tuple[str, int], ...]  # (outlet, documents), most first; "" = no outlet found
    first_date: str | None  # the earliest and latest article date (ISO prefix), None without dates
    last_date: str | None
    index_bytes: int | None  # the embedded index's size on disk; None for a PostgreSQL store


def shown_name(title: str | None, outlet: str | None, date: str | None, doc_id: str) -> str:
    """How a cited document is named to a reader: its title, else its outlet and date,
    else "bài" and its id; never a file path, which says nothing and may be private."""
    if title:
        return title
    named = ", ".join(p for p in (outlet, date[:10] if date else None) if p)
    return named or f"bài {doc_id[:8]}"


@dataclass(frozen=True)
class SourceRef:
    """Another place where the same statement stands (syndicated or repeated text)."""

    doc_id: str
    source: str
    title: str | None
    start: int
    end: int
    outlet: str | None = None

    def name(self) -> str:
        return shown_name(self.title, self.outlet, None, self.doc_id)


@dataclass(frozen=True)
class Citation:
    """A cited sentence: ``original_text[start:end]`` of document ``doc_id``, or
    ``title[start:end]`` when ``in_title`` (a headline states figures too: "180 hành
    khách" in one title, "186 hành khách" in another body).

    ``also`` lists other documents stating the same sentence (near-duplicates),
    so every source is cited while the sentence is shown once.
    """

    doc_id: str
    source: str
    title: str | None
    sentence: str
    start: int
    end: int
    outlet: str | None = None
    date: str | None = None
    score: float = 0.0
    also: tuple[SourceRef, ...] = ()
    in_title: bool = False

    def name(self) -> str:
        return shown_name(self.title, self.outlet, self.date, self.doc_id)


@dataclass(frozen=True)
class Answer:
    """The answer to one question: a short string or ``None`` (not found), with evidence."""

    question: str
    answer: str | None
    confidence: float
    citations: tuple[Citation, ...] = ()
    kind: str = "clause"  # the question type that shaped the answer: number, date, person, ...
    # The question as it was read when it was typed without diacritics and was given them
    # (``text.remark``: "Viet Nam ... nam nao?" -> "Việt Nam ... năm nào?"), else None.
    understood: str | None = None


@dataclass(frozen=True)
class PreparedArticle:
    """An article plus the per-sentence data the store keeps for retrieval."""

    article: Article
    doc_terms: str
    sentence_terms: tuple[str, ...]
    dup_keys: tuple[str, ...]


@dataclass(frozen=True)
class PreparedItem:
    """One input after the text stages, on its way to the store: where it came from, the
    article or why it failed, and a note on how it was read (an encoding guess)."""

    source: str
    outcome: PreparedArticle | FileFailure
    note: str | None = None


@dataclass(frozen=True)
class FileFailure:
    """A file (or JSONL line) that could not be ingested, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did: new documents, duplicates skipped, failures with reasons."""

    ingested: tuple[str, ...] = ()  # doc ids of new documents
    duplicates: tuple[str, ...] = ()  # sources whose article was already indexed
    failed: tuple[FileFailure, ...] = ()
    notes: tuple[str, ...] = field(default=())  # e.g. "a.txt: decoded as UTF-16"
    replaced: tuple[str, ...] = ()  # doc ids of older versions replaced (same source, changed text)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class DeletedDocument:
    """A document deleted from a store: its id, number and sentence ids (what the derived
    indexes still have to delete)."""

    doc_id: str
    dno: int
    sids: tuple[int, ...]


@dataclass(frozen=True)
class DeleteReport:
    """What ``Engine.delete`` did: the documents deleted, and the ids that were not in the index."""

    deleted: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Which articles a question, search, briefing or facts may read; empty: all of them.

    ``since``/``until``: article dates, ISO (``2021-12-14``; inclusive, compared on the
    date's first characters, so ``until="2021-12"`` keeps all of December); an article
    without a date is left out by either. ``outlets``: outlet names (case-insensitive);
    ``docs``: doc ids.
    """

    since: str | None = None
    until: str | None = None
    outlets: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        import re

        from hoidap.errors import UsageError

        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
                raise UsageError(f"{name} must be an ISO date (2021-12-14, 2021-12 or 2021), not {value!r}")

    @property
    def empty(self) -> bool:
        return not (self.since or self.until or self.outlets or self.docs)

    def allows(self, date: str | None, outlet: str | None, doc_id: str) -> bool:
        """Whether an article with this date, outlet and id passes (the stores' queries say the same)."""
        if self.docs and doc_id not in self.docs:
            return False
        if self.outlets and (outlet or "").casefold() not in {o.casefold() for o in self.outlets}:
            return False
        if self.since and (not date or date[:len(self.since)] < self.since):
            return False
        return not (self.until and (not date or date[:len(self.until)] > self.until))


@dataclass(frozen=True)
class Figure:
    """A number stated in an article, parsed (output of ``facts``).

    ``[low, high]`` is the range the wording allows ("trên 220" -> low 220,
    ``low_strict``, high ``None`` = unbounded); ``start``/``end`` are the
    figure's own characters in the document's original text (in its title when
    ``citation.in_title``), and ``citation`` is the sentence that states it.
    """

    value: float
    low: float | None
    high: float | None
    qualifier: str | None  # "hơn", "trên", "gần", "khoảng", "ít nhất", "đến nay", ... as written
    unit: str | None  # "USD", "%", "tấn", or the counted noun's head ("quốc gia", "liều")
    counts: str | None  # what is counted: "liều vắc xin", "quốc gia có quan hệ ngoại giao"
    date: str | None  # the date the figure refers to, when stated ("2021", "2021-12-14")
    text: str  # the figure as written, qualifier to noun: "trên 151 triệu liều vắc xin"
    start: int
    end: int
    citation: Citation
    of: float | None = None  # the whole of a fraction: "189/193" -> 193
    low_strict: bool = False  # "hơn 230": the value is above 230, not 230
    high_strict: bool = False
    context: tuple[str, ...] = ()  # key modifiers (diacritic-free) that say which quantity it is
    # What the sentence says the figure measures, when it names it: the relation of a count
    # ("quan hệ thương mại" in "có quan hệ thương mại với 224 đối tác") or the subject of an
    # amount ("kim ngạch xuất khẩu của Việt Nam" in "... đạt 22,3 tỷ USD").
    measure: str | None = None


@dataclass(frozen=True)
class Entity:
    """A person, organisation, place or event named in the articles, with every citation."""

    name: str
    kind: str  # "person", "organization", "place" or "event"
    title: str | None = None  # a person's title: "Phó Thủ tướng Thường trực"
    date: str | None = None  # an event's date when stated
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """Figures about the same quantity from different documents, compared.

    ``label``: "agree" (same value or range), "compatible" (the ranges
    overlap: 224 and "trên 220") or "conflict" (some two cannot both be true:
    224 and "hơn 230").
    """

    label: str
    quantity: str  # a readable name of the quantity: the counted noun phrase or the unit
    members: tuple[Figure, ...]
    # The comparisons the label follows from: (i, j, verdict) for members i and j, from
    # different documents, found to be about the same quantity.
    pairs: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class Facts:
    """Every figure, entity and cross-source comparison of a set of articles."""

    figures: tuple[Figure, ...] = ()
    entities: tuple[Entity, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True)
class BriefSentence:
    """One sentence of a briefing, with the citation of every document that states it."""

    text: str
    citations: tuple[Citation, ...]
    date: str | None = None  # the date of its (first) document


@dataclass(frozen=True)
class Briefing:
    """An extractive multi-document briefing: key sentences plus the facts of the articles."""

    sentences: tuple[BriefSentence, ...]
    figures: tuple[Figure, ...] = ()
    entities: tuple[Entity, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    doc_ids: tuple[str, ...] = ()  # the documents briefed, in date order
    query: str | None = None
