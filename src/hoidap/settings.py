"""One settings object with documented defaults.

Every tunable the engine reads lives here; tuned constants of a single stage
stay at the top of that stage's module with a note on how they were chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from hoidap.errors import HoidapError

ENV_INDEX = "HOIDAP_INDEX"
ENV_STORE = "HOIDAP_STORE"
ENV_TOKEN = "HOIDAP_TOKEN"
# The values of Settings.retriever (see there).
RETRIEVERS = ("bm25", "dense", "hybrid")
# The values of Settings.reader.
READERS = ("rules", "trained")


def default_index_dir() -> Path:
    """``$HOIDAP_INDEX``, else the per-user data directory (``~/.local/share/hoidap/index``)."""
    env = os.environ.get(ENV_INDEX)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("hoidap", appauthor=False)) / "index"


def default_readers() -> int:
    """One reader process per core, at most 4 (``Settings.readers``)."""
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class Settings:
    """Engine settings. Build with keyword arguments; ``with_(...)`` returns a changed copy."""

    # Where the embedded index lives: one directory holding hoidap.sqlite and keyword/.
    index_dir: Path = field(default_factory=default_index_dir)
    # The store: None = the embedded one in index_dir (SQLite + tantivy); a
    # "postgresql://..." URL = hoidap.backends.postgres.store, shared by any number of processes
    # and machines (several hosts in the URL: reads may go to replicas).
    # Default: $HOIDAP_STORE.
    store: str | None = field(default_factory=lambda: os.environ.get(ENV_STORE) or None)
    # Files larger than this are refused with a clear message (JSONL: per line).
    # 16 MiB is ~30x the largest news page in ../shared/eval; bigger is almost
    # always a dump or a binary that slipped through.
    max_file_bytes: int = 16 * 1024 * 1024
    # Articles written per SQLite transaction: a killed ingest loses at most
    # one batch, and larger batches stop paying off past a few dozen.
    batch_size: int = 64
    # Processes that prepare (clean, segment, normalise) articles during ingest
    # (hoidap.ingest.parallel); the writes (SQLite + tantivy, ~70% of the CPU after
    # profiling) stay in the calling process, so a second worker helps only
    # while cores are idle: ~290 -> ~400 articles/s on 2 idle cores, estimated
    # from CPU times by benchmarks/bench.py. 1 prepares in-process: no start-up
    # cost, and the server's ingest does not compete with its reader processes.
    workers: int = 1
    # Retrieval: "bm25" (keyword index only), "dense" (sentence vectors only) or
    # "hybrid" (both, scores fused). The last two need the dense extra and
    # vectors computed at ingest (embed); sentences without one score 0 there.
    retriever: str = "bm25"
    # Compute sentence vectors at ingest (hoidap ingest --dense): ~12 sentences/s
    # per core, so about 100x the rest of ingest; resumable (hoidap.search.embed).
    embed: bool = False
    # Share of the dense score in hybrid retrieval, each side min-max normalised
    # over its 100 best (benchmarks/dense_retrieval.py, tuned on viquad1_dev;
    # 0.2-0.4 within 0.008 evidence@1 on ViNewsQA; reciprocal-rank fusion lower).
    dense_weight: float = 0.4
    # Frequent-term pruning (retrieve.prune): a query term found in more than this
    # share of the sentences (or of the documents), and in more than 10,000 of
    # them, is left out of that index's query; the rarest term always stays.
    # None keeps every term. ViNewsQA's 500 articles asked inside 500,000
    # VietNews ones: evidence@1 0.722 (None) / 0.720 (0.1), F1 0.430 / 0.425;
    # search p50 17.9 -> 6.6 ms, ask p50 25.2 -> 13.8 ms there (2 cores; 0.05 and
    # 0.02 cost 2 and 7 points of evidence@1 with the earlier plan, measured alike).
    # Smaller collections are unchanged: no term there has 10,000 postings.
    max_term_share: float | None = 0.1
    # The short answer: "rules" (hoidap.qa.extract's patterns over the ranker's sentence)
    # or "trained" (the reader model shipped in data/reader/ reads the ranker's best
    # sentences; hoidap.qa.answer). Without the model or onnxruntime, "trained" falls
    # back to the rules.
    reader: str = "trained"
    # How many sentences retrieval hands to answer extraction.
    top_sentences: int = 20
    # Citations shown per answer (near-duplicates of a cited sentence are
    # added as extra sources of the same citation group).
    max_citations: int = 5
    # An answer by the rules (``reader="rules"``, or an unmarked question nothing gave marks) whose
    # sentence states less of the question than this (support:
    # IDF-weighted share of its terms and term pairs, scaled by the extraction
    # score, rank.confidence) is None: the collection does not talk about it.
    # Chosen by asking ViNewsQA and ViQuAD questions of their own collection
    # (answerable) and of each other's (off-topic): at 0.25, 95% / 90% of on-topic
    # questions are answered and 75% / 84% of off-topic ones abstain (balanced
    # accuracy 0.858; the peak, 0.872 at 0.30, gives up 5 points of answered news).
    min_support: float = 0.25
    # Then, below this confidence the answer is None ("not found"). The confidence is
    # the probability that the answer is right (rank.calibrated, trained by
    # scripts/train_rank.py on ViQuAD 2.0 fold-A questions asked of their own articles
    # and of VietNews); this threshold is the highest that costs those answerable
    # questions at most 2.8 F1 points with the support gate before it (out of fold:
    # 86% of them answered, 82% of off-topic questions and 14% of adversarial
    # unanswerable ones abstain; see F1_BUDGET in the script).
    # It equals rank_model.json's confidence threshold (tests/test_rank.py).
    min_confidence: float = 0.045
    # With the trained reader, the confidence is the reader's own calibrated probability of being
    # right (the ranker's confidence, the reader's no-answer score, whether the question names a
    # term the collection never holds: the manifest's "confidence",
    # ``scripts/train_reader_confidence.py``); below this, or below the model's own support floor,
    # the answer is None, and the two gates above do not apply. None: the threshold
    # chosen with the model: 0.07 with a support floor of 0.17 (the pair with the most abstention
    # costing ViQuAD 2.0 fold B1's answerable questions at most 2.8 F1 points out of fold; refitted
    # on 2026-12-07 when the reader began reading each passage alone). On fold B2: F1 cost 3.2
    # points (the rules' gates 4.4), abstention on adversarial unanswerable questions 17% (17%),
    # on off-topic ones 98% (81%) and off-topic news questions 89% (65%). With 3 sentences read
    # together (``benchmarks/reader_abstention.py``): F1 cost 1.7 points, abstention 15%.
    min_reader_confidence: float | None = None
    # The ranker's best sentences the trained reader reads, as few passages as fit its window
    # (``qa/answer.py``: one call of the model for most questions). Read one call each, on ViNewsQA
    # dev fold A: F1 0.543 reading 1, 0.574 reading 2, 0.580 reading 3, and 3 was over the 50 ms
    # median budget at 22,644 articles (53-55 ms on one thread), so 2. Read together (2026-12-07),
    # fold A ViNewsQA / ViQuAD 1.0 EM / F1 0.4542 / 0.6207 and 0.4815 / 0.6299 reading 2, 0.4714 /
    # 0.6300 and 0.4913 / 0.6398 reading 3, for 25% more CPU on the load test's questions (one
    # thread, 22,644 articles: 32.7 -> 40.8 ms); fold B, only reported: ViNewsQA 0.4110 / 0.5988 ->
    # 0.4165 / 0.6082, ViQuAD 1.0 0.3721 / 0.5259 -> 0.3829 / 0.5309; `benchmarks/answer_latency.py`
    # (500 articles, two threads) p50 / p99 20.8-21.8 / 35.4-37.7 -> 24.6-25.0 / 44.4-45.7 ms. So 3.
    # A server saturated by questions may prefer 2 or 1 (`hoidap serve --read-sentences N`).
    read_sentences: int = 3
    # The server reads fewer sentences for a question while questions queue (``hoidap.dimmer``): as
    # many as keep the time it waits for the readers plus its own reading within this budget;
    # None: always ``read_sentences``. 400 ms leaves room for the spread around the mean under the
    # 500 ms p99 a server under load is held to (``benchmarks/load_test.py``); a question asked of
    # a server that is not busy is always read fully. The CLI and the library read fully.
    latency_budget_ms: float | None = 400.0
    # A question typed without diacritics (or with few: ``remark.PARTLY_MARKED``; or with a few
    # missed: ``remark.KEEP_TYPED``) is given the marks its syllables most likely take, under a
    # syllable bigram model and the sentences retrieval found (``hoidap.text.remark``), then
    # searched again, ranked and read, so it is
    # answered as if typed with them (the trained reader reads marked questions best). False:
    # it is answered unmarked by the rules (``qa.answer.READS_UNMARKED``). Designed on ViNewsQA /
    # ViQuAD 1.0 fold A; asked unmarked on fold B (``hoidap eval squad --unmarked``), EM / F1
    # ViNewsQA 0.194 / 0.432 (False) -> 0.410 / 0.590, ViQuAD 1.0 0.192 / 0.379 -> 0.365 / 0.509
    # (marked: 0.416 / 0.596, 0.372 / 0.514); half unmarked (``--unmarked 0.5``) 0.409 / 0.589 and
    # 0.365 / 0.507; a few marks missed (``--unmarked 0.2``) 0.413 / 0.596 and 0.370 / 0.511.
    remark_questions: bool = True
    # ONNX Runtime threads of the trained reader in this process. A process asking one
    # question at a time (the CLI, a library caller) has the cores to itself: one batched
    # read on 2 threads. The server's reader processes (one per core) read with 1 each.
    reader_threads: int = field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 2)))
    # Questions longer than this are refused (a pasted article is not a question).
    max_question_chars: int = 1000

    # -- deployment knobs: the backends ------------------------------------
    # The embedded keyword index commits every this many seconds of an ingest, and
    # at its end; SQLite still commits every batch. A tantivy commit plus the merges
    # it starts cost ~0.4 s whatever its size, and every commit makes a segment that
    # later merges copy again: committing every 2,048 articles, a 500,000-article
    # ingest ran at 717 articles/s and left 14 sentence segments; every 30 s (with
    # the writer heap 64 -> 256 MB, measured together) 865 articles/s and 9
    # segments, and search p50 4.8 -> 4.2 ms (benchmarks/bench.py). Readers see new
    # articles at the next commit; a kill loses nothing (caught up on open).
    keyword_commit_seconds: float = 30.0
    # tantivy's indexing memory budget per index (two during an ingest). A full
    # budget writes a segment; 256 MB holds the ~30 s between the commits of an
    # ingest, so each commit makes about one segment and merges copy less.
    keyword_writer_heap_bytes: int = 256_000_000
    # PostgreSQL: seconds to wait for a server before trying the next host.
    pg_connect_timeout: int = 3
    # Original texts a PostgreSQL reader keeps (sentences are cut from them): ~2,000
    # news articles are ~10-20 MB, and a question's 200 candidates come from ~100.
    pg_text_cache: int = 2000
    # Terms (field, term -> id, document frequency) a PostgreSQL reader keeps per
    # kind: a server's questions reuse most of their words; 200,000 take ~40 MB.
    pg_term_cache: int = 200_000
    # How long a PostgreSQL reader keeps the collection statistics before reading
    # them again (one query saved per search): other processes' ingests are seen
    # within this, as the server's tantivy readers see commits at their next reload.
    pg_stats_seconds: float = 1.0

    # -- deployment knobs: fetching URLs, feeds and sitemaps (hoidap.ingest.fetch) --
    # Seconds to wait for a server to connect or send the next bytes; a page not read whole in
    # 4x this fails too. News sites answer in well under a second; 20 s rides out a slow one.
    fetch_timeout_seconds: float = 20.0
    # Seconds between two requests to the same host (a robots.txt Crawl-delay that is longer
    # wins): one page a second is the usual courtesy of polite crawlers.
    fetch_delay_seconds: float = 1.0
    # Tries after the first for a timeout, a dropped connection, 429 or 5xx, waiting
    # fetch_backoff_seconds * 2**n before try n (a Retry-After up to 60 s is honoured).
    fetch_retries: int = 2
    fetch_backoff_seconds: float = 1.0
    # A fetched body over this many bytes is refused (HTML pages are ~0.1-2 MB). Feeds and
    # sitemaps get the same limit: a 16 MiB sitemap lists ~100,000 URLs.
    fetch_max_bytes: int = 16 * 1024 * 1024
    # The User-Agent sent, and the name robots.txt rules are matched against.
    user_agent: str = "hoidap/0.2 (Vietnamese news question answering)"

    # -- deployment knobs: the HTTP server (hoidap serve) ---------------------
    # Reader processes. Answering a question is ~11 ms of Python on the 22,644-article
    # index, and one process answers with one interpreter lock: a process per core uses
    # them all. One queue feeds them all: with uvicorn's own worker processes instead,
    # 20 keep-alive clients split 6/14 between two workers and the busier one set the
    # p99 (benchmarks/load_test.py, 2 cores shared with other jobs: 571 ms that way,
    # 455 ms this way; 191 ms this way on a quiet machine).
    readers: int = field(default_factory=default_readers)
    # Reads queued or running at once; beyond this the server answers 503 at once.
    max_pending_reads: int = 200
    # Ingest jobs queued or running; beyond this the server answers 503.
    max_pending_ingests: int = 5
    # uvicorn answers 503 beyond this many open connections, instead of queueing without bound.
    max_connections: int = 256
    # The ingest process runs at this CPU niceness. 0: it gets a fair share, one process
    # among the readers (the kernel shares the CPU by process), and a job's files are
    # ingested in one pass with one keyword commit. benchmarks/load_test.py (2,000 articles,
    # 5 clients, 600 files uploaded in 6 jobs, 2 shared cores, one run each): niceness 10
    # starved it (200 files: upload 6-10x the CLI's time), 5: 5.4x, p99 361 ms; 0: 2.3x,
    # p99 207 ms. Questions keep their bound because a reader still gets its core's share.
    ingest_niceness: int = 0
    # The reader processes run at this CPU niceness, above the ingest process's, so that an upload
    # gets more than one process's share while questions saturate the readers (an unprivileged
    # process may raise its niceness but never lower it again, so it is set once, at start; with
    # no ingest running, the readers only share the CPU with the HTTP process, which gains by it).
    # benchmarks/load_test.py, 22,644 articles, 20 clients for 60 s, 1,950 files uploaded, quiet
    # 2-core machine, upload / the CLI's time and question p99: niceness 0: 2.18x, 607 ms; 1 (three
    # runs): 1.99x / 2.11x / 1.88x, 587 / 663 / 617 ms; 2 (three runs): 1.89x / 1.80x / 1.79x, 643 / 620 / 685 ms;
    # 3: 2.06x, 708 ms (before the ingest's progress writes were cut). The p99 moves within its
    # noise from 1 to 2, the upload stays under twice the CLI's time only at 2. The readers' share
    # is the questions' latency during an upload.
    reader_niceness: int = 2
    # The bearer token of the HTTP API (hoidap serve --token-file, or $HOIDAP_TOKEN). Set, every
    # /api/ route and /metrics need "Authorization: Bearer TOKEN" (compared in constant time);
    # unset, the server listens only on a loopback address. Never printed (repr=False).
    token: str | None = field(default_factory=lambda: os.environ.get(ENV_TOKEN) or None, repr=False)
    # Serve questions only: ingest (and any other write route) answers 403.
    read_only: bool = False
    # Origins whose web pages may call the API from a browser (CORS). Empty: closed, no
    # Access-Control-Allow-Origin header is ever sent.
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:  # the one check: retrieval and the engine rely on it
            raise HoidapError(f"unknown retriever {self.retriever!r} (one of {', '.join(RETRIEVERS)})")
        if self.reader not in READERS:
            raise HoidapError(f"unknown reader {self.reader!r} (one of {', '.join(READERS)})")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
