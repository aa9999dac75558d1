"""Evaluation on SQuAD-format files in the open-collection setting.

All contexts are ingested together as documents; every question is asked of
the whole collection. Scores follow the Vietnamese QA convention: EM and F1 on
syllables after lower-casing and removing punctuation, best over the
reference answers (Rajpurkar et al. 2016, as in the official SQuAD script).

Only held-out questions are scored: when the shipped reader's manifest says it was trained on a
fold of this file (``trained_folds``: file name -> "A"), that fold's questions are left out and
counted in ``excluded`` (folds split articles by title, see ``title_fold``). All contexts stay in
the collection either way, as distractors.
"""

from __future__ import annotations

import json
import random
import re
import string
import tempfile
import time
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hoidap.ingest.prepare import prepare
from hoidap.models import RawDocument
from hoidap.settings import Settings
from hoidap.text.normalize import strip_diacritics

if TYPE_CHECKING:
    from hoidap.engine import Engine

_PUNCT = set(string.punctuation) | set("“”‘’«»…–—")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class SquadReport:
    questions: int
    em: float
    f1: float
    evidence_at_1: float
    evidence_at_5: float
    abstention_accuracy: float | None
    seconds: float  # asking only (the shared ingest is not counted)
    retriever: str = "bm25"
    excluded: int = 0  # questions left out: the reader was trained on their article (or --fold)


def title_fold(title: str) -> str:
    """The cross-validation fold of an article: "A" when crc32 of its UTF-8 title is even, else
    "B" (the rule ``scripts/train_reader.py`` trains by, so the two can never disagree)."""
    return "A" if zlib.crc32(title.encode("utf-8")) % 2 == 0 else "B"


def trained_fold(path: Path) -> str | None:
    """The fold of ``path`` the shipped reader was trained on, from its manifest (None: none)."""
    from hoidap.qa.reader import model_folder  # local: keeps evaluate light for the CLI

    manifest = model_folder() / "manifest.json"
    if not manifest.exists():
        return None
    folds = json.loads(manifest.read_text(encoding="utf-8")).get("trained_folds", {})
    fold = folds.get(path.name)
    return str(fold) if fold else None


def normalize_answer(text: str) -> list[str]:
    """Syllables of an answer: NFC, lower case, punctuation removed."""
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(" " if c in _PUNCT else c for c in text)
    return _SPACE_RE.sub(" ", text).split()


def roc_auc(higher: Sequence[float], lower: Sequence[float]) -> float | None:
    """P(a value of ``higher`` > one of ``lower``), ties counting half: the ROC AUC of a score
    meant to be higher for the first kind (Mann-Whitney); 0.5 is chance, None without both."""
    if not higher or not lower:
        return None
    ranked = sorted(lower)
    wins = sum(bisect_left(ranked, h) + 0.5 * (bisect_right(ranked, h) - bisect_left(ranked, h)) for h in higher)
    return round(wins / (len(higher) * len(lower)), 4)


def exact_match(pred: str, gold: str) -> float:
    return float(normalize_answer(pred) == normalize_answer(gold))


