"""Every JSON shape hoidap prints: the CLI's ``--json``, the HTTP API and the web page
read the same objects, built here from the engine's records (``hoidap.models``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from hoidap.models import Article, Briefing, Conflict, DocumentInfo, Entity, Figure, IngestReport


def plain(obj: Any) -> Any:
    """Dataclasses (the engine's records), lists and dicts of them as plain JSON values."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, list | tuple):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    return obj


def document_info(info: DocumentInfo | Article) -> dict[str, Any]:
    """A document's metadata: one line of ``hoidap docs --json``, an item of ``GET /api/docs``."""
    return {"doc_id": info.doc_id, "source": info.source, "title": info.title, "date": info.date,
            "outlet": info.outlet, "n_sentences": info.n_sentences, "questions": list(info.questions)}


def document(art: Article) -> dict[str, Any]:
    """``hoidap show --json``: the metadata, credits, and the text as read and as cleaned."""
    return {**document_info(art), "credits": list(art.credits), "original_text": art.original_text,
            "clean_text": art.clean_text}


def document_with_sentences(art: Article) -> dict[str, Any]:
    """``GET /api/docs/{id}``: ``document`` plus each sentence's offsets into ``original_text``."""
    return {**document(art),
            "sentences": [{"index": s.index, "start": s.start, "end": s.end} for s in art.sentences]}


def exported(art: Article) -> dict[str, Any]:
    """One line of ``hoidap export``: what ``hoidap ingest`` reads back into the same article
    (``text`` is the text as first read; ``doc_id`` and ``clean_text`` are there for other tools
    and ignored by ingest)."""
    return {"doc_id": art.doc_id, "source": art.source, "title": art.title, "date": art.date,
            "outlet": art.outlet, "text": art.original_text, "clean_text": art.clean_text}


# The columns of ``hoidap export --format csv`` (a spreadsheet's view: no original text).
CSV_COLUMNS = ("doc_id", "source", "title", "date", "outlet", "n_sentences", "clean_text")


def csv_row(art: Article) -> list[Any]:
    return [art.doc_id, art.source, art.title or "", art.date or "", art.outlet or "", art.n_sentences,
            art.clean_text]


def ingest_report(report: IngestReport) -> dict[str, Any]:
    """``hoidap ingest --json``: what was ingested, skipped as duplicates, failed, and notes."""
    return asdict(report)


def figure(f: Figure) -> dict[str, Any]:
    return {"value": f.value, "low": f.low, "high": f.high, "low_strict": f.low_strict,
            "high_strict": f.high_strict, "qualifier": f.qualifier, "unit": f.unit, "counts": f.counts,
            "date": f.date, "of": f.of, "measure": f.measure, "text": f.text, "doc_id": f.citation.doc_id, "start": f.start,
            "end": f.end, "citation": asdict(f.citation)}


def conflicts(items: Sequence[Conflict]) -> list[dict[str, Any]]:
    return [{"label": c.label, "quantity": c.quantity, "members": [figure(f) for f in c.members],
             "pairs": [{"a": i, "b": j, "verdict": v} for i, j, v in c.pairs]}
            for c in items]


def facts(figures: Sequence[Figure], entities: Sequence[Entity],
          conflict_items: Sequence[Conflict]) -> dict[str, Any]:
    """``hoidap facts --json`` and ``GET /api/facts``."""
    return {
        "figures": [figure(f) for f in figures],
        "entities": [{"name": e.name, "kind": e.kind, "title": e.title, "date": e.date,
                      "citations": [asdict(c) for c in e.citations]} for e in entities],
        "conflicts": conflicts(conflict_items),
    }


def briefing(b: Briefing) -> dict[str, Any]:
    """``hoidap brief --json`` and ``POST /api/brief``."""
    return {
        "query": b.query,
        "doc_ids": list(b.doc_ids),
        "sentences": [{"text": s.text, "date": s.date, "citations": [asdict(c) for c in s.citations]}
                      for s in b.sentences],
        **facts(b.figures, b.entities, b.conflicts),
    }
