"""``Engine``: the one object the CLI, the HTTP API and the web page call.

It owns an index directory (``hoidap.sqlite`` + ``keyword/``) and wires the
stages together: read -> prepare (clean, segment, normalise) -> store ->
keyword index; question -> retrieve -> evidence -> answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from hoidap import rank
from hoidap.errors import BadInputError, QuestionError
from hoidap.evidence import cite, group_hits
from hoidap.index import KeywordIndex
from hoidap.ingest import read_all
from hoidap.models import (
    Answer,
    Article,
    Briefing,
    DocumentInfo,
    Facts,
    FileFailure,
    Hit,
    IngestReport,
    RawDocument,
)
from hoidap.pipeline import prepare
from hoidap.retrieve import search
from hoidap.settings import Settings
from hoidap.store import PreparedArticle, SQLiteStore

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class Engine:
    """An open index. ``Engine("my-index")`` creates it if needed.

    >>> with Engine("/tmp/idx") as eng:                      # doctest: +SKIP
    ...     eng.ingest(["../shared/seeds"])
    ...     print(eng.ask("Việt Nam đã nhận được bao nhiêu liều vắc xin?").answer)
    """

    def __init__(self, index_dir: str | Path | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        if index_dir is not None:
            self.settings = self.settings.with_(index_dir=Path(index_dir))
        root = Path(self.settings.index_dir)
        self.store = SQLiteStore(root / "hoidap.sqlite")
        self.index = KeywordIndex(root / "keyword")
        self._catch_up()

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _catch_up(self) -> None:
        """Bring the keyword index level with the store (after a kill, or a deleted keyword/)."""
        try:
            added = self.index.sync(
                self.store.sentences_after(self.index.sentences.max_key()),
                self.store.documents_after(self.index.documents.max_key()),
            )
        except ValueError as e:  # another process holds tantivy's writer lock: it is ingesting
            log.debug("keyword index busy, reading it as it is: %s", e)
            return
        if any(added):
            log.info("keyword index caught up: %d sentences, %d documents", *added)

    # -- ingest ----------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: Progress | None = None) -> IngestReport:
        """Read files/folders (.txt, .html, .jsonl) and index every new article in them."""
        return self.ingest_documents(read_all(paths, self.settings.max_file_bytes), progress)

    def ingest_documents(
        self, items: Iterable[RawDocument | FileFailure], progress: Progress | None = None
    ) -> IngestReport:
        """Index already-read documents; failures are passed through into the report."""
        ingested: list[str] = []
        duplicates: list[str] = []
        failed: list[FileFailure] = []
        notes: list[str] = []
        batch: list[PreparedArticle] = []
        sources: list[tuple[str, str]] = []
        seen: set[str] = set()
        for item in items:
            if progress:
                progress(item.source)
            if isinstance(item, FileFailure):
                failed.append(item)
                continue
            try:
                prep = prepare(item)
            except BadInputError as e:
                failed.append(FileFailure(item.source, str(e)))
                continue
            except Exception as e:  # a bug on one page must not stop the other thousands
                log.exception("failed to prepare %s", item.source)
                failed.append(FileFailure(item.source, f"internal error: {type(e).__name__}: {e}"))
                continue
            if item.encoding_note:
                notes.append(f"{item.source}: {item.encoding_note}")
            doc_id = prep.article.doc_id
            sources.append((prep.article.source, doc_id))
            if doc_id in seen or self.store.has_document(doc_id):
                duplicates.append(item.source)
                continue
            seen.add(doc_id)
            batch.append(prep)
            ingested.append(doc_id)
            if len(batch) >= self.settings.batch_size:
                self._flush(batch, sources)
        self._flush(batch, sources)
        return IngestReport(tuple(ingested), tuple(duplicates), tuple(failed), tuple(notes))

    def _flush(self, batch: list[PreparedArticle], sources: list[tuple[str, str]]) -> None:
        if not batch and not sources:
            return
        self.store.add(batch, sources)  # the commit point: all of the batch or none of it
        self._catch_up()
        batch.clear()
        sources.clear()

    # -- reading ---------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def document(self, doc_id: str) -> Article:
        return self.store.document(doc_id)

    def doc_questions(self) -> list[str]:
        """Every question found in the documents' ``[question]`` lines, in document order."""
        return [q for d in self.store.documents() for q in d.questions]

    # -- asking ----------------------------------------------------------
    def _check(self, question: str) -> str:
        q = question.strip()
        if not q:
            raise QuestionError("the question is empty")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(q)} characters, over the limit of {self.settings.max_question_chars}"
            )
        return q

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The ``k`` best sentences for a query, near-duplicates included."""
        return search(self.index, self.store, self._check(query), k)

    def ask(self, question: str) -> Answer:
        """A short answer with cited sentences, or ``answer=None`` when the collection does not say."""
        q = self._check(question)
        hits = search(self.index, self.store, q, self.settings.top_sentences)
        groups = group_hits(hits)
        choice = rank.choose(q, groups, self.index)
        if choice is None or choice.confidence < self.settings.min_confidence:
            conf = choice.confidence if choice else 0.0
            cited = cite(groups, self.store, self.settings.max_citations) if choice else ()
            return Answer(q, None, round(conf, 4), cited, rank.question_kind(q))
        # The sentence the answer came from is cited first.
        ordered = [groups[choice.group]] + [g for i, g in enumerate(groups) if i != choice.group]
        cited = cite(ordered, self.store, self.settings.max_citations)
        return Answer(q, choice.text, round(choice.confidence, 4), cited, choice.kind)

    def ask_many(self, questions: Iterable[str]) -> list[Answer]:
        return [self.ask(q) for q in questions]

    # -- briefing --------------------------------------------------------
    def brief(self, query: str | None = None, docs: Sequence[str] | None = None,
              max_sentences: int | None = None, max_words: int | None = None,
              with_facts: bool = True) -> Briefing:
        """A cited extractive briefing of the collection, of ``docs``, or of the articles matching ``query``.

        ``max_sentences`` (default 8 when no ``max_words``) and ``max_words``
        (syllables; the sentence that reaches it is kept whole) bound its length.
        """
        from hoidap import brief as briefing

        q = self._check(query) if query is not None else None
        hits = search(self.index, self.store, q, briefing.QUERY_HITS) if q else None
        articles = briefing.choose_articles(self.store, docs, hits)
        return briefing.build(articles, self.store, query=q, max_sentences=max_sentences,
                              max_words=max_words, with_facts=with_facts)

    def facts(self, docs: Sequence[str] | None = None) -> Facts:
        """Every figure and entity of the collection (or of ``docs``), and figures compared across sources."""
        from hoidap import brief as briefing

        return briefing.facts_of(briefing.choose_articles(self.store, docs, None))
