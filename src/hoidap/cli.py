"""The ``hoidap`` command: a thin layer over ``hoidap.Engine``.

Exit codes: 0 success; 1 an error, or some input files failed; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hoidap import serialize
from hoidap.errors import HoidapError, UsageError
from hoidap.models import Answer, Figure, Filters
from hoidap.settings import READERS, RETRIEVERS, Settings

log = logging.getLogger("hoidap")


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _engine(args: argparse.Namespace, create: bool = False) -> Any:
    """The engine of ``--index``/``--store``; only ``ingest`` (``create=True``) makes a new index:
    a mistyped ``--index`` on a read command is an error, not an empty collection."""
    from hoidap.engine import Engine
    from hoidap.settings import Settings

    settings = Settings()
    if args.index:
        settings = settings.with_(index_dir=Path(args.index))
    if getattr(args, "store", None):
        settings = settings.with_(store=args.store)
    if getattr(args, "max_file_mb", None):
        settings = settings.with_(max_file_bytes=int(args.max_file_mb * 1024 * 1024))
    if getattr(args, "workers", None):
        settings = settings.with_(workers=args.workers)
    if getattr(args, "retriever", None):
        settings = settings.with_(retriever=args.retriever)
    if getattr(args, "reader", None):
        settings = settings.with_(reader=args.reader)
    if getattr(args, "read_sentences", None):
        settings = settings.with_(read_sentences=args.read_sentences)
    if getattr(args, "dense", False):
        settings = settings.with_(embed=True)
    return Engine(settings=settings, create=create)


def _progress(desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" doc", disable=not sys.stderr.isatty(), file=sys.stderr)


def cmd_ingest_spark(args: argparse.Namespace) -> int:
    """``--engine spark``: the same stages as a Spark job (hoidap.ingest.spark)."""
    from hoidap.ingest.spark import run
    from hoidap.settings import Settings

    store = args.store or Settings().store
    r = run(args.paths, store, args.index, master=args.spark_master, partitions=args.partitions,
            embed=args.dense)
    obj = {"read": r.read, "ingested": r.ingested, "duplicates": r.duplicates, "failed": r.failed,
           "stored": r.stored_after, "seconds": r.seconds,
           "failures": [asdict(f) for f in r.failures]}
    if args.json:
        _print_json(obj)
    else:
        print(f"read: {r.read}  ingested: {r.ingested}  duplicates skipped: {r.duplicates}"
              f"  failed: {r.failed}  stored: {r.stored_after}  ({r.seconds} s)")
        for f in r.failures:
            print(f"  failed: {f.source}: {f.reason}", file=sys.stderr)
    return 0 if not r.failed else 1


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        if any(p.lower().startswith(("http://", "https://")) for p in args.paths):
            raise UsageError("URLs are fetched by the local engine: ingest them without --engine spark")
        return cmd_ingest_spark(args)
    with _engine(args, create=True) as eng, _progress("ingest") as bar:
        report = eng.ingest(args.paths, progress=lambda _src: bar.update(1), follow=args.follow,
                            links=args.links)
    if args.json:
        _print_json(serialize.ingest_report(report))
    else:
        print(f"ingested: {len(report.ingested)}  duplicates skipped: {len(report.duplicates)}"
              f"  failed: {len(report.failed)}")
        for note in report.notes:
            print(f"  note: {note}")
        if report.replaced:
            print(f"  older versions replaced (same source, changed text): {len(report.replaced)}")
        for f in report.failed:
            print(f"  failed: {f.source}: {f.reason}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_docs(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        for info in eng.documents():
            if args.json:
                _print_json(serialize.document_info(info))
            else:
                print(f"{info.doc_id}  {info.date or '-':16}  {info.outlet or '-':20}  "
                      f"{info.n_sentences:4} câu  {info.title or info.source}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        hits = eng.search(args.query, k=args.k, filters=_filters(args))
    for h in hits:
        if args.json:
            _print_json(serialize.plain(h))
        else:
            print(f"{h.score:.3f}  {h.doc_id}:{h.start}-{h.end}  {h.text}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import csv

    with _engine(args) as eng:
        if args.format == "csv":
            writer = csv.writer(sys.stdout)
            writer.writerow(serialize.CSV_COLUMNS)
            for art in eng.articles():
                writer.writerow(serialize.csv_row(art))
        else:
            for art in eng.articles():
                _print_json(serialize.exported(art))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        s = eng.stats()
    if args.json:
        _print_json(serialize.plain(s))
        return 0
    print(f"bài / documents: {s.documents}   câu / sentences: {s.sentences}")
    print(f"ngày / dates: {s.first_date or '-'} .. {s.last_date or '-'}")
    if s.index_bytes is not None:
        print(f"chỉ mục / index: {s.index_bytes / 2**20:.1f} MB")
    for outlet, n in s.outlets:
        print(f"  {n:6}  {outlet or '(không rõ nguồn / no outlet)'}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        report = eng.delete(args.doc_ids)
    if args.json:
        _print_json(serialize.plain(report))
    else:
        for doc_id in report.deleted:
            print(f"đã xoá / deleted {doc_id}")
    for doc_id in report.unknown:
        print(f"hoidap: không có bài / no document {doc_id!r} in the index", file=sys.stderr)
    return 1 if report.unknown else 0


def cmd_show(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        art = eng.document(args.doc_id)
    if args.json:
        _print_json(serialize.document(art))
    else:
        print(f"{art.title or '(no title)'}\n{art.outlet or ''} {art.date or ''}\n{art.source}\n")
        print(art.clean_text)
    return 0


def _print_answer(ans: Answer) -> None:
    print(f"? {ans.question}")
    if ans.understood:
        print(f"  (hiểu là / read as: {ans.understood})")
    if ans.answer is None:
        print(f"→ không tìm thấy câu trả lời / not found  (confidence {ans.confidence:.2f})")
        if ans.citations:
            print("  Các câu gần nhất, chưa đủ để trả lời / the nearest sentences, not enough to answer:")
    else:
        print(f"→ {ans.answer}  (confidence {ans.confidence:.2f})")
    for i, c in enumerate(ans.citations, 1):
        where = ", ".join(x for x in (c.outlet, c.date) if x)
        print(f"  [{i}] “{c.sentence}”")
        print(f"      {c.name()}{f' ({where})' if where and c.title else ''}  {c.doc_id}:{c.start}-{c.end}")
        for ref in c.also:
            print(f"      also: {ref.name()}  {ref.doc_id}:{ref.start}-{ref.end}")
    print()


def expand_questions(args: Sequence[str]) -> list[str]:
    """Arguments as questions; a ``[question] q1?,q2?`` argument gives several."""
    from hoidap.text.clean import split_questions

    out: list[str] = []
    for a in args:
        out.extend(split_questions(a) if a.lstrip().startswith("[question]") else [a])
    return out


def cmd_ask(args: argparse.Namespace) -> int:
    with _engine(args) as eng:
        questions = expand_questions(args.questions)
        if args.doc_questions:
            questions += eng.doc_questions()
        if not questions:
            raise HoidapError("no question given (pass QUESTION... or --doc-questions)")
        filters = _filters(args)
        for q in questions:
            ans = eng.ask(q, filters)
            if args.json:
                _print_json(asdict(ans))
            else:
                _print_answer(ans)
    return 0


def _print_citation(c: Any, indent: str = "      ") -> None:
    where = ", ".join(x for x in (c.outlet, c.date) if x)
    print(f"{indent}{c.name()}{f' ({where})' if where and c.title else ''}  {c.doc_id}:{c.start}-{c.end}")
    for ref in c.also:
        print(f"{indent}also: {ref.name()}  {ref.doc_id}:{ref.start}-{ref.end}")


def _place(f: Figure) -> str:
    """Where a figure stands: ``DOC:START-END`` in the original text, ``DOC:tiêu đề:START-END``
    in the title (a headline's figure)."""
    return f"{f.citation.doc_id}:{'tiêu đề:' if f.citation.in_title else ''}{f.start}-{f.end}"


def _print_conflicts(conflicts: Sequence[Any]) -> None:
    for c in conflicts:
        print(f"  [{c.label}] {c.quantity}")
        for f in c.members:
            print(f"      “{f.text}”  {f.citation.outlet or f.citation.name()}  {_place(f)}")


def _doc_list(value: str | None) -> list[str] | None:
    return [d.strip() for d in value.split(",") if d.strip()] if value else None


def _filters(args: argparse.Namespace, docs: bool = True) -> Filters:
    """The ``--since``/``--until``/``--outlet`` (and ``--docs``) flags as one ``Filters``; ``brief``
    and ``facts`` pass their ``--docs`` as the articles to read (an unknown id is an error there)."""
    return Filters(since=args.since, until=args.until, outlets=tuple(args.outlet or ()),
                   docs=tuple(_doc_list(args.docs) or ()) if docs else ())


def _add_filter_flags(sp: argparse.ArgumentParser, docs: bool = True) -> None:
    sp.add_argument("--since", metavar="DATE", help="only articles dated on or after DATE (ISO: 2021-12-14, 2021-12)")
    sp.add_argument("--until", metavar="DATE", help="only articles dated on or before DATE (ISO; 2021-12 = all December)")
    sp.add_argument("--outlet", action="append", metavar="NAME",
                    help="only articles of this outlet (case-insensitive; repeat for several)")
    if docs:
        sp.add_argument("--docs", help="only these documents: DOC_ID,DOC_ID,...")


def cmd_brief(args: argparse.Namespace) -> int:

    with _engine(args) as eng:
        b = eng.brief(query=args.query, docs=_doc_list(args.docs), max_sentences=args.max_sentences,
                      max_words=args.max_words, filters=_filters(args, docs=False))
    if args.json:
        _print_json(serialize.briefing(b))
        return 0
    if not b.sentences:
        topic = f" về “{args.query}”" if args.query else ""
        print(f"Không có bài nào{topic} trong bộ sưu tập: không có gì để tóm tắt. / No article matches.")
        return 0
    for i, s in enumerate(b.sentences, 1):
        print(f"[{i}] {s.text}")
        for c in s.citations:
            _print_citation(c)
    if b.conflicts:
        print("\nSố liệu giữa các nguồn / figures across sources:")
        _print_conflicts(b.conflicts)
    return 0


def cmd_facts(args: argparse.Namespace) -> int:

    with _engine(args) as eng:
        facts = eng.facts(docs=_doc_list(args.docs), filters=_filters(args, docs=False))
    if args.json:
        _print_json({"conflicts": serialize.conflicts(facts.conflicts)} if args.conflicts
                    else serialize.facts(facts.figures, facts.entities, facts.conflicts))
        return 0
    if not args.conflicts:
        print("Số liệu / figures:")
        for f in facts.figures:
            rng = f"[{f.low}, {f.high if f.high is not None else '∞'}]"
            print(f"  {f.text}  = {f.value:g} {rng}  unit={f.unit}  counts={f.counts}  date={f.date}"
                  f"  {_place(f)}")
        print("\nThực thể / entities:")
        for e in facts.entities:
            extra = f", {e.title}" if e.title else (f" ({e.date})" if e.date else "")
            print(f"  {e.kind:12} {e.name}{extra}  [{len(e.citations)} câu]")
        print()
    print("Số liệu giữa các nguồn / figures across sources:")
    _print_conflicts(facts.conflicts)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hoidap.server import serve
    from hoidap.settings import Settings

    settings = Settings() if not args.index else Settings().with_(index_dir=Path(args.index))
    if args.store:
        settings = settings.with_(store=args.store)
    if args.readers:
        settings = settings.with_(readers=args.readers)
    if args.read_sentences:
        settings = settings.with_(read_sentences=args.read_sentences)
    if args.reader_niceness is not None:
        settings = settings.with_(reader_niceness=args.reader_niceness)
    if args.latency_budget is not None:
        settings = settings.with_(latency_budget_ms=args.latency_budget or None)
    settings = _serve_access(settings, args)
    # One line per request (method, path, status, ms) unless --no-access-log.
    logging.getLogger("hoidap.access").setLevel(logging.WARNING if args.no_access_log else logging.INFO)
    try:
        serve(settings, host=args.host, port=args.port)
    except SystemExit as e:  # uvicorn exits (3 when the port is taken) after logging why
        if e.code not in (0, None):
            raise HoidapError(f"the server could not start on {args.host}:{args.port} (see above)") from e
    return 0


def _serve_access(settings: Settings, args: argparse.Namespace) -> Settings:
    """The token (--token-file, else $HOIDAP_TOKEN), --read-only and --cors-origin."""
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read the token file {args.token_file}: {e}") from e
        settings = settings.with_(token=token)
    return settings.with_(read_only=args.read_only, cors_origins=tuple(args.cors_origin or ()))


def cmd_eval(args: argparse.Namespace) -> int:
    from hoidap.evaluate import compare
    from hoidap.settings import Settings

    with _progress("questions") as bar:
        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        settings = Settings()
        if args.min_confidence is not None:
            settings = settings.with_(min_confidence=args.min_confidence)
        if args.reader:
            settings = settings.with_(reader=args.reader)
        reports = compare(Path(args.file), settings, args.retriever,
                          index_dir=Path(args.index) if args.index else None, limit=args.limit, progress=tick,
                          fold=args.fold, unmarked=args.unmarked)
    if args.json:
        for report in reports:
            _print_json(asdict(report))
    else:
        fields = [k for k in asdict(reports[0]) if k != "retriever"]
        print(f"{'retriever':10} " + " ".join(f"{k:>19}" for k in fields))
        for report in reports:
            row = asdict(report)
            print(f"{report.retriever:10} " + " ".join(f"{str(row[k]):>19}" for k in fields))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hoidap",
        description="Vietnamese news question answering with cited evidence.",
        epilog='Example: hoidap ingest ../shared/seeds && hoidap ask "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?"',
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    def add(name: str, help_: str, example: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_, epilog=f"Example:\n  {example}",
                            formatter_class=fmt)
        sp.add_argument("--index", help="index directory (default: $HOIDAP_INDEX or the per-user data dir)")
        sp.add_argument("--store", help="postgresql://... : use this PostgreSQL store instead of the embedded "
                        "one (default: $HOIDAP_STORE; several hosts = read replicas)")
        return sp

    sp = add("ingest", "Read .txt/.html/.pdf/.docx/.jsonl files or folders, web pages, RSS/Atom feeds "
             "and sitemaps (URLs) into the index.",
             "hoidap ingest ../shared/seeds https://vnexpress.net/rss/tin-moi-nhat.rss --index my-index")
    sp.add_argument("paths", nargs="+", help="files or folders (recursive), or http(s) URLs of pages, "
                    "feeds or sitemaps")
    sp.add_argument("--follow", action="store_true",
                    help="for a feed or sitemap polled before: fetch only its new items (an unchanged feed "
                         "costs one conditional GET); run it again, e.g. from cron, to keep following")
    sp.add_argument("--links", action="store_true",
                    help="a listing page's URL (homepage, category page; refused otherwise): fetch the "
                         "articles it links to on its own host, like a feed's items (with --follow: only new ones)")
    sp.add_argument("--json", action="store_true", help="print the report as one JSON object")
    sp.add_argument("--max-file-mb", type=float, help="refuse files larger than this (default 16)")
    sp.add_argument("--workers", type=int, help="processes that clean and normalise articles (default 1)")
    sp.add_argument("--engine", choices=("local", "spark"), default="local",
                    help="spark: run the ingest as an Apache Spark job over JSONL or Parquet files "
                         "(pip install 'hoidap[spark]'), loading with COPY into --store or into --index")
    sp.add_argument("--spark-master", default="local[2,4]",
                    help="Spark master URL (default local[2,4]: 2 cores, a task tried up to 4 times)")
    sp.add_argument("--partitions", type=int, help="Spark partitions (default: Spark's parallelism)")
    sp.add_argument("--dense", action="store_true",
                    help="also compute sentence vectors for --retriever dense/hybrid (pip install 'hoidap[dense]'; "
                         "~12-30 sentences/s per core, resumable: run again to finish; with --engine spark, "
                         "on the executors, stored with their articles)")
    sp.set_defaults(func=cmd_ingest)

    sp = add("docs", "List the indexed documents.", "hoidap docs --json")
    sp.add_argument("--json", action="store_true", help="one JSON object per line")
    sp.set_defaults(func=cmd_docs)

    sp = add("search", "The sentences that best match a query (what ask answers from), best first.",
             'hoidap search "quan hệ ngoại giao" -k 5 --json')
    sp.add_argument("query")
    sp.add_argument("-k", type=int, default=10, help="how many sentences (default 10)")
    sp.add_argument("--json", action="store_true", help="one JSON object per sentence")
    _add_filter_flags(sp)
    sp.set_defaults(func=cmd_search)

    sp = add("export", "Write every article with its metadata: JSON Lines that 'hoidap ingest' reads back "
             "into the same articles, or CSV (metadata and clean text) for a spreadsheet.",
             "hoidap export > articles.jsonl && hoidap ingest articles.jsonl --index copy")
    sp.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="jsonl (default) or csv")
    sp.set_defaults(func=cmd_export)

    sp = add("stats", "What the collection holds: documents, sentences, outlets, date range, index size.",
             "hoidap stats --json")
    sp.add_argument("--json", action="store_true", help="one JSON object")
    sp.set_defaults(func=cmd_stats)

    sp = add("rm", "Delete documents: they are no longer cited (exit code 1 if an id is not in the index).",
             "hoidap rm 3f2a... 9c1b...")
    sp.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    sp.add_argument("--json", action="store_true", help="one JSON object: deleted, unknown")
    sp.set_defaults(func=cmd_rm)

    sp = add("show", "Show one document: metadata, original and cleaned text.", "hoidap show 3f2a... --json")
    sp.add_argument("doc_id")
    sp.add_argument("--json", action="store_true", help="one JSON object")
    sp.set_defaults(func=cmd_show)

    sp = add("ask", "Answer questions from the indexed articles, with cited sentences.",
             'hoidap ask "Việt Nam đã nhận được bao nhiêu liều vắc xin?" --json')
    sp.add_argument("questions", nargs="*", help='questions; "[question] q1?,q2?" gives several')
    sp.add_argument("--doc-questions", action="store_true",
                    help="also answer every question found in the documents' [question] lines")
    sp.add_argument("--json", action="store_true", help="one JSON object per question")
    sp.add_argument("--retriever", choices=RETRIEVERS,
                    help="bm25 (default), or with vectors from 'ingest --dense': dense or hybrid")
    sp.add_argument("--reader", choices=READERS,
                    help="the short answer by the trained reader model (default) or by rules")
    sp.add_argument("--read-sentences", type=int, metavar="N",
                    help="the ranker's best sentences the reader reads (default 3; 1 or 2 are faster, slightly worse)")
    _add_filter_flags(sp)
    sp.set_defaults(func=cmd_ask)

    sp = add("brief", "A cited extractive briefing of the collection, of some documents, or of the "
             "articles matching a query: key sentences (near-duplicates merged, every source cited), "
             "figures, entities and where sources disagree.",
             'hoidap brief --query "quan hệ thương mại" --max-sentences 5 --json')
    sp.add_argument("--query", help="brief only the articles matching this query")
    sp.add_argument("--docs", help="brief only these documents: DOC_ID,DOC_ID,...")
    sp.add_argument("--max-sentences", type=int, help="at most N sentences (default 8 without --max-words)")
    sp.add_argument("--max-words", type=int,
                    help="stop once N syllables are reached (the sentence that reaches N is kept whole)")
    sp.add_argument("--json", action="store_true",
                    help="one JSON object: sentences, figures, entities, conflicts")
    _add_filter_flags(sp, docs=False)
    sp.set_defaults(func=cmd_brief)

    sp = add("facts", "Every figure (value, range, unit, what it counts, date) and entity of the "
             "articles, with citations, and figures about the same quantity compared across sources.",
             "hoidap facts --json --conflicts")
    sp.add_argument("--docs", help="only these documents: DOC_ID,DOC_ID,...")
    sp.add_argument("--conflicts", action="store_true",
                    help="only the cross-source comparisons (agree / compatible / conflict)")
    sp.add_argument("--json", action="store_true", help="one JSON object: figures, entities, conflicts")
    _add_filter_flags(sp, docs=False)
    sp.set_defaults(func=cmd_facts)

    sp = add("serve", "Serve the HTTP API (OpenAPI at /docs) and the web page at / (FastAPI on uvicorn).",
             "hoidap serve --index my-index --port 8000   # then open http://127.0.0.1:8000/")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    sp.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sp.add_argument("--readers", type=int, help="processes answering questions (default: one per CPU core, at most 4)")
    sp.add_argument("--read-sentences", type=int, metavar="N",
                    help="the ranker's best sentences the reader reads (default 3; 2 or 1 answer more questions a "
                         "second, slightly less well)")
    sp.add_argument("--latency-budget", type=float, metavar="MS",
                    help="while questions queue, read fewer sentences so that a question's wait plus its reading "
                         "stays within MS milliseconds (default 400; 0: always read --read-sentences)")
    sp.add_argument("--reader-niceness", type=int, metavar="N",
                    help="CPU niceness of the processes answering questions (default 2, below the upload "
                         "process, so uploads get more of the CPU while questions are asked; 0 on a machine "
                         "shared with other busy programs, which would otherwise get the CPU before the readers)")
    sp.add_argument("--no-access-log", action="store_true", help="do not log each request")
    sp.add_argument("--token-file", help="file holding the API token (default: $HOIDAP_TOKEN); needed to listen "
                                         "beyond 127.0.0.1; clients send 'Authorization: Bearer TOKEN'")
    sp.add_argument("--read-only", action="store_true", help="answer questions only: uploads are refused (403)")
    sp.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                    help="let web pages from this origin call the API (repeatable; default: none)")
    sp.set_defaults(func=cmd_serve)

    ev = sub.add_parser("eval", help="Evaluate on a dataset.", description="Evaluate on a dataset.")
    evsub = ev.add_subparsers(dest="dataset", required=True)
    sp = evsub.add_parser(
        "squad", help="Extractive QA on a SQuAD-format file (open-collection setting).",
        description="Ingest every context as a document, ask every question of the whole collection, "
                    "print EM, F1, evidence@1/@5, abstention accuracy and seconds.",
        epilog="Examples:\n  hoidap eval squad ../shared/eval/vinewsqa_dev.json --json\n"
               "  hoidap eval squad ../shared/eval/vinewsqa_dev.json --retriever bm25 dense hybrid --index eval-idx\n"
               "  hoidap eval squad ../shared/eval/viquad1_dev.json --fold B --unmarked\n"
               "  hoidap eval squad ../shared/eval/vinewsqa_dev.json --unmarked 0.5",
        formatter_class=fmt,
    )
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true", help="one JSON object per retriever (a line each)")
    sp.add_argument("--limit", type=int, help="only the first N questions")
    sp.add_argument("--retriever", nargs="+", choices=RETRIEVERS, default=["bm25"],
                    help="one row per retriever, on one index (dense/hybrid: pip install 'hoidap[dense]')")
    sp.add_argument("--reader", choices=READERS,
                    help="the short answer by the trained reader model (default) or by rules")
    sp.add_argument("--index", help="build the evaluation index here, or reuse it (keeps the vectors; "
                                    "default: a temporary one)")
    sp.add_argument("--min-confidence", type=float,
                    help="answer only from this confidence on (default: Settings.min_confidence, the trained threshold)")
    sp.add_argument("--fold", choices=["A", "B"],
                    help="only this fold's questions (articles split by crc32 of the title); the fold the "
                         "shipped reader was trained on is always left out")
    sp.add_argument("--unmarked", type=float, nargs="?", const=1.0, default=0.0, metavar="SHARE",
                    help="ask every question with its diacritics stripped (typed without a Vietnamese keyboard); "
                         "with SHARE, each syllable's with that probability (0.5: typed in a hurry)")
    sp.set_defaults(func=cmd_eval)
    return p


def _configure_logging(verbose: bool) -> None:
    """hoidap's warnings always reach stderr; other libraries' (trafilatura's ERROR lines about
    a page it could not parse, say) only with ``--verbose``: hoidap reports each failed file itself."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:
        logging.getLogger().setLevel(logging.CRITICAL + 1)  # the libraries' loggers inherit this
        logging.getLogger("hoidap").setLevel(logging.WARNING)  # propagates to the root's handler


def main(argv: Sequence[str] | None = None) -> int:
    """Exit codes: 0 success, 1 an error or some input failed, 2 bad usage."""
    args = build_parser().parse_args(argv)  # exits 2 on a usage error
    _configure_logging(args.verbose)
    try:
        return int(args.func(args))
    except UsageError as e:
        print(f"hoidap: error: {e}", file=sys.stderr)
        return 2
    except HoidapError as e:
        print(f"hoidap: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hoidap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`hoidap ask ... | head`): stop quietly. Python would print
        # a traceback when flushing stdout at exit, so stdout is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