def f1_score(pred: str, gold: str) -> float:
    """Token-bag F1 (SQuAD v1.1 evaluation script)."""
    p, g = normalize_answer(pred), normalize_answer(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g:
        return float(p == g)
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def load_squad(path: Path) -> tuple[list[RawDocument], list[dict]]:
    """Documents (one per context) and questions with their gold context's source."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs: list[RawDocument] = []
    questions: list[dict] = []
    for ai, art in enumerate(data):
        for pi, para in enumerate(art["paragraphs"]):
            source = f"{path.name}#{ai}.{pi}"
            docs.append(RawDocument(source=source, text=para["context"], title=art.get("title")))
            for qa in para["qas"]:
                questions.append({
                    "question": qa["question"],
                    "answers": [a["text"] for a in qa.get("answers", [])],
                    "impossible": bool(qa.get("is_impossible", False)),
                    "source": source,
                    "fold": title_fold(art.get("title") or ""),
                })
    return docs, questions


def partly_unmarked(question: str, share: float) -> str:
    """``question`` with each syllable's diacritics stripped with probability ``share`` (all of
    them at 1), drawn from a generator seeded by crc32 of the question: the same every run."""
    if share >= 1:
        return strip_diacritics(question)
    draw = random.Random(zlib.crc32(question.encode("utf-8")))
    return re.sub(r"\w+", lambda m: strip_diacritics(m.group()) if draw.random() < share else m.group(), question)


def squad(path: Path, settings: Settings | None = None, limit: int | None = None,
          progress: Callable[[int, int], None] | None = None, fold: str | None = None,
          unmarked: float = 0.0) -> SquadReport:
    """Score ``path`` (SQuAD v1.1/v2.0 JSON) in the open-collection setting."""
    base = settings or Settings()
    return compare(path, base, (base.retriever,), limit=limit, progress=progress, fold=fold,
                   unmarked=unmarked)[0]


def compare(path: Path, settings: Settings, retrievers: Sequence[str], index_dir: Path | None = None,
            limit: int | None = None, progress: Callable[[int, int], None] | None = None,
            fold: str | None = None, unmarked: float = 0.0) -> list[SquadReport]:
    """Score ``path`` once per retriever, on one index (built in ``index_dir``, or a temporary one).

    An existing ``index_dir`` is reused: documents already in it are skipped and
    sentence vectors already computed are kept, so a dense run is paid once. ``fold`` ("A"/"B")
    scores only that fold's questions; the fold the shipped reader trained on is never scored.
    ``unmarked``: the share of each question's syllables asked with their diacritics stripped
    (``partly_unmarked``): 1 (or True), as typed without a Vietnamese keyboard; 0.5, as typed in a
    hurry. The documents keep theirs.
    """
    from hoidap.engine import (
        Engine,  # local: evaluate is imported by the CLI before any index exists
    )

    docs, questions = load_squad(path)
    trained = trained_fold(path)
    kept = [q for q in questions if q["fold"] != trained and (fold is None or q["fold"] == fold)]
    excluded = len(questions) - len(kept)
    questions = kept
    if limit:
        questions = questions[:limit]
    if unmarked:
        questions = [{**q, "question": partly_unmarked(q["question"], unmarked)} for q in questions]
    gold_doc = {}
    for d in docs:
        try:
            gold_doc[d.source] = prepare(d).article.doc_id
        except Exception:  # a context cleaning drops entirely can never be cited
            gold_doc[d.source] = ""
    reports = []
    with tempfile.TemporaryDirectory(prefix="hoidap-eval-") as tmp:
        root = index_dir or Path(tmp)
        embed = any(r != "bm25" for r in retrievers)
        with Engine(settings=settings.with_(index_dir=root, retriever="bm25", embed=embed)) as engine:
            engine.ingest_documents(docs)
        for retriever in retrievers:
            started = time.perf_counter()
            with Engine(settings=settings.with_(index_dir=root, retriever=retriever, embed=False)) as engine:
                scores = _score(engine, questions, gold_doc, progress)
            reports.append(SquadReport(**scores, seconds=round(time.perf_counter() - started, 2),
                                       retriever=retriever, excluded=excluded))
    return reports


def _score(engine: Engine, questions: list[dict], gold_doc: dict[str, str],
           progress: Callable[[int, int], None] | None) -> dict:
    em = f1 = ev1 = ev5 = 0.0
    n_answerable = n_impossible = abstained_right = 0
    for i, q in enumerate(questions):
        ans = engine.ask(q["question"])
        cited = [c.doc_id for c in ans.citations]
        first = {cited[0], *(r.doc_id for r in ans.citations[0].also)} if cited else set()
        top5 = set(cited[:5]) | {r.doc_id for c in ans.citations[:5] for r in c.also}
        if q["impossible"]:
            n_impossible += 1
            abstained_right += ans.answer is None
        else:
            n_answerable += 1
            pred = ans.answer or ""
            em += max(exact_match(pred, g) for g in q["answers"])
            f1 += max(f1_score(pred, g) for g in q["answers"])
            ev1 += gold_doc[q["source"]] in first
            ev5 += gold_doc[q["source"]] in top5
        if progress:
            progress(i + 1, len(questions))
    n = max(n_answerable, 1)
    return {
        "questions": len(questions),
        "em": round(em / n, 4),
        "f1": round(f1 / n, 4),
        "evidence_at_1": round(ev1 / n, 4),
        "evidence_at_5": round(ev5 / n, 4),
        "abstention_accuracy": round(abstained_right / n_impossible, 4) if n_impossible else None,
    }
